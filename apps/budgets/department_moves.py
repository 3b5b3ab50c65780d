"""Moving a department in the tree, its budget with it.

Apart from `services` because it writes the tree through tenancy's services, which sit below the
ledger that `services` serves: only the API and the back office import it.
"""

import uuid

from django.utils import timezone

from apps.tenancy import services as tenancy_services
from apps.tenancy.models import Department, User
from ledgerx.db import run_serializable
from ledgerx.months import month_text

from .locks import organization_settlement_lock
from .models import BudgetPeriod
from .services import closed_month_refused
from .totals import BudgetExceeded, BudgetTotals, lineage_of


def department_change(
    *,
    department: Department,
    name: str | None = None,
    parent_id: uuid.UUID | None = None,
    move: bool = False,
    actor: User | None,
) -> Department:
    """Rename a department or move it in the tree (`move=True`, `parent_id=None` for the root), its budget with it.

    A department's periods count its whole subtree's spend and holds. Moving it takes those totals,
    month by month, out of the ancestors it leaves and into the ones it joins, in the transaction that
    changes the tree, under the organization's settlement lock: no settlement sees the tree half moved.
    Refused with 409 (BudgetExceeded), changing nothing, where the money does not fit a new ancestor, and
    with 409 where its subtree's spend is in a closed month, whose budgets do not change.
    """
    if not move:
        return tenancy_services.department_update(department=department, name=name, actor=actor)

    def change() -> Department:
        old_parents = dict(
            Department.objects.filter(organization_id=department.organization_id).values_list("id", "parent_id")
        )
        moved = tenancy_services.department_update(
            department=Department.objects.get(id=department.id), name=name, parent_id=parent_id, move=True, actor=actor
        )
        new_parents = {**old_parents, moved.id: moved.parent_id}
        old_above = set(lineage_of(moved.id, old_parents)[1:])
        new_above = set(lineage_of(moved.id, new_parents)[1:])
        _budgets_follow_move(moved, leaving=old_above - new_above, joining=new_above - old_above)
        return moved

    with organization_settlement_lock(department.organization_id), closed_month_refused():
        return run_serializable(change)


def _budgets_follow_move(department: Department, *, leaving: set[uuid.UUID], joining: set[uuid.UUID]) -> None:
    used = {
        month: (spent, held)
        for month, spent, held in BudgetPeriod.objects.filter(department=department)
        .exclude(spent_minor=0, held_minor=0)
        .values_list("month", "spent_minor", "held_minor")
    }
    if not used or not (leaving or joining):
        return
    totals = BudgetTotals.lock(
        organization_id=department.organization_id, department_ids=leaving | joining, months=used.keys()
    )
    names = dict(Department.objects.filter(id__in=joining).values_list("id", "name"))
    currency = department.organization.currency
    for month, (spent, held) in sorted(used.items()):
        leaving_keys = [(department_id, month) for department_id in leaving]
        joining_keys = [(department_id, month) for department_id in joining]
        totals.unpost(leaving_keys, spent)
        totals.release(leaving_keys, held)
        failing = totals.over_limit(joining_keys, spent + held)
        if failing is not None:
            refusal = totals.refusal(failing, amount=spent + held, department_name=names[failing[0]], currency=currency)
            raise BudgetExceeded(
                f"'{department.name}' cannot move there: its {month_text(month)} spend would not fit. "
                f"{refusal.reason}",
                key=failing,
            )
        totals.post(joining_keys, spent)
        totals.hold(joining_keys, held)
    totals.write(now=timezone.now())
