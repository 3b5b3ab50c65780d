"""Scoring settled spends and reviewing the alerts it raises.

Scoring runs on the fraud queue after settlement has committed, and never the other way round: the
money path only asks for scoring (`scoring_request`), which cannot fail it. Each spend is scored at
most once: the TransactionRisk row, the statistics it folds the amount into and the alerts are
written in one database transaction, so a retry or a second delivery changes nothing.
"""

import logging
import uuid
import zoneinfo
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.ledger.models import Transaction
from apps.tenancy.models import Organization, User
from apps.tenancy.permissions import FINANCE_ROLES
from apps.webhooks.models import EventType
from apps.webhooks.services import outbox_emit_many
from ledgerx.errors import Conflict, Forbidden, InvalidInput, NotFound

from . import detectors, selectors, velocity
from .detectors import Finding
from .models import FraudAlert, FraudSettings, OutlierMethod, Rule, SpendStatistic, TransactionRisk

logger = logging.getLogger(__name__)


def scoring_request(*, transaction_ids: Iterable[uuid.UUID]) -> None:
    """Queue scoring of these spends on the fraud queue, a batch per task.

    Called by settlement after its commit. It never raises: with the broker down the spends stay
    unscored and the beat sweep (`scoring_sweep`) queues them later. It does not wait for the broker
    either: no publish retries (kombu's default retries take seconds). It publishes through the
    app's pooled connection: a connection of its own per call cost about 14 ms of CPU per
    settlement batch, more than the batch itself.
    """
    from .tasks import score_transactions

    ids = [str(transaction_id) for transaction_id in transaction_ids]
    if not ids:
        return
    size = settings.FRAUD_SCORING_BATCH_SIZE
    try:
        for start in range(0, len(ids), size):
            score_transactions.apply_async(args=[ids[start : start + size]], retry=False)
    except Exception as error:  # noqa: BLE001 - any broker failure leaves the work to the sweep
        logger.warning("could not queue fraud scoring, the sweep will: %s", error)


def scoring_sweep() -> int:
    """Queue scoring of settled spends that have no score record yet; returns how many."""
    now = timezone.now()
    settled_before = now - timedelta(seconds=settings.FRAUD_SWEEP_AFTER_SECONDS)
    created_since = now - timedelta(hours=settings.FRAUD_SWEEP_LOOKBACK_HOURS)
    queued = 0
    for organization_id in Organization.objects.values_list("id", flat=True):
        ids = selectors.unscored_spend_ids(
            organization_id=organization_id,
            settled_before=settled_before,
            created_since=created_since,
            limit=settings.FRAUD_SWEEP_LIMIT,
        )
        scoring_request(transaction_ids=ids)
        queued += len(ids)
    return queued


def transactions_score(*, transaction_ids: Iterable[uuid.UUID]) -> int:
    """Score each settled spend of these ids, oldest first, each in its own transaction. Returns how many
    were scored now (a spend already scored, still pending, or not a spend is skipped)."""
    spends = (
        Transaction.objects.filter(id__in=list(transaction_ids), kind=Transaction.Kind.SPEND)
        .exclude(status=Transaction.Status.PENDING)
        .select_related("organization", "employee", "department")
        .order_by("created_at", "id")
    )
    settings_by_organization: dict[uuid.UUID, FraudSettings] = {}
    scored = 0
    for spend in spends:
        if spend.organization_id not in settings_by_organization:
            settings_by_organization[spend.organization_id] = selectors.fraud_settings_for(
                organization=spend.organization
            )
        if transaction_score(spend=spend, fraud_settings=settings_by_organization[spend.organization_id]) is not None:
            scored += 1
    return scored


