"""Money events: the webhook events a change of spend writes, in the transaction of the change."""

import uuid
from datetime import datetime
from typing import Any

from apps.budgets.totals import BudgetTotals
from apps.ledger.models import Transaction
from apps.tenancy.models import Department, Organization, User
from apps.webhooks.events import budget_threshold_payload, thresholds_crossed, transaction_payload
from apps.webhooks.models import EventType
from apps.webhooks.services import outbox_emit_many

_EVENT_OF_STATUS = {
    Transaction.Status.POSTED: EventType.TRANSACTION_POSTED,
    Transaction.Status.REJECTED: EventType.TRANSACTION_REJECTED,
    Transaction.Status.REVERSED: EventType.TRANSACTION_REVERSED,
    Transaction.Status.AWAITING_APPROVAL: EventType.APPROVAL_REQUESTED,
}
# A reimbursement claim's own events where its state says more than a spend's would; its approval request
# and reversal are a spend's.
_REIMBURSEMENT_EVENT_OF_STATUS = {
    **_EVENT_OF_STATUS,
    Transaction.Status.POSTED: EventType.REIMBURSEMENT_APPROVED,
    Transaction.Status.REJECTED: EventType.REIMBURSEMENT_REJECTED,
}


# A bill's likewise.
_BILL_EVENT_OF_STATUS = {
    **_EVENT_OF_STATUS,
    Transaction.Status.POSTED: EventType.BILL_APPROVED,
    Transaction.Status.REJECTED: EventType.BILL_REJECTED,
}
_EVENTS_OF_KIND = {
    Transaction.Kind.REIMBURSEMENT: _REIMBURSEMENT_EVENT_OF_STATUS,
    Transaction.Kind.BILL: _BILL_EVENT_OF_STATUS,
}


def _event_of(kind: str, status: str) -> EventType:
    return _EVENTS_OF_KIND.get(kind, _EVENT_OF_STATUS)[status]


def money_events_emit(
    *,
    organization: Organization,
    spends: list[tuple[Any, str, str]],
    totals: BudgetTotals,
    occurred_at: datetime,
    extra: dict | None = None,
    department_names: dict[uuid.UUID, str] | None = None,
) -> None:
    """Write webhook events in the transaction of the change: one per spend whose state moved, one per
    budget threshold (80%, 100% of the limit, counting holds) that the change crossed upwards.

    `spends` are (spend, new status, reason): a Transaction, or settlement's claimed row of its fields.

    `department_names` are the organization's, when the caller has read them already.
    """
    if department_names is None:
        department_names = dict(Department.objects.filter(organization=organization).values_list("id", "name"))
    occurred = occurred_at.isoformat()
    emails = dict(
        User.objects.of(organization)
        .filter(id__in={spend.employee_id for spend, _, _ in spends})
        .values_list("id", "email")
    )
    events = [
        (
            _event_of(spend.kind, status),
            {
                **transaction_payload(
                    transaction_id=spend.id,
                    status=status,
                    amount_minor=spend.amount_minor,
                    currency=organization.currency,
                    original_amount_minor=spend.original_amount_minor,
                    original_currency=spend.original_currency,
                    fx_rate=spend.fx_rate,
                    fx_rate_date=spend.fx_rate_date,
                    merchant=spend.merchant,
                    category=spend.category,
                    department_id=spend.department_id,
                    department_name=department_names[spend.department_id],
                    employee_id=spend.employee_id,
                    employee_email=emails[spend.employee_id],
                    rejection_reason=reason,
                    occurred_at=occurred,
                ),
                **(extra or {}),
            },
        )
        for spend, status, reason in spends
    ]
    used_after = totals.used_after()
    for (department_id, month), period in totals.periods.items():
        for threshold in thresholds_crossed(
            before_minor=period.spent_minor + period.held_minor,
            after_minor=used_after[(department_id, month)],
            limit_minor=period.limit_minor,
        ):
            events.append(
                (
                    EventType.BUDGET_THRESHOLD_CROSSED,
                    budget_threshold_payload(
                        department_id=department_id,
                        department_name=department_names[department_id],
                        month=month,
                        threshold_percent=threshold,
                        limit_minor=period.limit_minor,
                        spent_minor=used_after[(department_id, month)],
                        currency=organization.currency,
                        occurred_at=occurred,
                    ),
                )
            )
    outbox_emit_many(organization_id=organization.id, events=events)
