import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from django_redis import get_redis_connection
from redis.exceptions import RedisError

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.budgets.locks import (
    organization_drain_in_progress,
    organization_drain_lease,
    organization_settlement_lock,
)
from apps.budgets.services import month_start
from apps.budgets.totals import BudgetTotals, lineage_of
from apps.fraud import services as fraud_services
from apps.system.services import settlement_observe
from apps.tenancy.models import Department, Organization, Role, User
from apps.webhooks.events import budget_threshold_payload, thresholds_crossed, transaction_payload
from apps.webhooks.models import EventType
from apps.webhooks.services import outbox_emit_many
from ledgerx.db import json_rows, prepared_cursor, run_serializable
from ledgerx.errors import Conflict, Forbidden, InvalidInput, NotFound, RateLimited, ServiceUnavailable
from ledgerx.money import MoneyError, parse_amount
from ledgerx.ratelimit import Hit, Limit, rate_limit_hit

from . import idempotency
from .models import Account, Transaction

logger = logging.getLogger(__name__)

# A queued wake-up that never ran (its message lost) stops suppressing new ones after this long.
WAKEUP_TTL_SECONDS = 30
# A web process that has seen a wake-up queued does not ask Redis again for this long; a worker
# that consumes a wake-up looks for pending spends until WAKEUP_LINGER_SECONDS later, so none of
# the spends accepted meanwhile is left waiting for the sweeper (see settlement_drain).
WAKEUP_MEMO_SECONDS = 0.05
WAKEUP_LINGER_SECONDS = 0.12
# While lingering, batches start at most this often: under steady traffic each gathers the spends
# of one interval instead of paying a batch's fixed cost (about 10 ms of CPU, measured) for a few.
# A slow batch (the machine loaded) stretches the interval to WAKEUP_POLL_BUSY_FACTOR times its own
# length, up to WAKEUP_POLL_MAX_SECONDS: the busier the machine, the more spends share a fixed cost.
WAKEUP_POLL_SECONDS = 0.05
WAKEUP_POLL_BUSY_FACTOR = 4
WAKEUP_POLL_MAX_SECONDS = 0.1
IDEMPOTENCY_CONSTRAINT = "transaction_idempotency_key_per_organization"


def account_open_card_funding(*, organization: Organization) -> Account:
    account, _ = Account.objects.get_or_create(
        organization=organization,
        kind=Account.Kind.CARD_FUNDING,
        defaults={"name": f"{organization.name} card funding", "currency": organization.currency},
    )
    return account


def account_open_expense(*, department: Department) -> Account:
    account, _ = Account.objects.get_or_create(
        organization_id=department.organization_id,
        kind=Account.Kind.EXPENSE,
        department=department,
        defaults={"name": f"{department.name} expenses", "currency": department.organization.currency},
    )
    return account


def _constraint_name(error: IntegrityError) -> str | None:
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)


def _replay_of(*, organization: Organization, key: str, request_fingerprint: str) -> Transaction | None:
    """The committed transaction this key produced, if any; refused if it came from another request."""
    existing = Transaction.objects.of(organization).filter(idempotency_key=key).first()
    if existing is not None:
        idempotency.check_replay(
            stored_fingerprint=existing.request_fingerprint, request_fingerprint=request_fingerprint
        )
    return existing


def _idempotent_create(
    *,
    organization: Organization,
    key: str,
    request: dict,
    create: Callable[[str], tuple[Transaction, bool]],
    backpressure: Callable[[], None] | None = None,
) -> tuple[Transaction, bool]:
    """Run `create(fingerprint)` at most once per (organization, key); a repeat returns the first result.

    The key's unique constraint decides (see `idempotency`): an INSERT that meets the key's row
    answers with that row, or is refused if another request body took the key. `create` may find
    the key's row itself and say it replayed. `backpressure` (a rate limit, the backlog) may refuse
    the request first, but never a replay: a refused request whose key already has its transaction
    is answered with it, so a client told "nothing was recorded" never pays twice by resending with
    a new key. Returns the transaction and whether this call was a replay.
    """
    request_fingerprint = idempotency.fingerprint(request)
    if backpressure is not None:
        try:
            backpressure()
        except (RateLimited, ServiceUnavailable):
            replayed = _replay_of(organization=organization, key=key, request_fingerprint=request_fingerprint)
            if replayed is None:
                raise
            return replayed, True
    try:
        return create(request_fingerprint)
    except IntegrityError as error:
        if _constraint_name(error) != IDEMPOTENCY_CONSTRAINT:
            raise
        return _replay_of(organization=organization, key=key, request_fingerprint=request_fingerprint), True


