"""Spend across two tenants, made through the real services at chosen moments.

Today is Thursday 2026-05-14, 11:00 in New York (TechCorp's timezone). The data set is built once
per module and committed, because settlement takes an advisory lock that must be outside any
transaction; each test then reads it inside its own rolled-back transaction, and the module's
end flushes the database as transactional tests do.
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from unittest.mock import patch

import pytest
from django.core.management import call_command

from apps.ledger.models import Transaction
from apps.spending import services as spending_services
from apps.tenancy.models import Department, Organization, Role, User
from tests.factories import DepartmentFactory, OrganizationFactory, UserFactory

NOW = datetime(2026, 5, 14, 15, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class Org:
    organization: Organization
    departments: dict[str, Department] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    spends: dict[str, Transaction] = field(default_factory=dict)


def spend_at(user: User, amount: str, merchant: str, category: str, when: datetime) -> Transaction:
    """Submit a spend through the real service as if it were `when` (the service stamps it with now)."""
    with patch("django.utils.timezone.now", return_value=when):
        transaction, _ = spending_services.transaction_submit(
            user=user,
            idempotency_key=uuid.uuid4().hex,
            amount=amount,
            currency=user.organization.currency,
            merchant=merchant,
            category=category,
        )
    return transaction


def _build_techcorp() -> Org:
    org = Org(OrganizationFactory(name="TechCorp", timezone="America/New_York"))
    engineering = DepartmentFactory(organization=org.organization, name="Engineering", monthly_limit_minor=5_000_000)
    org.departments = {
        "Engineering": engineering,
        "Platform": DepartmentFactory(
            organization=org.organization, name="Platform", parent=engineering, monthly_limit_minor=1_000_000
        ),
        "Sales": DepartmentFactory(organization=org.organization, name="Sales", monthly_limit_minor=100_000),
        "Customer Success": DepartmentFactory(
            organization=org.organization, name="Customer Success", monthly_limit_minor=500_000
        ),
    }
    for name, department in (
        ("alice", "Engineering"),
        ("bob", "Engineering"),
        ("carol", "Sales"),
        ("erin", "Platform"),
    ):
        org.users[name] = UserFactory(
            email=f"{name}@techcorp.test", role=Role.EMPLOYEE, department=org.departments[department]
        )
    org.users["finance"] = UserFactory(
        email="finance@techcorp.test", role=Role.FINANCE_MANAGER, organization=org.organization
    )
    org.users["admin"] = UserFactory(email="admin@techcorp.test", role=Role.ORG_ADMIN, organization=org.organization)
    users = org.users
    for key, user, amount, merchant, category, when in (
        ("delta_may", users["alice"], "1200.00", "Delta Air Lines", "travel", "2026-05-04T14:00"),
        ("uber", users["alice"], "89.99", "Uber", "travel", "2026-05-12T23:30"),  # 19:30 on the 12th in New York
        ("dell", users["bob"], "2500.00", "Dell", "equipment", "2026-05-06T16:00"),
        ("marriott", users["carol"], "640.00", "Marriott", "travel", "2026-05-13T18:00"),
        ("starbucks", users["carol"], "45.50", "Starbucks", "meals", "2026-05-14T12:00"),
        ("zoom", users["carol"], "200.00", "Zoom", "software", "2026-05-08T15:00"),
        ("aws", users["erin"], "300.00", "AWS", "software", "2026-05-10T15:00"),
        ("lyft", users["alice"], "75.00", "Lyft", "travel", "2026-05-01T02:00"),  # still 30 April in New York
        ("salesforce", users["carol"], "600.00", "Salesforce", "software", "2026-04-15T15:00"),
        ("delta_april", users["alice"], "410.00", "Delta Air Lines", "travel", "2026-04-20T15:00"),
        ("apple", users["bob"], "5200.00", "Apple", "equipment", "2026-02-10T15:00"),
        ("delta_march", users["carol"], "980.00", "Delta Air Lines", "travel", "2026-03-03T15:00"),
        ("apple_too_big", users["bob"], "60000.00", "Apple", "equipment", "2026-05-07T15:00"),  # over the budget
        ("hilton", users["alice"], "150.00", "Hilton", "travel", "2026-05-05T15:00"),  # reversed below
    ):
        org.spends[key] = spend_at(user, amount, merchant, category, at(when))
    spending_services.settlement_run(organization_id=org.organization.id)
    with patch("django.utils.timezone.now", return_value=at("2026-05-09T15:00")):
        spending_services.transaction_reverse(
            actor=users["finance"], original_id=org.spends["hilton"].id, reason="Duplicate", idempotency_key="rev-1"
        )
    org.spends["hertz"] = spend_at(users["carol"], "120.00", "Hertz", "travel", at("2026-05-14T13:00"))  # pending
    for spend in org.spends.values():
        spend.refresh_from_db()
    return org


def _build_globex() -> Org:
    org = Org(OrganizationFactory(name="Globex", timezone="Europe/London"))
    org.departments = {
        "Research": DepartmentFactory(organization=org.organization, name="Research", monthly_limit_minor=5_000_000),
        # Same name as TechCorp's department, to prove names never reach across tenants.
        "Sales": DepartmentFactory(organization=org.organization, name="Sales", monthly_limit_minor=1_000_000),
    }
    org.users["dave"] = UserFactory(
        email="dave@globex.test", role=Role.EMPLOYEE, department=org.departments["Research"]
    )
    org.users["frank"] = UserFactory(email="frank@globex.test", role=Role.EMPLOYEE, department=org.departments["Sales"])
    org.users["finance"] = UserFactory(
        email="finance@globex.test", role=Role.FINANCE_MANAGER, organization=org.organization
    )
    org.spends["secret"] = spend_at(
        org.users["dave"], "7777.00", "Globex Secret Supplies", "travel", at("2026-05-10T10:00")
    )
    org.spends["retreat"] = spend_at(
        org.users["frank"], "9999.00", "Globex Sales Retreat", "travel", at("2026-05-11T10:00")
    )
    spending_services.settlement_run(organization_id=org.organization.id)
    for spend in org.spends.values():
        spend.refresh_from_db()
    return org


@dataclass
class World:
    techcorp: Org
    globex: Org


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        built = World(techcorp=_build_techcorp(), globex=_build_globex())
        try:
            yield built
        finally:
            call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def techcorp(world, db):
    return world.techcorp


@pytest.fixture
def globex(world, db):
    return world.globex
