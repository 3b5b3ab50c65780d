import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.budgets.locks import lock_budget_periods, organization_settlement_lock
from apps.budgets.services import budget_periods_open, month_start
from apps.tenancy.models import Department, Organization, Role, User
from ledgerx.errors import Conflict, Forbidden, InvalidInput, NotFound
from ledgerx.money import MoneyError, format_money, parse_amount

from . import idempotency
from .models import Account, Entry, Transaction

logger = logging.getLogger(__name__)

RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization failure, deadlock detected
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


def _idempotent_create(
    *, organization: Organization, key: str, request: dict, create: Callable[[str], Transaction]
) -> tuple[Transaction, bool]:
    """Run `create(fingerprint)` at most once per (organization, key); a repeat returns the first result.

    Returns the transaction and whether this call was a replay.
    """
    request_fingerprint = idempotency.fingerprint(request)
    claim = idempotency.claim(organization_id=organization.id, key=key, request_fingerprint=request_fingerprint)
    if claim.replay_of is not None:
        existing = Transaction.objects.of(organization).filter(id=claim.replay_of).first()
        if existing is not None:
            return existing, True
    try:
        created = create(request_fingerprint)
    except IntegrityError as error:
        idempotency.release(claim)
        if _constraint_name(error) != IDEMPOTENCY_CONSTRAINT:
            raise
        existing = Transaction.objects.of(organization).get(idempotency_key=key)
        idempotency.check_replay(
            stored_fingerprint=existing.request_fingerprint, request_fingerprint=request_fingerprint
        )
        idempotency.complete(claim, transaction_id=existing.id)
        return existing, True
    except BaseException:
        idempotency.release(claim)
        raise
    idempotency.complete(claim, transaction_id=created.id)
    return created, False


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
    if department_id is None:
        if user.department_id is None:
            raise InvalidInput("Name the department to spend from.", fields={"department": ["This field is required."]})
        department_id = user.department_id
    elif user.role == Role.EMPLOYEE and department_id != user.department_id:
        if not Department.objects.of(organization).filter(id=department_id).exists():
            raise NotFound("Department not found.")
        raise Forbidden("Employees spend from their own department.")
    elif not Department.objects.of(organization).filter(id=department_id).exists():
        raise NotFound("Department not found.")

    request = {
        "kind": "spend",
        "user": user.id,
        "amount_minor": amount_minor,
        "currency": currency,
        "merchant": merchant,
        "category": category,
        "description": description,
        "department": department_id,
    }
    now = timezone.now()

    def create(request_fingerprint: str) -> Transaction:
        with transaction.atomic():
            spend = Transaction.objects.create(
                organization=organization,
                kind=Transaction.Kind.SPEND,
                amount_minor=amount_minor,
                currency=currency,
                merchant=merchant,
                category=category,
                description=description,
                department_id=department_id,
                employee=user,
                created_by=user,
                budget_month=month_start(now, organization.timezone),
                idempotency_key=key,
                request_fingerprint=request_fingerprint,
                created_at=now,
            )
            transaction.on_commit(lambda: settlement_request(organization_id=organization.id, transaction_id=spend.id))
        return spend

    return _idempotent_create(organization=organization, key=key, request=request, create=create)


def settlement_request(*, organization_id: uuid.UUID, transaction_id: uuid.UUID | None = None) -> None:
    """Queue settlement. If the broker is unreachable the spend stays pending and the sweeper queues it."""
    from .tasks import settle_pending

    try:
        settle_pending.delay(str(organization_id), str(transaction_id) if transaction_id else None)
    except Exception as error:  # noqa: BLE001 - any broker failure leaves the work to the sweeper
        logger.warning("could not queue settlement, the sweeper will: %s", error)


def _run_serializable(operation: Callable[[], object]) -> object:
    """Run `operation` in a SERIALIZABLE transaction, retrying serialization failures and deadlocks."""
    attempts = settings.SETTLEMENT_MAX_RETRIES
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
                return operation()
        except OperationalError as error:
            sqlstate = getattr(error.__cause__, "sqlstate", None)
            if sqlstate not in RETRYABLE_SQLSTATES or attempt == attempts:
                raise
            logger.info("retrying after %s (attempt %d)", sqlstate, attempt)
            time.sleep(random.uniform(0, 0.01 * 2**attempt))
    raise AssertionError("unreachable")