def _clean_text(value: str | None, *, field_name: str, max_length: int, required: bool) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(f"{field_name.capitalize()} is required.", fields={field_name: ["This field is required."]})
    if len(text) > max_length:
        raise InvalidInput(
            f"{field_name.capitalize()} is too long.", fields={field_name: [f"At most {max_length} characters."]}
        )
    return text


def transaction_submit(
    *,
    user: User,
    idempotency_key: str,
    amount: str,
    currency: str,
    merchant: str,
    category: str,
    description: str = "",
    department_id: uuid.UUID | None = None,
) -> tuple[Transaction, bool]:
    """Accept a spend as `pending` (one INSERT) and queue its settlement after commit.

    Called outside any transaction, as the API does: the INSERT commits on its own, and the unique
    violation that finds a replay would abort a caller's transaction. Each user submits at most
    RATE_LIMIT_SPEND_PER_USER spends a minute (replays included).
    Returns the transaction and whether this was a replay of an earlier request with the same key.
    """
    organization = user.organization
    key = idempotency.validate_key(idempotency_key)
    if currency != organization.currency:
        raise InvalidInput(
            f"{organization.name} keeps its budgets in {organization.currency}; this spend is in '{currency}'.",
            fields={"currency": [f"Must be {organization.currency}."]},
        )
    try:
        amount_minor = parse_amount(amount, currency)
    except MoneyError as error:
        raise InvalidInput(str(error), fields={"amount": [str(error)]}) from None
    merchant = _clean_text(merchant, field_name="merchant", max_length=200, required=True)
    category = _clean_text(category, field_name="category", max_length=64, required=True).lower()
    description = _clean_text(description, field_name="description", max_length=1000, required=False)
    department = _spend_department(user=user, department_id=department_id)

    request = {
        "kind": "spend",
        "user": user.id,
        "amount_minor": amount_minor,
        "currency": currency,
        "merchant": merchant,
        "category": category,
        "description": description,
        "department": department.id,
    }
    now = timezone.now()

    def create(request_fingerprint: str) -> tuple[Transaction, bool]:
        # One INSERT, committed on its own: no budget row is touched on the way in.
        spend = _insert(
            {
                "id": uuid.uuid4(),
                "organization_id": organization.id,
                "kind": Transaction.Kind.SPEND.value,
                "status": Transaction.Status.PENDING.value,
                "amount_minor": amount_minor,
                "currency": currency,
                "merchant": merchant,
                "category": category,
                "description": description,
                "department_id": department.id,
                "employee_id": user.id,
                "created_by_id": user.id,
                "budget_month": month_start(now, organization.timezone),
                "idempotency_key": key,
                "request_fingerprint": request_fingerprint,
                "created_at": now,
                "processed_at": None,
                "rejection_reason": "",
                "reversal_of_id": None,
                "reason": "",
            },
            department=department,
            employee=user,
        )
        transaction.on_commit(lambda: _settlement_request_after_accept(organization_id=organization.id))
        return spend, False

    return _idempotent_create(
        organization=organization,
        key=key,
        request=request,
        create=create,
        backpressure=lambda: _spend_backpressure(user),
    )


def _spend_backpressure(user: User) -> None:
    """Refuse a new spend over the user's rate limit (replays count too) or while settlement is behind."""
    rate_limit_hit(Hit("spend", str(user.id), Limit(*settings.RATE_LIMIT_SPEND_PER_USER)))
    _check_backlog()