@transaction.atomic
def transaction_score(*, spend: Transaction, fraud_settings: FraudSettings) -> list[FraudAlert] | None:
    """Run every detector on one settled spend and raise an alert per rule that fires.

    Returns the alerts raised, or None when the spend had already been scored.
    """
    if not _risk_claim(spend=spend):
        return None
    measured: dict = {}
    findings: list[Finding] = []
    findings += _amount_outliers(spend=spend, fraud_settings=fraud_settings, measured=measured)
    findings += _velocity(spend=spend, fraud_settings=fraud_settings, measured=measured)
    findings += _patterns(spend=spend, fraud_settings=fraud_settings, measured=measured)
    alerts = alerts_insert(spend=spend, findings=findings)
    measured["rules"] = [finding.rule for finding in findings]
    TransactionRisk.objects.filter(transaction=spend).update(scores=measured)
    if alerts:
        outbox_emit_many(
            organization_id=spend.organization_id,
            events=[
                (
                    EventType.FRAUD_ALERT_CREATED,
                    {
                        "alert": {
                            "id": str(alert.id),
                            "transaction": str(spend.id),
                            "rule": alert.rule,
                            "score": alert.score,
                            "detail": alert.detail,
                        },
                        "occurred_at": timezone.now().isoformat(),
                    },
                )
                for alert in alerts
            ],
        )
    return alerts


def alerts_insert(*, spend: Transaction, findings: list[Finding]) -> list[FraudAlert]:
    """Insert an alert per finding, at most one per (spend, rule) (the constraint fraud_alert_one_per_rule
    decides), and return the ones inserted now: only they are announced."""
    if not findings:
        return []
    return list(
        FraudAlert.objects.raw(
            """
            INSERT INTO fraud_fraudalert
                (id, organization_id, transaction_id, rule, score, detail, status, resolution, note, created_at)
            SELECT v.id, %s, %s, v.rule, v.score, v.detail, 'open', '', '', now()
            FROM unnest(%s::uuid[], %s::text[], %s::double precision[], %s::text[]) AS v(id, rule, score, detail)
            ON CONFLICT (organization_id, transaction_id, rule) DO NOTHING
            RETURNING *
            """,
            [
                spend.organization_id,
                spend.id,
                [uuid.uuid4() for _ in findings],
                [finding.rule for finding in findings],
                [finding.score for finding in findings],
                [finding.detail for finding in findings],
            ],
        )
    )


def _risk_claim(*, spend: Transaction) -> bool:
    """Insert the spend's score record; False when it exists (scored before, or by a racing worker,
    which this waits for)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO fraud_transactionrisk (organization_id, transaction_id, scores, scored_at)
            VALUES (%s, %s, '{}', now())
            ON CONFLICT DO NOTHING
            RETURNING id
            """,
            [spend.organization_id, spend.id],
        )
        return cursor.fetchone() is not None


def _statistics_lock(*, organization_id: uuid.UUID, subjects: list[tuple[str, str]]) -> dict[str, SpendStatistic]:
    """Create the missing statistics rows and lock them all, in one statement and a fixed order (no
    deadlock): ON CONFLICT DO UPDATE locks an existing row and returns it as it is. Returns them by scope."""
    rows = SpendStatistic.objects.raw(
        """
        INSERT INTO fraud_spendstatistic (organization_id, scope, subject, count, mean, m2, updated_at)
        SELECT %s, v.scope, v.subject, 0, 0, 0, now() FROM unnest(%s::text[], %s::text[]) AS v(scope, subject)
        ON CONFLICT (organization_id, scope, subject) DO UPDATE SET count = fraud_spendstatistic.count
        RETURNING *
        """,
        [organization_id, [scope for scope, _ in sorted(subjects)], [subject for _, subject in sorted(subjects)]],
    )
    return {row.scope: row for row in rows}


def _statistics_add(*, folds: dict[int, float]) -> None:
    """Welford's update in one statement, on rows the caller has locked: each row's new count, mean and M2
    from its old ones and the value folded in (`folds`: row id -> value)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE fraud_spendstatistic s
            SET count = s.count + 1,
                mean = s.mean + (v.value - s.mean) / (s.count + 1),
                m2 = s.m2 + (v.value - s.mean) * (v.value - s.mean) * s.count / (s.count + 1),
                updated_at = now()
            FROM unnest(%s::bigint[], %s::double precision[]) AS v(id, value)
            WHERE s.id = v.id
            """,
            [list(folds), list(folds.values())],
        )