@dataclass
class SettlementResult:
    posted: list[uuid.UUID] = field(default_factory=list)
    rejected: list[uuid.UUID] = field(default_factory=list)
    more_pending: bool = False

    @property
    def settled(self) -> int:
        return len(self.posted) + len(self.rejected)


def _lineage(department_id: uuid.UUID, parents: dict[uuid.UUID, uuid.UUID | None]) -> list[uuid.UUID]:
    lineage = [department_id]
    while parents[lineage[-1]] is not None:
        lineage.append(parents[lineage[-1]])
    return lineage


def _rejection_reason(*, department_name: str, limit: int, current: int, requested: int, currency: str) -> str:
    return (
        f"Department '{department_name}' budget exceeded. Limit: {format_money(limit, currency)}, "
        f"Current: {format_money(current, currency)}, Requested: {format_money(requested, currency)}"
    )


def settlement_run(
    *, organization_id: uuid.UUID, transaction_id: uuid.UUID | None = None, batch_size: int | None = None
) -> SettlementResult:
    """Settle the organization's pending spends, oldest first, up to `batch_size` in one transaction.

    Takes the organization's settlement lock. A spend that is no longer pending is left alone, so
    delivering the same request twice settles nothing twice.
    """
    batch_size = batch_size or settings.SETTLEMENT_BATCH_SIZE
    with organization_settlement_lock(organization_id):
        pending = Transaction.objects.filter(
            organization_id=organization_id, status=Transaction.Status.PENDING, kind=Transaction.Kind.SPEND
        )
        candidate_ids = list(pending.order_by("created_at", "id").values_list("id", flat=True)[:batch_size])
        if transaction_id is not None and transaction_id not in candidate_ids:
            candidate_ids.append(transaction_id)
        if not candidate_ids:
            return SettlementResult()
        result = _run_serializable(lambda: _settle_batch(organization_id=organization_id, candidate_ids=candidate_ids))
        result.more_pending = len(candidate_ids) >= batch_size
        return result


def _settle_batch(*, organization_id: uuid.UUID, candidate_ids: list[uuid.UUID]) -> SettlementResult:
    """Decide each claimed spend in arrival order against running totals; write set-based.

    The caller holds the organization's settlement lock and runs this in a SERIALIZABLE transaction.
    """
    spends = list(
        Transaction.objects.select_for_update(skip_locked=True)
        .filter(id__in=candidate_ids, status=Transaction.Status.PENDING, kind=Transaction.Kind.SPEND)
        .order_by("created_at", "id")
        .only("id", "amount_minor", "department_id", "budget_month")
    )
    result = SettlementResult()
    if not spends:
        return result
    organization = Organization.objects.get(id=organization_id)
    departments = {
        row[0]: row[1:]
        for row in Department.objects.filter(organization_id=organization_id).values_list("id", "parent_id", "name")
    }
    parents = {department_id: parent_id for department_id, (parent_id, _) in departments.items()}
    lineages = {spend.department_id: _lineage(spend.department_id, parents) for spend in spends}

    months: dict = {}
    for spend in spends:
        months.setdefault(spend.budget_month, set()).update(lineages[spend.department_id])
    for month, department_ids in months.items():
        budget_periods_open(department_ids=list(department_ids), month=month)
    periods = lock_budget_periods(department_ids={d for ids in months.values() for d in ids}, months=months.keys())
    running = {key: period.spent_minor for key, period in periods.items()}

    accounts = Account.objects.filter(organization_id=organization_id).values_list("id", "kind", "department_id")
    card_account = next(account_id for account_id, kind, _ in accounts if kind == Account.Kind.CARD_FUNDING)
    expense_accounts = {
        department_id: account_id for account_id, kind, department_id in accounts if kind == Account.Kind.EXPENSE
    }

    entry_transactions, entry_accounts, entry_amounts = [], [], []
    status_ids, statuses, reasons = [], [], []
    for spend in spends:
        keys = [(department_id, spend.budget_month) for department_id in lineages[spend.department_id]]
        failing = next((k for k in keys if running[k] + spend.amount_minor > periods[k].limit_minor), None)
        status_ids.append(spend.id)
        if failing is not None:
            statuses.append(Transaction.Status.REJECTED)
            reasons.append(
                _rejection_reason(
                    department_name=departments[failing[0]][1],
                    limit=periods[failing].limit_minor,
                    current=running[failing],
                    requested=spend.amount_minor,
                    currency=organization.currency,
                )
            )
            result.rejected.append(spend.id)
            continue
        for k in keys:
            running[k] += spend.amount_minor
        entry_transactions += [spend.id, spend.id]
        entry_accounts += [card_account, expense_accounts[spend.department_id]]
        entry_amounts += [-spend.amount_minor, spend.amount_minor]
        statuses.append(Transaction.Status.POSTED)
        reasons.append("")
        result.posted.append(spend.id)

    now = timezone.now()
    changed = [(periods[k].pk, total) for k, total in running.items() if total != periods[k].spent_minor]
    with connection.cursor() as cursor:
        if entry_transactions:
            cursor.execute(
                """
                INSERT INTO ledger_entry
                    (organization_id, transaction_id, account_id, amount_minor, currency, created_at)
                SELECT %s, v.transaction_id, v.account_id, v.amount_minor, %s, %s
                FROM unnest(%s::uuid[], %s::uuid[], %s::bigint[]) AS v(transaction_id, account_id, amount_minor)
                """,
                [organization_id, organization.currency, now, entry_transactions, entry_accounts, entry_amounts],
            )
        if changed:
            cursor.execute(
                """
                UPDATE budgets_budgetperiod p SET spent_minor = v.spent_minor, updated_at = %s
                FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, spent_minor) WHERE p.id = v.id
                """,
                [now, [pk for pk, _ in changed], [total for _, total in changed]],
            )
        cursor.execute(
            """
            UPDATE ledger_transaction t SET status = v.status, rejection_reason = v.reason, processed_at = %s
            FROM unnest(%s::uuid[], %s::text[], %s::text[]) AS v(id, status, reason) WHERE t.id = v.id
            """,
            [now, status_ids, [str(s) for s in statuses], reasons],
        )
    return result