_TRANSACTION_FIELDS = Transaction._meta.concrete_fields
# Identifiers from the model, quoted; every value is a bound parameter.
_INSERT_TRANSACTION = "INSERT INTO {table} ({columns}) VALUES ({values})".format(  # noqa: S608
    table=connection.ops.quote_name(Transaction._meta.db_table),
    columns=", ".join(connection.ops.quote_name(field.column) for field in _TRANSACTION_FIELDS),
    values=", ".join(["%s"] * len(_TRANSACTION_FIELDS)),
)


def _insert(columns: dict[str, object], *, department: Department, employee: User) -> Transaction:
    """INSERT a new transaction row, given every column by attribute name, and return its instance.

    The spend path's one query, written once and given the values as they are: every column is a
    uuid, text, integer, date or aware datetime, which psycopg adapts without Django's per-field
    preparation (a test holds the two equal), and prepared once per connection (`ledgerx.db`).
    Measured in a request, the ORM's save() of this row cost about 0.55 ms of CPU; preparing each
    field and building the instance from keyword arguments cost about 0.3 ms more.
    """
    values = [columns[field.attname] for field in _TRANSACTION_FIELDS]
    with prepared_cursor() as cursor:
        cursor.execute(_INSERT_TRANSACTION, values)
    row = Transaction.from_db(DEFAULT_DB_ALIAS, None, values)
    # The answer names the department and the employee: use the instances at hand, not a query.
    Transaction.department.field.set_cached_value(row, department)
    Transaction.employee.field.set_cached_value(row, employee)
    return row


_backlog_seen = {"count": 0, "at": 0.0}


def _check_backlog() -> None:
    """Refuse new spends while more are waiting than the workers can be expected to catch up with.

    The pending count is read at most once per INGEST_BACKLOG_CHECK_SECONDS per process, so the
    check costs the request path almost nothing.
    """
    now = time.monotonic()
    if now - _backlog_seen["at"] >= settings.INGEST_BACKLOG_CHECK_SECONDS:
        _backlog_seen["count"] = Transaction.objects.filter(status=Transaction.Status.PENDING).count()
        _backlog_seen["at"] = now
    if _backlog_seen["count"] >= settings.INGEST_BACKLOG_LIMIT:
        raise ServiceUnavailable(
            f"Settlement is behind: {_backlog_seen['count']} spends are waiting. Nothing was recorded for this "
            "Idempotency-Key: retry shortly with the same key."
        )


def _spend_department(*, user: User, department_id: uuid.UUID | None) -> Department:
    """The department a spend comes from: the spender's own unless named; employees only their own."""
    if department_id is None or department_id == user.department_id:
        if user.department is None:
            raise InvalidInput("Name the department to spend from.", fields={"department": ["This field is required."]})
        return user.department
    department = Department.objects.of(user.organization).filter(id=department_id).first()
    if department is None:
        raise NotFound("Department not found.")
    if user.role == Role.EMPLOYEE:
        raise Forbidden("Employees spend from their own department.")
    return department


def _wakeup_key(organization_id: uuid.UUID) -> str:
    return f"ledgerx:settle-wakeup:{organization_id}"


_wakeup_seen_at: dict[uuid.UUID, float] = {}


def _settlement_request_after_accept(*, organization_id: uuid.UUID) -> None:
    """Wake a worker for a spend just committed, unless this process saw a wake-up queued moments ago.

    The memo is safe: the wake-up seen was consumed after it was seen, and the worker that consumed
    it looks again at least WAKEUP_LINGER_SECONDS (> WAKEUP_MEMO_SECONDS) later, after this commit.
    """
    if time.monotonic() - _wakeup_seen_at.get(organization_id, float("-inf")) < WAKEUP_MEMO_SECONDS:
        return
    settlement_request(organization_id=organization_id)