def _amount_outliers(*, spend: Transaction, fraud_settings: FraudSettings, measured: dict) -> list[Finding]:
    """The amount against the employee's own history and against the department x category history.
    The histories learn from accepted spends only."""
    employee_subject = (SpendStatistic.Scope.EMPLOYEE, str(spend.employee_id))
    group_subject = (SpendStatistic.Scope.DEPARTMENT_CATEGORY, f"{spend.department_id}:{spend.category}")
    by_scope = _statistics_lock(organization_id=spend.organization_id, subjects=[employee_subject, group_subject])
    checks = (
        (Rule.AMOUNT_OUTLIER_EMPLOYEE, SpendStatistic.Scope.EMPLOYEE, f"{spend.employee.email}'s usual spend"),
        (
            Rule.AMOUNT_OUTLIER_DEPARTMENT_CATEGORY,
            SpendStatistic.Scope.DEPARTMENT_CATEGORY,
            f"the usual {spend.category} spend in {spend.department.name}",
        ),
    )
    findings = []
    folds = {}
    for rule, scope, whose in checks:
        row = by_scope[scope]
        running = detectors.history_from_running(count=row.count, mean=row.mean, m2=row.m2)
        folds[row.pk] = detectors.value_to_fold(
            amount_minor=spend.amount_minor,
            history=running,
            threshold=fraud_settings.outlier_threshold,
            min_history=fraud_settings.outlier_min_history,
        )
        history = running
        if fraud_settings.outlier_method == OutlierMethod.ROBUST:
            history = detectors.history_from_sample(
                selectors.recent_log_amounts(spend=spend, by=scope, size=fraud_settings.robust_history_size)
            )
        z, finding = detectors.amount_outlier(
            rule=rule,
            amount_minor=spend.amount_minor,
            currency=spend.currency,
            history=history,
            whose=whose,
            threshold=fraud_settings.outlier_threshold,
            min_history=fraud_settings.outlier_min_history,
        )
        measured[rule] = {"z": None if z is None else round(z, 3), "history": history.count}
        if finding is not None:
            findings.append(finding)
    if spend.status in selectors.ACCEPTED_STATUSES:  # a refused attempt is judged, but teaches nothing
        _statistics_add(folds=folds)
    return findings


def _velocity(*, spend: Transaction, fraud_settings: FraudSettings, measured: dict) -> list[Finding]:
    """Spends in the employee's sliding windows. Only accepted spends count, and only they are judged: a
    refused attempt spent nothing (counting two refused $48,000 attempts as $96,000 spent was noise)."""
    if spend.status not in selectors.ACCEPTED_STATUSES:
        return []
    window = velocity.window_add_and_measure(
        organization_id=spend.organization_id,
        employee_id=spend.employee_id,
        transaction_id=spend.id,
        amount_minor=spend.amount_minor,
        at=spend.created_at,
        count_window_seconds=fraud_settings.velocity_count_window_seconds,
        amount_window_seconds=fraud_settings.velocity_amount_window_seconds,
    )
    measured[Rule.VELOCITY_COUNT] = window.count
    measured[Rule.VELOCITY_AMOUNT] = window.amount_minor
    found = [
        detectors.velocity_count(
            count=window.count,
            limit=fraud_settings.velocity_count_limit,
            window_seconds=fraud_settings.velocity_count_window_seconds,
            who=spend.employee.email,
        ),
        detectors.velocity_amount(
            total_minor=window.amount_minor,
            spend_count=window.amount_count,
            limit_minor=fraud_settings.velocity_amount_limit_minor,
            window_seconds=fraud_settings.velocity_amount_window_seconds,
            currency=spend.currency,
            who=spend.employee.email,
        ),
    ]
    return [finding for finding in found if finding is not None]


