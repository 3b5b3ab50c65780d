import pytest
from django.utils import timezone

from apps.budgets.models import BudgetPeriod
from apps.budgets.selectors import budget_overview
from apps.tenancy.models import Role
from ledgerx.months import month_start
from tests.factories import DepartmentFactory, UserFactory


@pytest.mark.django_db
def test_budget_overview_is_the_department_tree_depth_first_with_this_months_budgets(tenant, other_tenant):
    platform = DepartmentFactory(organization=tenant.organization, name="Platform", parent=tenant.department)
    DepartmentFactory(organization=tenant.organization, name="Apps", parent=tenant.department)
    DepartmentFactory(organization=tenant.organization, name="Databases", parent=platform)
    DepartmentFactory(organization=tenant.organization, name="Sales", monthly_limit_minor=2_500_000)
    month = month_start(timezone.now(), "UTC")

    lines = budget_overview(user=tenant.finance, month=month)

    assert [(line.department.name, line.depth) for line in lines] == [
        ("Engineering", 0),
        ("Apps", 1),
        ("Platform", 1),
        ("Databases", 2),
        ("Sales", 0),
    ]
    assert lines[-1].period.limit_minor == 2_500_000
    assert lines[-1].period.spent_minor == 0


@pytest.mark.django_db
def test_an_employee_sees_the_budgets_of_their_department_and_its_ancestors(tenant):
    platform = DepartmentFactory(organization=tenant.organization, name="Platform", parent=tenant.department)
    DepartmentFactory(organization=tenant.organization, name="Sales")
    engineer = UserFactory(role=Role.EMPLOYEE, department=platform)

    lines = budget_overview(user=engineer, month=month_start(timezone.now(), "UTC"))

    assert [(line.department.name, line.depth) for line in lines] == [("Engineering", 0), ("Platform", 1)]


@pytest.mark.parametrize(
    ("limit_minor", "spent_minor", "percent"),
    [(5_000_000, 0, 0), (5_000_000, 600_000, 12), (5_000_000, 4_000_000, 80), (100, 150, 150), (0, 0, 0), (0, 1, 100)],
)
def test_used_percent(limit_minor, spent_minor, percent):
    assert BudgetPeriod(limit_minor=limit_minor, spent_minor=spent_minor).used_percent == percent