def settlement_request(*, organization_id: uuid.UUID, deduplicate: bool = True) -> None:
    """Wake a settlement worker for the organization: set its wake-up and queue a task.

    While one wake-up is queued and not yet consumed, further ones are dropped (`deduplicate`): a
    worker drains everything pending when it runs, so a spike becomes a handful of tasks, not one
    per spend. Nor is a task queued while a drain is in progress: it consumes the wake-up itself,
    where a task would only find its lease taken. The sweeper and a drain handing over queue a task
    whatever the wake-up says.
    If Redis or the broker is unreachable the spends stay pending and the sweeper queues them.
    """
    from .tasks import settle_pending

    # Taken before asking: the wake-up is consumed after Redis answers, so never before this instant.
    asked_at = time.monotonic()
    try:
        queued_before = not get_redis_connection("default").set(
            _wakeup_key(organization_id), "1", nx=deduplicate, ex=WAKEUP_TTL_SECONDS
        )
        _wakeup_seen_at[organization_id] = asked_at
    except RedisError as error:
        logger.warning("could not set the settlement wake-up: %s", error)
        if deduplicate:
            return  # the sweeper queues the spends
        queued_before = False
    if queued_before or (deduplicate and _drain_in_progress(organization_id)):
        return
    try:
        settle_pending.delay(str(organization_id))
    except Exception as error:  # noqa: BLE001 - any broker failure leaves the work to the sweeper
        logger.warning("could not queue settlement, the sweeper will: %s", error)


def _drain_in_progress(organization_id: uuid.UUID) -> bool:
    """Whether a drain holds the lease, and so will consume a wake-up set before this was asked.

    It does at a later look, or once it has released the lease and looks for a wake-up before it
    returns (settlement_drain): no task is needed for it. Asked after setting the wake-up, so that
    either this sees the lease or the drain, releasing it after, sees the wake-up.
    """
    try:
        return organization_drain_in_progress(organization_id)
    except DatabaseError as error:
        logger.warning("could not look for a settlement drain, queueing a task: %s", error)
        return False


def _wakeup_consumed(organization_id: uuid.UUID) -> bool:
    """A worker is about to look for pending spends: spends accepted from now on need a new wake-up.

    Returns whether a queued wake-up was consumed.
    """
    try:
        return bool(get_redis_connection("default").delete(_wakeup_key(organization_id)))
    except RedisError as error:
        logger.warning("could not clear the settlement wake-up: %s", error)
        return False


def settlement_drain(*, organization_id: uuid.UUID) -> int:
    """What a woken worker does: settle the organization's pending spends, batch after batch.

    One drain per organization at a time (its drain lease). A task that finds another draining
    leaves the wake-up queued, and the drain consumes it at a later look or, once it has released
    the lease, sees it and drains again: a queued wake-up always has a drain that will consume it.
    A full batch hands over to a new task, queued after the lease is released so that it can take
    it, with the wake-up set again. Returns how many spends were settled.
    """
    settled = 0
    while True:
        with organization_drain_lease(organization_id) as leased:
            if not leased:
                return settled
            settled_now, handed_over = _drain_leased(organization_id)
            settled += settled_now
        if handed_over:
            settlement_request(organization_id=organization_id, deduplicate=False)
            return settled
        if not _wakeup_queued(organization_id):
            return settled


def _drain_leased(organization_id: uuid.UUID) -> tuple[int, bool]:
    """Settle batches until none is pending, then keep looking for WAKEUP_LINGER_SECONDS after each consumed wake-up.

    Web processes skip waking a worker for a spend accepted within WAKEUP_MEMO_SECONDS of seeing a
    wake-up queued: the lingering looks settle those spends (and, under steady traffic, settle
    without waiting for a queue message). A full batch hands over to a new task, so other
    organizations get a turn. Returns how many spends were settled and whether a full batch left more.
    """
    settled = 0
    look_until = float("-inf")
    while True:
        started = time.monotonic()
        result = settlement_run(organization_id=organization_id)
        settled += result.settled
        if result.woken:
            look_until = time.monotonic() + WAKEUP_LINGER_SECONDS
        if result.more_pending:
            return settled, True
        now = time.monotonic()
        if now >= look_until:
            return settled, False
        # None starts after look_until, so a spend the memo skipped is still looked for.
        time.sleep(max(0.0, min(started + lingering_look_interval(now - started), look_until) - now))


