"""Settlement: pending spends decided in batches, in arrival order, against running budget totals."""

import logging
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.db import connection
from django.utils import timezone
from redis.exceptions import RedisError

from apps.approvals.selectors import approval_policies_of, approval_policy_for, approval_route, approver_directory
from apps.budgets.locks import organization_settlement_lock
from apps.budgets.totals import BudgetTotals, lineage_of
from apps.controls.policy import SpendFacts
from apps.controls.selectors import policy_for, policy_totals_read
from apps.controls.services import spend_tallies_add
from apps.fraud import services as fraud_services
from apps.ledger.models import Transaction
from apps.ledger.services import Journal, journal_write
from apps.tenancy.models import Department, Organization, User
from apps.tenancy.selectors import spending_frozen_refusals
from ledgerx.db import json_rows, prepared_cursor, run_serializable

from .approval_requests import approval_requests_open
from .metrics import settlement_observe
from .money_events import money_events_emit
from .notices import decision_notices_request
from .wakeups import wakeup_consumed

logger = logging.getLogger(__name__)
# What the spend policy's limits count (apps/controls tallies): spends posted, and held for approval.
COUNTED_STATUSES = (Transaction.Status.POSTED, Transaction.Status.AWAITING_APPROVAL)


@dataclass
class SettlementResult:
    posted: list[uuid.UUID] = field(default_factory=list)
    rejected: list[uuid.UUID] = field(default_factory=list)
    awaiting_approval: list[uuid.UUID] = field(default_factory=list)
    latencies_seconds: list[float] = field(default_factory=list)
    more_pending: bool = False
    woken: bool = False  # this run consumed a queued wake-up

    @property
    def settled(self) -> int:
        return len(self.posted) + len(self.rejected) + len(self.awaiting_approval)


def settlement_run(*, organization_id: uuid.UUID, batch_size: int | None = None) -> SettlementResult:
    """Settle the organization's pending spends, oldest first, up to `batch_size` in one transaction.

    Takes the organization's settlement lock. A spend that is no longer pending is left alone, so delivering
    the same request twice settles nothing twice.
    """
    batch_size = batch_size or settings.SETTLEMENT_BATCH_SIZE
    with organization_settlement_lock(organization_id):
        woken = wakeup_consumed(organization_id)
        result = run_serializable(lambda: _settle_batch(organization_id=organization_id, batch_size=batch_size))
        result.woken = woken
        # Committed: fraud scoring runs beside the money path, on its own queue, and cannot fail it.
        # Asked while the lock is held, so scoring requests queue in settlement order.
        fraud_services.scoring_request(transaction_ids=result.posted + result.rejected + result.awaiting_approval)
    if result.settled:
        decision_notices_request(transaction_ids=result.posted + result.rejected + result.awaiting_approval)
        try:
            settlement_observe(batch_size=result.settled, latencies_seconds=result.latencies_seconds)
        except RedisError as error:
            logger.warning("could not record settlement metrics: %s", error)
    return result


class _ClaimedSpend(NamedTuple):
    id: uuid.UUID
    kind: str
    amount_minor: int
    department_id: uuid.UUID
    budget_month: date
    employee_id: uuid.UUID
    merchant: str
    category: str
    description: str
    created_at: datetime
    original_amount_minor: int
    original_currency: str
    fx_rate: Decimal
    fx_rate_date: date | None


_CLAIM_COLUMNS = (
    "id, kind, amount_minor, department_id, budget_month, employee_id, merchant, category, description, created_at, "
    "original_amount_minor, original_currency, fx_rate, fx_rate_date"
)
# The oldest pending spends, reimbursement claims and bills, which settle alike, in the order of the
# txn_pending_by_org_age index, which serves it.
_CLAIM_OLDEST = f"""
    SELECT {_CLAIM_COLUMNS} FROM ledger_transaction
    WHERE organization_id = %s AND status = 'pending' AND kind IN ('spend', 'reimbursement', 'bill')
    ORDER BY created_at, id LIMIT %s FOR UPDATE SKIP LOCKED
"""  # noqa: S608 - constant column names


def _claim_pending(*, organization_id: uuid.UUID, batch_size: int) -> tuple[list[_ClaimedSpend], bool]:
    """Lock up to `batch_size` pending spends, oldest first.

    Rows another transaction holds are skipped. Returns the spends in arrival order, and whether
    the batch was full, so that more may be pending.
    """
    with prepared_cursor() as cursor:
        cursor.execute(_CLAIM_OLDEST, [organization_id, batch_size])
        spends = [_ClaimedSpend(*row) for row in cursor.fetchall()]
    return spends, len(spends) >= batch_size


