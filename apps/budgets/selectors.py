from dataclasses import dataclass
from datetime import date

from apps.tenancy.models import Department, User
from apps.tenancy.selectors import department_list_visible, department_tree

from .models import BudgetPeriod


def budget_period_for(*, department: Department, month: date) -> BudgetPeriod:
    """The period if it is open, else an unsaved one showing the standing limit and nothing spent."""
    return budget_periods_for(departments=[department], month=month)[department.id]


def budget_periods_for(*, departments: list[Department], month: date) -> dict:
    """Each department's period for the month, keyed by department id, in one query."""
    open_periods = {
        period.department_id: period for period in BudgetPeriod.objects.filter(department__in=departments, month=month)
    }
    return {
        department.id: open_periods.get(department.id)
        or BudgetPeriod(
            organization_id=department.organization_id,
            department=department,
            month=month,
            limit_minor=department.monthly_limit_minor,
            spent_minor=0,
        )
        for department in departments
    }


@dataclass(frozen=True)
class BudgetLine:
    department: Department
    depth: int
    period: BudgetPeriod


def budget_overview(*, user: User, month: date) -> list[BudgetLine]:
    """The month's budget of every department the user may see, as a tree (depth-first)."""
    tree = department_tree(departments=list(department_list_visible(user=user)))
    periods = budget_periods_for(departments=[department for department, _ in tree], month=month)
    return [BudgetLine(department=department, depth=depth, period=periods[department.id]) for department, depth in tree]