def lingering_look_interval(look_seconds: float) -> float:
    """How long after a lingering look started the next one starts, given how long it took."""
    return min(max(WAKEUP_POLL_SECONDS, WAKEUP_POLL_BUSY_FACTOR * look_seconds), WAKEUP_POLL_MAX_SECONDS)


def _wakeup_queued(organization_id: uuid.UUID) -> bool:
    try:
        return bool(get_redis_connection("default").exists(_wakeup_key(organization_id)))
    except RedisError as error:
        logger.warning("could not look for a settlement wake-up, the sweeper will: %s", error)
        return False


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


def settlement_run(
    *, organization_id: uuid.UUID, transaction_id: uuid.UUID | None = None, batch_size: int | None = None
) -> SettlementResult:
    """Settle the organization's pending spends, oldest first, up to `batch_size` in one transaction.

    `transaction_id` names a spend to settle in this batch even if older ones fill it. Takes the
    organization's settlement lock. A spend that is no longer pending is left alone, so delivering
    the same request twice settles nothing twice.
    """
    batch_size = batch_size or settings.SETTLEMENT_BATCH_SIZE
    with organization_settlement_lock(organization_id):
        woken = _wakeup_consumed(organization_id)
        result = run_serializable(
            lambda: _settle_batch(organization_id=organization_id, batch_size=batch_size, transaction_id=transaction_id)
        )
        result.woken = woken
        # Committed: fraud scoring runs beside the money path, on its own queue, and cannot fail it.
        # Asked while the lock is held, so scoring requests queue in settlement order.
        fraud_services.scoring_request(transaction_ids=result.posted + result.rejected + result.awaiting_approval)
    if result.settled:
        try:
            settlement_observe(batch_size=result.settled, latencies_seconds=result.latencies_seconds)
        except RedisError as error:
            logger.warning("could not record settlement metrics: %s", error)
    return result


class _ClaimedSpend(NamedTuple):
    id: uuid.UUID
    amount_minor: int
    department_id: uuid.UUID
    budget_month: date
    employee_id: uuid.UUID
    merchant: str
    category: str
    created_at: datetime


_CLAIM_COLUMNS = "id, amount_minor, department_id, budget_month, employee_id, merchant, category, created_at"
# The oldest pending spends, in the order of the txn_pending_by_org_age index, which serves it.
_CLAIM_OLDEST = f"""
    SELECT {_CLAIM_COLUMNS} FROM ledger_transaction
    WHERE organization_id = %s AND status = 'pending' AND kind = 'spend'
    ORDER BY created_at, id LIMIT %s FOR UPDATE SKIP LOCKED
"""  # noqa: S608 - constant column names
_CLAIM_ONE = f"""
    SELECT {_CLAIM_COLUMNS} FROM ledger_transaction
    WHERE id = %s AND organization_id = %s AND status = 'pending' AND kind = 'spend' FOR UPDATE SKIP LOCKED
"""  # noqa: S608 - constant column names


def _claim_pending(
    *, organization_id: uuid.UUID, batch_size: int, transaction_id: uuid.UUID | None
) -> tuple[list[_ClaimedSpend], bool]:
    """Lock up to `batch_size` pending spends, oldest first (and `transaction_id`'s if still pending).

    Rows another transaction holds are skipped. Returns the spends in arrival order, and whether
    the batch was full, so that more may be pending.
    """
    with prepared_cursor() as cursor:
        cursor.execute(_CLAIM_OLDEST, [organization_id, batch_size])
        spends = [_ClaimedSpend(*row) for row in cursor.fetchall()]
        full = len(spends) >= batch_size
        if transaction_id is not None and all(spend.id != transaction_id for spend in spends):
            cursor.execute(_CLAIM_ONE, [transaction_id, organization_id])
            spends += [_ClaimedSpend(*row) for row in cursor.fetchall()]
            spends.sort(key=lambda spend: (spend.created_at, spend.id))
    return spends, full


