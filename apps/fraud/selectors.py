import uuid
from datetime import datetime, timedelta

import numpy as np
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from apps.ledger.models import Transaction
from apps.tenancy.models import Organization, User
from apps.tenancy.permissions import FINANCE_ROLES

from .models import FraudAlert, FraudSettings, Rule, TransactionRisk

# Spends that went through: what an employee's habits and the velocity windows are learned from. A
# refused attempt moved no money, and a reversed spend was taken back (a fraud verdict reverses it).
ACCEPTED_STATUSES = (Transaction.Status.POSTED, Transaction.Status.AWAITING_APPROVAL)
# How many of the employee's latest spends say at what times of day they spend.
HOURS_HISTORY_SIZE = 200


def fraud_detail_visible(*, user: User) -> bool:
    """Whether the user may see which rules fired on a spend, their scores and details: finance only. The
    details name the thresholds, and an employee who read them could learn to stay under them."""
    return user.role in FINANCE_ROLES


def fraud_settings_for(*, organization: Organization) -> FraudSettings:
    """The organization's thresholds; the defaults (unsaved) until someone edits them."""
    return FraudSettings.objects.filter(organization=organization).first() or FraudSettings(organization=organization)


def _spends_before(spend: Transaction) -> QuerySet[Transaction]:
    """The organization's spends made before this one (ties broken by id), whatever their status."""
    return (
        Transaction.objects.of(spend.organization)
        .filter(kind=Transaction.Kind.SPEND)
        .filter(Q(created_at__lt=spend.created_at) | Q(created_at=spend.created_at, id__lt=spend.id))
    )


def recent_log_amounts(*, spend: Transaction, by: str, size: int) -> np.ndarray:
    """Log amounts of the last `size` accepted spends before this one, by the same employee
    (`by="employee"`) or in the same department and category (`by="department_category"`)."""
    history = _spends_before(spend).filter(status__in=ACCEPTED_STATUSES)
    if by == "employee":
        history = history.filter(employee_id=spend.employee_id)
    else:
        history = history.filter(department_id=spend.department_id, category=spend.category)
    amounts = list(history.order_by("-created_at", "-id").values_list("amount_minor", flat=True)[:size])
    return np.log(np.array(amounts, dtype=np.float64))


def recent_spend_times(*, spend: Transaction, size: int = HOURS_HISTORY_SIZE) -> list[datetime]:
    """When the employee's last `size` accepted spends before this one were made, newest first.

    A spend flagged for its hour is left out unless a reviewer called it legitimate, so one night-time
    spend does not make the next one usual.
    """
    flagged_hour = FraudAlert.objects.filter(transaction_id=OuterRef("pk"), rule=Rule.UNUSUAL_HOURS).exclude(
        resolution=FraudAlert.Resolution.LEGITIMATE
    )
    return list(
        _spends_before(spend)
        .filter(employee_id=spend.employee_id, status__in=ACCEPTED_STATUSES)
        .filter(~Exists(flagged_hour))
        .order_by("-created_at", "-id")
        .values_list("created_at", flat=True)[:size]
    )


def duplicate_charge_times(*, spend: Transaction, window_seconds: int) -> list[datetime]:
    """When the same employee was charged the same amount by the same merchant within the window before."""
    return list(
        _spends_before(spend)
        .filter(
            employee_id=spend.employee_id,
            amount_minor=spend.amount_minor,
            merchant__iexact=spend.merchant,
            created_at__gte=spend.created_at - timedelta(seconds=window_seconds),
        )
        .exclude(status=Transaction.Status.REJECTED)
        .values_list("created_at", flat=True)
    )


def structuring_band_amounts(*, spend: Transaction, low_minor: int, high_minor: int, window_hours: int) -> list[int]:
    """The employee's spend amounts in [low, high) within the window up to this spend, this one included.

    Refused attempts count: trying to stay under a threshold is the pattern, whether or not it went through.
    """
    earlier = _spends_before(spend).filter(
        employee_id=spend.employee_id,
        amount_minor__gte=low_minor,
        amount_minor__lt=high_minor,
        created_at__gt=spend.created_at - timedelta(hours=window_hours),
    )
    amounts = list(earlier.values_list("amount_minor", flat=True))
    if low_minor <= spend.amount_minor < high_minor:
        amounts.append(spend.amount_minor)
    return amounts


def unscored_spend_ids(
    *, organization_id: uuid.UUID, settled_before: datetime, created_since: datetime, limit: int
) -> list[uuid.UUID]:
    """Settled spends with no score record: their scoring request was lost (broker down, worker killed)."""
    scored = TransactionRisk.objects.filter(transaction_id=OuterRef("pk"))
    return list(
        Transaction.objects.filter(
            organization_id=organization_id,
            kind=Transaction.Kind.SPEND,
            created_at__gte=created_since,
            processed_at__lt=settled_before,
        )
        .exclude(status=Transaction.Status.PENDING)
        .filter(~Exists(scored))
        .order_by("created_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def alerts_reviewable_by(*, actor: User) -> QuerySet[FraudAlert]:
    """The alerts a reviewer may resolve: their organization's; a system admin's, every organization's."""
    return FraudAlert.objects.all() if actor.is_system_admin else FraudAlert.objects.of(actor.organization)


def alert_list(
    *,
    organization: Organization,
    status: str | None = None,
    rule: str | None = None,
    transaction_id: uuid.UUID | None = None,
) -> QuerySet[FraudAlert]:
    alerts = FraudAlert.objects.of(organization).select_related("resolved_by")
    if status:
        alerts = alerts.filter(status=status)
    if rule:
        alerts = alerts.filter(rule=rule)
    if transaction_id:
        alerts = alerts.filter(transaction_id=transaction_id)
    return alerts.order_by("-created_at", "-id")


def transaction_alerts_prefetch() -> Prefetch:
    """Prefetch for transaction querysets, so a page of transactions reads its alerts in one query."""
    return Prefetch("fraud_alerts", queryset=FraudAlert.objects.order_by("created_at", "rule"))


def transaction_alerts(*, transaction: Transaction) -> list[FraudAlert]:
    """The spend's alerts: from the prefetch when the queryset had one, else one query."""
    return sorted(transaction.fraud_alerts.all(), key=lambda alert: (alert.created_at, alert.rule))