def _settle_batch(*, organization_id: uuid.UUID, batch_size: int) -> SettlementResult:
    """Claim pending spends and decide each in arrival order against running totals; write set-based.

    A spend that breaks a rule of the organization's spend policy is refused first, naming the rule;
    then it fits when `spent + held + amount <= limit` at its department and every ancestor. One that
    fits and needs approval is held there and waits; any other that fits is posted. Every settled spend
    records the spend policy version it was decided on.
    The caller holds the organization's settlement lock and runs this in a SERIALIZABLE transaction.
    """
    spends, full = _claim_pending(organization_id=organization_id, batch_size=batch_size)
    result = SettlementResult(more_pending=full)
    if not spends:
        return result
    organization = Organization.objects.get(id=organization_id)
    departments = {
        row[0]: row[1:]
        for row in Department.objects.filter(organization_id=organization_id).values_list("id", "parent_id", "name")
    }
    parents = {department_id: parent_id for department_id, (parent_id, _) in departments.items()}
    lineages = {spend.department_id: lineage_of(spend.department_id, parents) for spend in spends}
    approval_policies = approval_policies_of(organization_id=organization_id)
    frozen = spending_frozen_refusals(organization_id=organization_id, user_ids={spend.employee_id for spend in spends})
    # Read in this transaction: a change committed before it started applies to this whole batch,
    # one committed later to the next batch, never half of one.
    spend_policy = policy_for(organization)
    facts, policy_totals = [], None
    if spend_policy is not None:
        facts = _spend_facts(spends)
        policy_totals = policy_totals_read(
            organization=organization, needed=spend_policy.totals_needed(facts, lineages), parents=parents
        )
    totals = BudgetTotals.lock(
        organization_id=organization_id,
        department_ids={d for spend in spends for d in lineages[spend.department_id]},
        months={spend.budget_month for spend in spends},
    )

    journals: list[Journal] = []
    waiting: list = []
    statuses, reasons = [], []
    directory = None
    for index, spend in enumerate(spends):
        if spend.employee_id in frozen:  # frozen by a fraud verdict since it was accepted: no money moves
            statuses.append(Transaction.Status.REJECTED)
            reasons.append(frozen[spend.employee_id])
            result.rejected.append(spend.id)
            continue
        amount = spend.amount_minor
        refused = spend_policy.refusal(facts[index], policy_totals) if spend_policy is not None else None
        if refused is not None:
            statuses.append(Transaction.Status.REJECTED)
            reasons.append(refused.reason)
            result.rejected.append(spend.id)
            continue
        keys = [(department_id, spend.budget_month) for department_id in lineages[spend.department_id]]
        failing = totals.over_limit(keys, amount)
        approval_policy = (
            None
            if failing is not None
            else approval_policy_for(
                approval_policies, amount_minor=amount, lineage=lineages[spend.department_id], category=spend.category
            )
        )
        route = None
        if approval_policy is not None:
            directory = directory or approver_directory(organization_id=organization_id)
            route = approval_route(
                directory=directory,
                levels=approval_policy.levels,
                current_level=0,
                routing=[],
                department_id=spend.department_id,
                spender_id=spend.employee_id,
                signed_ids=set(),
                spender_step=approval_policy.spender_step,
            )
        if failing is not None or (approval_policy is not None and route is None):
            statuses.append(Transaction.Status.REJECTED)
            reasons.append(
                totals.refusal(
                    failing, amount=amount, department_name=departments[failing[0]][1], currency=organization.currency
                ).reason
                if failing is not None
                else f"No one but the spender could approve this spend under the policy '{approval_policy.name}'."
            )
            result.rejected.append(spend.id)
            continue
        reasons.append("")
        if spend_policy is not None:
            spend_policy.count(facts[index], policy_totals)
        if approval_policy is not None:
            totals.hold(keys, amount)
            statuses.append(Transaction.Status.AWAITING_APPROVAL)
            waiting.append((spend, approval_policy, route))
            result.awaiting_approval.append(spend.id)
            continue
        totals.post(keys, amount)
        journals.append(
            Journal(
                transaction_id=spend.id,
                department_id=spend.department_id,
                amount_minor=amount,
                kind=spend.kind,
                employee_id=spend.employee_id,
                merchant=spend.merchant,
                category=spend.category,
            )
        )
        statuses.append(Transaction.Status.POSTED)
        result.posted.append(spend.id)

    now = timezone.now()
    result.latencies_seconds = [(now - spend.created_at).total_seconds() for spend in spends]
    journal_write(organization=organization, journals=journals, now=now)
    totals.write(now=now)
    spend_tallies_add(
        organization=organization,
        spends=[spend for spend, status in zip(spends, statuses, strict=True) if status in COUNTED_STATUSES],
    )
    outcomes = [
        {"id": spend.id, "status": status, "reason": reason}
        for spend, status, reason in zip(spends, statuses, reasons, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE ledger_transaction t
            SET status = v.status, rejection_reason = v.reason, processed_at = %s, policy_version = %s
            FROM json_to_recordset(%s::json) AS v(id uuid, status text, reason text) WHERE t.id = v.id
            """,
            [now, spend_policy.version if spend_policy is not None else None, json_rows(outcomes)],
        )
    approval_requests_open(organization_id=organization_id, waiting=waiting, now=now)
    money_events_emit(
        organization=organization,
        spends=[(spend, status, reason) for spend, status, reason in zip(spends, statuses, reasons, strict=True)],
        totals=totals,
        occurred_at=now,
        department_names={department_id: name for department_id, (_, name) in departments.items()},
    )
    return result


def _spend_facts(spends: list[_ClaimedSpend]) -> list[SpendFacts]:
    """What the spend policy reads of each claimed spend, in order, with its spender's role as it is now."""
    roles = dict(User.objects.filter(id__in={spend.employee_id for spend in spends}).values_list("id", "role"))
    return [
        SpendFacts(
            spend.amount_minor,
            spend.category,
            spend.merchant,
            spend.description,
            spend.employee_id,
            roles[spend.employee_id],
            spend.department_id,
            spend.created_at,
            spend.budget_month,
        )
        for spend in spends
    ]