def settlement_sweep() -> int:
    """Queue settlement for every organization with a spend pending longer than it should be.

    This is what makes a lost queue message or a killed worker harmless.
    """
    cutoff = timezone.now() - timezone.timedelta(seconds=settings.SETTLEMENT_SWEEP_AFTER_SECONDS)
    organization_ids = list(
        Transaction.objects.filter(status=Transaction.Status.PENDING, created_at__lt=cutoff)
        .values_list("organization_id", flat=True)
        .distinct()
    )
    for organization_id in organization_ids:
        settlement_request(organization_id=organization_id)
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

    def create(request_fingerprint: str) -> Transaction:
        with organization_settlement_lock(organization.id):
            return _run_serializable(
                lambda: _reverse(
                    actor=actor,
                    original_id=original_id,
                    reason=reason,
                    key=key,
                    request_fingerprint=request_fingerprint,
                )
            )

    return _idempotent_create(organization=organization, key=key, request=request, create=create)


def _reverse(*, actor: User, original_id: uuid.UUID, reason: str, key: str, request_fingerprint: str) -> Transaction:
    """The caller holds the organization's settlement lock, in a SERIALIZABLE transaction."""
    original = Transaction.objects.select_for_update().get(id=original_id)
    if original.kind != Transaction.Kind.SPEND or original.status != Transaction.Status.POSTED:
        state = "already reversed" if original.status == Transaction.Status.REVERSED else original.status
        raise Conflict(f"Only a posted spend can be reversed; this one is {state}.")
    parents = dict(Department.objects.filter(organization_id=original.organization_id).values_list("id", "parent_id"))
    lineage = _lineage(original.department_id, parents)
    periods = lock_budget_periods(department_ids=lineage, months=[original.budget_month])
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
    card_account = Account.objects.get(organization_id=original.organization_id, kind=Account.Kind.CARD_FUNDING)
    expense_account = Account.objects.get(department_id=original.department_id)
    Entry.objects.bulk_create(
        [
            Entry(
                organization_id=original.organization_id,
                transaction=reversal,
                account=card_account,
                amount_minor=original.amount_minor,
                currency=original.currency,
                created_at=now,
            ),
            Entry(
                organization_id=original.organization_id,
                transaction=reversal,
                account=expense_account,
                amount_minor=-original.amount_minor,
                currency=original.currency,
                created_at=now,
            ),
        ]
    )
    for department_id in lineage:
        period = periods[(department_id, original.budget_month)]
        period.spent_minor -= original.amount_minor
        period.updated_at = now
        period.save(update_fields=["spent_minor", "updated_at"])
    original.status = Transaction.Status.REVERSED
    original.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.TRANSACTION_REVERSED,
        target=original,
        before={"status": Transaction.Status.POSTED},
        after={"status": Transaction.Status.REVERSED, "reversal": str(reversal.id), "reason": reason},
    )
    return reversal
