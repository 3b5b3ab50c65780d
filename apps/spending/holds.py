"""Holds: a spend waiting for approval keeps its amount held; approval posts it, rejection releases it."""

import uuid

from django.utils import timezone

from apps.budgets.totals import BudgetTotals, lineage_of
from apps.controls.services import spend_tally_release
from apps.ledger.models import Transaction
from apps.ledger.services import Journal, journal_write
from apps.tenancy.models import Department

from .money_events import money_events_emit


def spend_totals(spend: Transaction) -> tuple[BudgetTotals, list[tuple], dict[uuid.UUID, str]]:
    """Lock the budget periods a spend counts in; returns them, the spend's keys nearest first, and
    the organization's department names."""
    tree = Department.objects.filter(organization_id=spend.organization_id).values_list("id", "parent_id", "name")
    parents = {department_id: parent_id for department_id, parent_id, _ in tree}
    lineage = lineage_of(spend.department_id, parents)
    totals = BudgetTotals.lock(
        organization_id=spend.organization_id, department_ids=lineage, months=[spend.budget_month]
    )
    names = {department_id: name for department_id, _, name in tree}
    return totals, [(department_id, spend.budget_month) for department_id in lineage], names


def transaction_post_held(*, spend: Transaction) -> None:
    """Turn an approved spend's hold into spend and write its journal.

    Raises BudgetExceeded, changing nothing, if the spend no longer fits a period of its lineage
    (a limit lowered while it waited). The caller holds the organization's settlement lock in a
    SERIALIZABLE transaction and has the spend locked FOR UPDATE while it is `awaiting_approval`.
    """
    totals, keys, names = spend_totals(spend)
    totals.post_held(keys, spend.amount_minor, department_names=names, currency=spend.currency)
    now = timezone.now()
    journal_write(
        organization=spend.organization,
        journals=[
            Journal(
                transaction_id=spend.id,
                department_id=spend.department_id,
                amount_minor=spend.amount_minor,
                kind=spend.kind,
                employee_id=spend.employee_id,
                merchant=spend.merchant,
                category=spend.category,
            )
        ],
        now=now,
    )
    totals.write(now=now)
    spend.status = Transaction.Status.POSTED
    spend.processed_at = now
    spend.save(update_fields=["status", "processed_at"])
    money_events_emit(
        organization=spend.organization, spends=[(spend, spend.status, "")], totals=totals, occurred_at=now
    )


def transaction_release_hold(*, spend: Transaction, reason: str) -> None:
    """Release a waiting spend's hold and reject it with `reason`.

    The caller holds the organization's settlement lock in a SERIALIZABLE transaction and has the
    spend locked FOR UPDATE while it is `awaiting_approval`.
    """
    totals, keys, _ = spend_totals(spend)
    totals.release(keys, spend.amount_minor)
    now = timezone.now()
    totals.write(now=now)
    spend_tally_release(spend=spend)
    spend.status = Transaction.Status.REJECTED
    spend.rejection_reason = reason
    spend.processed_at = now
    spend.save(update_fields=["status", "rejection_reason", "processed_at"])
    money_events_emit(
        organization=spend.organization, spends=[(spend, spend.status, reason)], totals=totals, occurred_at=now
    )