@dataclass
class _Journal:
    transaction_id: uuid.UUID
    department_id: uuid.UUID
    amount_minor: int


def _write_journals(*, organization: Organization, journals: list[_Journal], now) -> None:
    """Insert two entries per journal in one statement: -X from card funding, +X to the department's expenses.

    A reversal is a journal with a negative amount, which flips both legs.
    """
    if not journals:
        return
    accounts = Account.objects.filter(organization=organization).values_list("id", "kind", "department_id")
    card_account = next(account_id for account_id, kind, _ in accounts if kind == Account.Kind.CARD_FUNDING)
    expense_accounts = {
        department_id: account_id for account_id, kind, department_id in accounts if kind == Account.Kind.EXPENSE
    }
    legs = [
        {"transaction": journal.transaction_id, "account": account_id, "amount": amount_minor}
        for journal in journals
        for account_id, amount_minor in (
            (card_account, -journal.amount_minor),
            (expense_accounts[journal.department_id], journal.amount_minor),
        )
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO ledger_entry (organization_id, transaction_id, account_id, amount_minor, currency, created_at)
            SELECT %s, v.transaction, v.account, v.amount, %s, %s
            FROM json_to_recordset(%s::json) AS v(transaction uuid, account uuid, amount bigint)
            """,
            [organization.id, organization.currency, now, json_rows(legs)],
        )


def _settle_batch(*, organization_id: uuid.UUID, batch_size: int, transaction_id: uuid.UUID | None) -> SettlementResult:
    """Claim pending spends and decide each in arrival order against running totals; write set-based.

    A spend fits when `spent + held + amount <= limit` at its department and every ancestor. One that
    fits and needs approval is held there and waits; any other that fits is posted.
    The caller holds the organization's settlement lock and runs this in a SERIALIZABLE transaction.
    """
    from apps.approvals.selectors import approval_policies_of, approval_policy_for, approval_route, approver_directory
    from apps.approvals.services import approval_requests_open

    spends, full = _claim_pending(organization_id=organization_id, batch_size=batch_size, transaction_id=transaction_id)
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
    policies = approval_policies_of(organization_id=organization_id)
    totals = BudgetTotals.lock(
        organization_id=organization_id,
        department_ids={d for spend in spends for d in lineages[spend.department_id]},
        months={spend.budget_month for spend in spends},
    )

    journals: list[_Journal] = []
    waiting: list = []
    statuses, reasons = [], []
    directory = None
    for spend in spends:
        amount = spend.amount_minor
        keys = [(department_id, spend.budget_month) for department_id in lineages[spend.department_id]]
        failing = totals.over_limit(keys, amount)
        policy = (
            None
            if failing is not None
            else approval_policy_for(
                policies, amount_minor=amount, lineage=lineages[spend.department_id], category=spend.category
            )
        )
        route = None
        if policy is not None:
            directory = directory or approver_directory(organization_id=organization_id)
            route = approval_route(
                directory=directory,
                levels=policy.levels,
                current_level=0,
                routing=[],
                department_id=spend.department_id,
                spender_id=spend.employee_id,
                signed_ids=set(),
                spender_step=policy.spender_step,
            )
        if failing is not None or (policy is not None and route is None):
            statuses.append(Transaction.Status.REJECTED)
            reasons.append(
                totals.refusal(
                    failing, amount=amount, department_name=departments[failing[0]][1], currency=organization.currency
                ).reason
                if failing is not None
                else f"No one but the spender could approve this spend under the policy '{policy.name}'."
            )
            result.rejected.append(spend.id)
            continue
        reasons.append("")
        if policy is not None:
            totals.hold(keys, amount)
            statuses.append(Transaction.Status.AWAITING_APPROVAL)
            waiting.append((spend, policy, route))
            result.awaiting_approval.append(spend.id)
            continue
        totals.post(keys, amount)
        journals.append(_Journal(spend.id, spend.department_id, amount))
        statuses.append(Transaction.Status.POSTED)
        result.posted.append(spend.id)

    now = timezone.now()
    result.latencies_seconds = [(now - spend.created_at).total_seconds() for spend in spends]
    _write_journals(organization=organization, journals=journals, now=now)
    totals.write(now=now)
    outcomes = [
        {"id": spend.id, "status": status, "reason": reason}
        for spend, status, reason in zip(spends, statuses, reasons, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE ledger_transaction t SET status = v.status, rejection_reason = v.reason, processed_at = %s
            FROM json_to_recordset(%s::json) AS v(id uuid, status text, reason text) WHERE t.id = v.id
            """,
            [now, json_rows(outcomes)],
        )
    approval_requests_open(organization_id=organization_id, waiting=waiting, now=now)
    _emit_money_events(
        organization=organization,
        spends=[(spend, status, reason) for spend, status, reason in zip(spends, statuses, reasons, strict=True)],
        totals=totals,
        occurred_at=now,
        department_names={department_id: name for department_id, (_, name) in departments.items()},
    )
    return result


