import pytest

from apps.tenancy.models import Role
from tests.conftest import Tenant
from tests.factories import DepartmentFactory, OrganizationFactory, UserFactory


class EuroTenant(Tenant):
    """An organization keeping its books in EUR, as a SEPA payer does."""

    def __init__(self, name: str) -> None:
        self.organization = OrganizationFactory(name=name, currency="EUR")
        self.department = DepartmentFactory(
            organization=self.organization, name="Operations", monthly_limit_minor=5_000_000
        )
        self.employee = UserFactory(role=Role.EMPLOYEE, department=self.department)
        self.other_employee = UserFactory(role=Role.EMPLOYEE, department=self.department)
        self.finance = UserFactory(role=Role.FINANCE_MANAGER, organization=self.organization)
        self.admin = UserFactory(role=Role.ORG_ADMIN, organization=self.organization)


@pytest.fixture
def euro_tenant(db):
    return EuroTenant("Eurobolt")