def _patterns(*, spend: Transaction, fraud_settings: FraudSettings, measured: dict) -> list[Finding]:
    """Duplicate charge, structuring, unusual hours, blocked category."""
    found = []
    who = spend.employee.email
    if spend.status != Transaction.Status.REJECTED:  # a refused spend charged nothing, so it duplicates nothing
        found.append(
            detectors.duplicate_charge(
                earlier=selectors.duplicate_charge_times(
                    spend=spend, window_seconds=fraud_settings.duplicate_window_seconds
                ),
                at=spend.created_at,
                amount_minor=spend.amount_minor,
                currency=spend.currency,
                merchant=spend.merchant,
                who=who,
            )
        )
    low, high = detectors.structuring_band(
        threshold_minor=fraud_settings.structuring_threshold_minor,
        margin_percent=fraud_settings.structuring_margin_percent,
    )
    found.append(
        detectors.structuring(
            amount_minor=spend.amount_minor,
            band_amounts=selectors.structuring_band_amounts(
                spend=spend, low_minor=low, high_minor=high, window_hours=fraud_settings.structuring_window_hours
            ),
            threshold_minor=fraud_settings.structuring_threshold_minor,
            margin_percent=fraud_settings.structuring_margin_percent,
            min_count=fraud_settings.structuring_min_count,
            window_hours=fraud_settings.structuring_window_hours,
            currency=spend.currency,
            who=who,
        )
    )
    timezone_name = spend.organization.timezone
    zone = zoneinfo.ZoneInfo(timezone_name)
    gap, unusual = detectors.unusual_hours(
        local_time=spend.created_at.astimezone(zone),
        history=[detectors.minute_of_day(at.astimezone(zone)) for at in selectors.recent_spend_times(spend=spend)],
        gap_minutes=fraud_settings.unusual_hours_gap_minutes,
        min_history=fraud_settings.unusual_hours_min_history,
        timezone_name=timezone_name,
        who=who,
    )
    measured[Rule.UNUSUAL_HOURS] = gap
    found.append(unusual)
    found.append(
        detectors.blocked_category(
            category=spend.category,
            blocked=fraud_settings.blocked_categories,
            organization_name=spend.organization.name,
        )
    )
    return [finding for finding in found if finding is not None]


@transaction.atomic
def alert_resolve(*, actor: User, alert_id: uuid.UUID, resolution: str, note: str = "") -> FraudAlert:
    """Close an open alert as legitimate or fraud, recording who did it and why.

    Finance managers and org admins resolve their organization's alerts; system admins any alert.
    """
    if actor.role not in FINANCE_ROLES and not actor.is_system_admin:
        raise Forbidden("Only finance managers and admins review fraud alerts.")
    if resolution not in FraudAlert.Resolution.values:
        raise InvalidInput(
            "Resolve an alert as 'legitimate' or 'fraud'.",
            fields={"resolution": [f"Must be one of: {', '.join(FraudAlert.Resolution.values)}."]},
        )
    note = (note or "").strip()
    if len(note) > 1000:
        raise InvalidInput("The note is too long.", fields={"note": ["At most 1000 characters."]})
    alert = selectors.alerts_reviewable_by(actor=actor).select_for_update().filter(id=alert_id).first()
    if alert is None:
        raise NotFound("Alert not found.")
    if alert.status == FraudAlert.Status.RESOLVED:
        raise Conflict(f"This alert was already resolved as {alert.resolution}.")
    alert.status = FraudAlert.Status.RESOLVED
    alert.resolution = resolution
    alert.note = note
    alert.resolved_by = actor
    alert.resolved_at = timezone.now()
    alert.save(update_fields=["status", "resolution", "note", "resolved_by", "resolved_at"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.FRAUD_ALERT_RESOLVED,
        target=alert,
        before={"status": FraudAlert.Status.OPEN},
        after={"status": alert.status, "resolution": resolution, "note": note},
    )
    return alert