_EVENT_OF_STATUS = {
    Transaction.Status.POSTED: EventType.TRANSACTION_POSTED,
    Transaction.Status.REJECTED: EventType.TRANSACTION_REJECTED,
    Transaction.Status.REVERSED: EventType.TRANSACTION_REVERSED,
    Transaction.Status.AWAITING_APPROVAL: EventType.APPROVAL_REQUESTED,
}


def _emit_money_events(
    *,
    organization: Organization,
    spends: list[tuple[Transaction | _ClaimedSpend, str, str]],
    totals: BudgetTotals,
    occurred_at: datetime,
    extra: dict | None = None,
    department_names: dict[uuid.UUID, str] | None = None,
) -> None:
    """Write webhook events in the transaction of the change: one per spend whose state moved, one per
    budget threshold (80%, 100% of the limit, counting holds) that the change crossed upwards.

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
            _EVENT_OF_STATUS[status],
            {
                **transaction_payload(
                    transaction_id=spend.id,
                    status=status,
                    amount_minor=spend.amount_minor,
                    currency=organization.currency,
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


def _spend_totals(spend: Transaction) -> tuple[BudgetTotals, list[tuple], dict[uuid.UUID, str]]:
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
    totals, keys, names = _spend_totals(spend)
    totals.post_held(keys, spend.amount_minor, department_names=names, currency=spend.currency)
    now = timezone.now()
    _write_journals(
        organization=spend.organization, journals=[_Journal(spend.id, spend.department_id, spend.amount_minor)], now=now
    )
    totals.write(now=now)
    spend.status = Transaction.Status.POSTED
    spend.processed_at = now
    spend.save(update_fields=["status", "processed_at"])
    _emit_money_events(
        organization=spend.organization, spends=[(spend, spend.status, "")], totals=totals, occurred_at=now
    )


def transaction_release_hold(*, spend: Transaction, reason: str) -> None:
    """Release a waiting spend's hold and reject it with `reason`.

    The caller holds the organization's settlement lock in a SERIALIZABLE transaction and has the
    spend locked FOR UPDATE while it is `awaiting_approval`.
    """
    totals, keys, _ = _spend_totals(spend)
    totals.release(keys, spend.amount_minor)
    now = timezone.now()
    totals.write(now=now)
    spend.status = Transaction.Status.REJECTED
    spend.rejection_reason = reason
    spend.processed_at = now
    spend.save(update_fields=["status", "rejection_reason", "processed_at"])
    _emit_money_events(
        organization=spend.organization, spends=[(spend, spend.status, reason)], totals=totals, occurred_at=now
    )


def settlement_sweep() -> int:
    """Queue settlement for every organization with a spend pending longer than it should be.

    This is what makes a lost queue message or a killed worker harmless.
    """
    cutoff = timezone.now() - timezone.timedelta(seconds=settings.SETTLEMENT_SWEEP_AFTER_SECONDS)
    organization_ids = list(
        Transaction.objects.filter(status=Transaction.Status.PENDING, created_at__lt=cutoff)
        .order_by()
        .values_list("organization_id", flat=True)
        .distinct()
    )
    for organization_id in organization_ids:
        settlement_request(organization_id=organization_id, deduplicate=False)
    return len(organization_ids)


def transaction_reverse(
    *, actor: User, original_id: uuid.UUID, reason: str, idempotency_key: str
) -> tuple[Transaction, bool]:
    """Reverse a posted spend with a compensating journal and release the budget it consumed.

    Returns the reversal transaction and whether this call was a replay.
    """
    organization = actor.organization
    key = idempotency.validate_key(idempotency_key)
    reason = _clean_text(reason, field_name="reason", max_length=1000, required=True)
    if not Transaction.objects.of(organization).filter(id=original_id).exists():
        raise NotFound("Transaction not found.")
    request = {"kind": "reversal", "user": actor.id, "original": original_id, "reason": reason}

    def create(request_fingerprint: str) -> tuple[Transaction, bool]:
        with organization_settlement_lock(organization.id):
            # A repeat that waited here for its original finds the reversal, not an original already reversed.
            replayed = _replay_of(organization=organization, key=key, request_fingerprint=request_fingerprint)
            if replayed is not None:
                return replayed, True
            reversal = run_serializable(
                lambda: _reverse(
                    actor=actor,
                    original_id=original_id,
                    reason=reason,
                    key=key,
                    request_fingerprint=request_fingerprint,
                )
            )
            return reversal, False

    return _idempotent_create(organization=organization, key=key, request=request, create=create)


def _reverse(*, actor: User, original_id: uuid.UUID, reason: str, key: str, request_fingerprint: str) -> Transaction:
    """The caller holds the organization's settlement lock, in a SERIALIZABLE transaction."""
    original = Transaction.objects.select_for_update().get(id=original_id)
    if original.kind != Transaction.Kind.SPEND or original.status != Transaction.Status.POSTED:
        state = "already reversed" if original.status == Transaction.Status.REVERSED else original.status
        raise Conflict(f"Only a posted spend can be reversed; this one is {state}.")
    totals, keys, _ = _spend_totals(original)
    now = timezone.now()
    reversal = Transaction.objects.create(
        organization_id=original.organization_id,
        kind=Transaction.Kind.REVERSAL,
        status=Transaction.Status.POSTED,
        amount_minor=original.amount_minor,
        currency=original.currency,
        merchant=original.merchant,
        category=original.category,
        description=f"Reversal of {original.id}",
        department_id=original.department_id,
        employee_id=original.employee_id,
        created_by=actor,
        budget_month=original.budget_month,
        idempotency_key=key,
        request_fingerprint=request_fingerprint,
        created_at=now,
        processed_at=now,
        reversal_of=original,
        reason=reason,
    )
    _write_journals(
        organization=original.organization,
        journals=[_Journal(reversal.id, original.department_id, -original.amount_minor)],
        now=now,
    )
    totals.unpost(keys, original.amount_minor)
    totals.write(now=now)
    original.status = Transaction.Status.REVERSED
    original.save(update_fields=["status"])
    _emit_money_events(
        organization=original.organization,
        spends=[(original, original.status, "")],
        totals=totals,
        occurred_at=now,
        extra={"reversal": {"id": str(reversal.id), "reason": reason}},
    )
    audit_record(
        actor=actor,
        action=AuditEvent.Action.TRANSACTION_REVERSED,
        target=original,
        before={"status": Transaction.Status.POSTED},
        after={"status": Transaction.Status.REVERSED, "reversal": str(reversal.id), "reason": reason},
    )
    return reversal
