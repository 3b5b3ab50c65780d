"""Known spend for the finance dashboard, made through the real services on a travelling clock, in an
organization on Los Angeles time: October and November 2025, seen on 10 November at noon there.

    Company (limit 3,000)
      Engineering (limit 2,000)   Oct 2: 400 software   Nov 1 23:30 (Nov 2 in UTC): 300 software   Nov 3: 600 equipment
      Legal (limit 500)           nothing
      Sales (limit 250)           Oct 20: 200 travel    Nov 5: 250 travel (the whole limit)
"""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

from apps.tenancy.models import Department, Organization, Role, User
from tests.factories import DepartmentFactory, OrganizationFactory, UserFactory
from tests.spends import settle_all, spend_submit

ZONE = ZoneInfo("America/Los_Angeles")
# Noon on 10 November 2025 in Los Angeles: 20:00 UTC.
NOW = datetime(2025, 11, 10, 12, 0, tzinfo=ZONE)


def at(month: int, day: int, hour: int, minute: int = 0):
    """The clock at that moment of 2025 in Los Angeles, ticking from there."""
    return time_machine.travel(datetime(2025, month, day, hour, minute, tzinfo=ZONE), tick=True)


def seen_at(moment: datetime = NOW):
    return time_machine.travel(moment, tick=False)


@dataclass
class World:
    organization: Organization
    company: Department
    engineering: Department
    legal: Department
    sales: Department
    finance: User
    admin: User
    employee: User


def _spend(user: User, amount: str, category: str, merchant: str = "Vendor") -> None:
    spend_submit(user, amount, category=category, merchant=merchant)
    settle_all(user.organization)


def generate_world(name: str = "Pacific Corp") -> World:
    with at(10, 1, 9):
        organization = OrganizationFactory(name=name, timezone="America/Los_Angeles")
        company = DepartmentFactory(organization=organization, name="Company", monthly_limit_minor=300_000)
        engineering = DepartmentFactory(
            organization=organization, name="Engineering", monthly_limit_minor=200_000, parent=company
        )
        legal = DepartmentFactory(organization=organization, name="Legal", monthly_limit_minor=50_000, parent=company)
        sales = DepartmentFactory(organization=organization, name="Sales", monthly_limit_minor=25_000, parent=company)
        engineer = UserFactory(role=Role.EMPLOYEE, department=engineering)
        seller = UserFactory(role=Role.EMPLOYEE, department=sales)
        finance = UserFactory(role=Role.FINANCE_MANAGER, organization=organization)
        admin = UserFactory(role=Role.ORG_ADMIN, organization=organization)
    with at(10, 2, 10):
        _spend(engineer, "400.00", "software")
    with at(10, 20, 10):
        _spend(seller, "200.00", "travel")
    with at(11, 1, 23, 30):
        _spend(engineer, "300.00", "software")
    with at(11, 3, 10):
        _spend(engineer, "600.00", "equipment")
    with at(11, 5, 10):
        _spend(seller, "250.00", "travel")
    return World(organization, company, engineering, legal, sales, finance, admin, engineer)
