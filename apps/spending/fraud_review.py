"""Fraud review that acts: an alert resolved as fraud may also reverse its spend and freeze its spender.

Card programmes stop the money on a fraud verdict, and so does this. Resolving, reversing and freezing
are separate choices, each audited on its own (fraud_alert.resolved, transaction.reversed, user.frozen),
and made together in one transaction: a review happens whole or not at all, and a repeat finds the alert
resolved (409), so nothing is reversed twice. A review that reverses runs as every change of budget
money does, under the organization's settlement lock, SERIALIZABLE.
"""

import uuid
from dataclasses import dataclass

from django.db import transaction

from apps.budgets.locks import organization_settlement_lock
from apps.fraud import selectors as fraud_selectors
from apps.fraud import services as fraud_services
from apps.fraud.models import FraudAlert
from apps.ledger.models import Transaction
from apps.tenancy import services as tenancy_services
from apps.tenancy.models import User
from apps.tenancy.permissions import FINANCE_ROLES
from ledgerx.db import run_serializable
from ledgerx.errors import Conflict, Forbidden, InvalidInput, NotFound
from ledgerx.money import format_money

from .idempotency import fingerprint
from .reversal import transaction_reverse_locked


@dataclass(frozen=True)
class FraudReview:
    alert: FraudAlert
    reversal: Transaction | None  # the spend's reversal, made by this review or before it
    employee: User  # who made the spend, as the review left them


def fraud_alert_resolve(
    *,
    actor: User,
    alert_id: uuid.UUID,
    resolution: str,
    note: str = "",
    reverse_spend: bool = False,
    freeze_employee: bool = False,
) -> FraudReview:
    """Resolve an alert as legitimate or fraud; on a fraud verdict, optionally reverse its spend and
    freeze the employee who made it.

    - `reverse_spend`: a posted spend is reversed under the key `fraud-alert:<alert id>`; one already
      reversed stays as it is. A spend rejected (no money moved) or awaiting approval cannot be: 409.
    - `freeze_employee`: no spend of theirs is accepted or settled until an org admin lifts it
      (tenancy.user_freeze); an employee already frozen stays frozen as they were.

    Acting is for the organization's finance managers and org admins (403); system admins resolve any
    alert, without acting. Anything refused changes nothing.
    """
    acting = reverse_spend or freeze_employee
    if acting and resolution != FraudAlert.Resolution.FRAUD:
        chosen = {"reverse_spend": reverse_spend, "freeze_employee": freeze_employee}
        raise InvalidInput(
            "Only a fraud verdict reverses the spend or freezes the employee.",
            fields={name: ["Only with the resolution 'fraud'."] for name, value in chosen.items() if value},
        )
    if acting and actor.role not in FINANCE_ROLES:
        raise Forbidden("Only the organization's finance managers and org admins reverse spends or freeze employees.")
    alert = fraud_selectors.alerts_reviewable_by(actor=actor).filter(id=alert_id).first()
    if alert is None:
        raise NotFound("Alert not found.")

    def review() -> FraudReview:
        return _review(
            actor=actor,
            alert=alert,
            resolution=resolution,
            note=note,
            reverse_spend=reverse_spend,
            freeze_employee=freeze_employee,
        )

    if reverse_spend:
        with organization_settlement_lock(alert.organization_id):
            return run_serializable(review)
    with transaction.atomic():
        return review()


def _review(
    *, actor: User, alert: FraudAlert, resolution: str, note: str, reverse_spend: bool, freeze_employee: bool
) -> FraudReview:
    """Runs in one transaction; with `reverse_spend`, under the organization's settlement lock, SERIALIZABLE."""
    resolved = fraud_services.alert_resolve(actor=actor, alert_id=alert.id, resolution=resolution, note=note)
    spend = Transaction.objects.select_for_update().select_related("employee").get(id=resolved.transaction_id)
    reversal = Transaction.objects.filter(reversal_of=spend).first()
    if reverse_spend and reversal is None:
        if spend.status == Transaction.Status.AWAITING_APPROVAL:
            raise Conflict(
                "This spend is awaiting approval, not posted: there is nothing to reverse yet. Reject it at its "
                "approval; a frozen employee's spend cannot be approved."
            )
        reason = f"Fraud confirmed on alert {alert.id} ({alert.rule})."
        request = {"kind": "reversal", "user": actor.id, "original": spend.id, "reason": reason}
        key = f"fraud-alert:{alert.id}"
        if Transaction.objects.filter(organization_id=spend.organization_id, idempotency_key=key).exists():
            raise Conflict(f"The key {key} is taken by another transaction: reverse this spend on its own.")
        reversal = transaction_reverse_locked(
            actor=actor,
            original_id=spend.id,
            reason=reason,
            key=key,
            request_fingerprint=fingerprint(request),
        )
    employee = spend.employee
    if freeze_employee:
        employee = tenancy_services.user_freeze(
            actor=actor,
            user=employee,
            reason=(
                f"Fraud confirmed by {actor.email} on the {format_money(spend.amount_minor, spend.currency)} spend "
                f"at {spend.merchant} (alert {alert.id}, {alert.rule})."
            ),
        )
    return FraudReview(alert=resolved, reversal=reversal, employee=employee)
