"""What every spend passes on its way in, sent alone (intake) or in a batch (bulk_intake): one
statement of each rule, which both call.

Its fields cleaned and its department found (`spend_prepare`), the spender's gates (`spend_gates`:
frozen, rate limit, settlement backlog), its conversion and the spend policy (`spend_admit`), and its
row (`spend_columns`), written by one INSERT (`spend_insert`) or one per batch (`spend_insert_many`).
"""

import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection

from apps.controls.policy import SpendFacts
from apps.controls.selectors import policy_check_at_acceptance
from apps.fx.selectors import Conversion, RateMemo, spend_conversion
from apps.ledger.closing import month_is_closed
from apps.ledger.ids import transaction_id
from apps.ledger.models import Transaction
from apps.tenancy.models import Department, Role, User
from apps.tenancy.selectors import spending_frozen_refusal
from ledgerx.db import json_rows, prepared_cursor
from ledgerx.errors import Forbidden, InvalidInput, NotFound, ServiceUnavailable
from ledgerx.money import MoneyError, currency_exponent, parse_amount
from ledgerx.months import month_start
from ledgerx.ratelimit import Hit, Limit, rate_limit_hit

SUBMITTED_KINDS = (Transaction.Kind.SPEND, Transaction.Kind.REIMBURSEMENT, Transaction.Kind.BILL)


def clean_text(value: str | None, *, field_name: str, max_length: int, required: bool) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidInput(f"{field_name.capitalize()} is required.", fields={field_name: ["This field is required."]})
    if len(text) > max_length:
        raise InvalidInput(
            f"{field_name.capitalize()} is too long.", fields={field_name: [f"At most {max_length} characters."]}
        )
    return text


@dataclass(frozen=True)
class SpendInput:
    """A spend as a client sends it (TransactionSubmitInput, alone or as a batch's item)."""

    amount: str
    currency: str
    merchant: str
    category: str
    description: str = ""
    department_id: uuid.UUID | None = None


@dataclass(frozen=True)
class PreparedSpend:
    """A spend whose fields passed every rule that needs no more than the request and its department."""

    user: User
    kind: str
    original_minor: int
    currency: str
    merchant: str
    category: str
    description: str
    department: Department
    incurred_on: date | None
    # The request as sent, in its own currency: a replay matches it whatever the rates do since.
    request: dict


def departments_named(*, user: User, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, Department]:
    """The organization's departments among `ids` other than the user's own, in one query (none if none)."""
    wanted = {named for named in ids if named is not None and named != user.department_id}
    if not wanted:
        return {}
    return {department.id: department for department in Department.objects.of(user.organization).filter(id__in=wanted)}


def spend_prepare(
    *,
    user: User,
    spend: SpendInput,
    departments: Mapping[uuid.UUID, Department],
    kind: str = Transaction.Kind.SPEND,
    incurred_on: date | None = None,
    fingerprint_extra: dict | None = None,
) -> PreparedSpend:
    """Check and clean a spend's fields; `departments` holds what departments_named found for it.
    Raises InvalidInput, NotFound (another organization's department) or Forbidden (an employee's
    spend from another department)."""
    if kind not in SUBMITTED_KINDS:
        raise ValueError(f"a {kind} is not submitted")
    try:
        currency_exponent(spend.currency)
    except MoneyError as error:
        raise InvalidInput(str(error), fields={"currency": [str(error)]}) from None
    try:
        original_minor = parse_amount(spend.amount, spend.currency)
    except MoneyError as error:
        raise InvalidInput(str(error), fields={"amount": [str(error)]}) from None
    merchant = clean_text(spend.merchant, field_name="merchant", max_length=200, required=True)
    category = clean_text(spend.category, field_name="category", max_length=64, required=True).lower()
    description = clean_text(spend.description, field_name="description", max_length=1000, required=False)
    department = _spend_department(user=user, department_id=spend.department_id, departments=departments)
    request = {
        **(fingerprint_extra or {}),
        "kind": kind,
        "user": user.id,
        "amount_minor": original_minor,
        "currency": spend.currency,
        "merchant": merchant,
        "category": category,
        "description": description,
        "department": department.id,
        **({"incurred_on": incurred_on} if incurred_on is not None else {}),
    }
    return PreparedSpend(
        user=user,
        kind=kind,
        original_minor=original_minor,
        currency=spend.currency,
        merchant=merchant,
        category=category,
        description=description,
        department=department,
        incurred_on=incurred_on,
        request=request,
    )


def _spend_department(
    *, user: User, department_id: uuid.UUID | None, departments: Mapping[uuid.UUID, Department]
) -> Department:
    """The department a spend comes from: the spender's own unless named; employees only their own."""
    if department_id is None or department_id == user.department_id:
        if user.department is None:
            raise InvalidInput("Name the department to spend from.", fields={"department": ["This field is required."]})
        return user.department
    department = departments.get(department_id)
    if department is None:
        raise NotFound("Department not found.")
    if user.role == Role.EMPLOYEE:
        raise Forbidden("Employees spend from their own department.")
    return department


def spend_gates(user: User, *, spends: int = 1) -> None:
    """Refuse new spends of a frozen user, over the user's rate limit (each spend is a hit, replays of a
    single spend too), or while settlement is behind; before conversions and the spend policy, which read
    the database."""
    if user.frozen_at is not None:
        raise Forbidden(spending_frozen_refusal(email=user.email, reason=user.frozen_reason))
    rate_limit_hit(Hit("spend", str(user.id), Limit(*settings.RATE_LIMIT_SPEND_PER_USER)), count=spends)
    _check_backlog()


def spend_admit(spend: PreparedSpend, *, at: datetime, rates: RateMemo | None = None) -> Conversion:
    """Convert the spend made `at` into the base currency and ask the spend policy of it, by itself.

    Raises FxRateMissing or InvalidInput (no rate, or an amount that converts to nothing), or
    PolicyRefused (403): settlement decides every rule again, with the totals the limits count.
    `rates` is a memo a batch's spends share, so that each currency's rate is read once.
    """
    organization = spend.user.organization
    try:
        conversion = spend_conversion(
            organization=organization, currency=spend.currency, amount_minor=spend.original_minor, at=at, rates=rates
        )
    except MoneyError as error:
        raise InvalidInput(str(error), fields={"amount": [str(error)]}) from None
    facts = SpendFacts(
        amount_minor=conversion.base_minor,
        category=spend.category,
        merchant=spend.merchant,
        description=spend.description,
        employee_id=spend.user.id,
        employee_role=spend.user.role,
        department_id=spend.department.id,
        created_at=at,
        budget_month=budget_month_of(spend, at=at),
    )
    policy_check_at_acceptance(organization=organization, spend=facts)
    return conversion


def budget_month_of(spend: PreparedSpend, *, at: datetime) -> date:
    """The budget month a spend counts in: the month it is accepted in, or a bill's own month (the month of
    its date, as accrual books it), unless finance closed that month: then the month it is accepted in."""
    accepted_in = month_start(at, spend.user.organization.timezone)
    if spend.kind != Transaction.Kind.BILL or spend.incurred_on is None:
        return accepted_in
    bill_month = spend.incurred_on.replace(day=1)
    if bill_month > accepted_in or month_is_closed(organization=spend.user.organization, month=bill_month):
        return accepted_in
    return bill_month


def spend_columns(
    spend: PreparedSpend, *, conversion: Conversion, idempotency_key: str, request_fingerprint: str, at: datetime
) -> dict[str, object]:
    """Every column of the new pending spend's row, by attribute name."""
    user = spend.user
    organization = user.organization
    return {
        "id": transaction_id(),
        "organization_id": organization.id,
        "kind": Transaction.Kind(spend.kind).value,
        "status": Transaction.Status.PENDING.value,
        "amount_minor": conversion.base_minor,
        "currency": organization.currency,
        "original_amount_minor": spend.original_minor,
        "original_currency": spend.currency,
        "fx_rate": conversion.rate,
        "fx_rate_date": conversion.rate_date,
        "merchant": spend.merchant,
        "category": spend.category,
        "description": spend.description,
        "department_id": spend.department.id,
        "employee_id": user.id,
        "created_by_id": user.id,
        "budget_month": budget_month_of(spend, at=at),
        "idempotency_key": idempotency_key,
        "request_fingerprint": request_fingerprint,
        "created_at": at,
        "processed_at": None,
        "rejection_reason": "",
        "policy_version": None,
        "reversal_of_id": None,
        "reason": "",
        "incurred_on": spend.incurred_on,
    }


_TRANSACTION_FIELDS = Transaction._meta.concrete_fields
_TABLE = connection.ops.quote_name(Transaction._meta.db_table)
_COLUMNS = ", ".join(connection.ops.quote_name(field.column) for field in _TRANSACTION_FIELDS)
# Identifiers and types from the model, quoted; every value is a bound parameter.
_INSERT_TRANSACTION = f"INSERT INTO {_TABLE} ({_COLUMNS}) VALUES ({', '.join(['%s'] * len(_TRANSACTION_FIELDS))})"  # noqa: S608
_INSERT_TRANSACTIONS = (
    f"INSERT INTO {_TABLE} ({_COLUMNS}) SELECT {_COLUMNS} FROM json_to_recordset(%s::json) AS v("  # noqa: S608
    + ", ".join(
        f"{connection.ops.quote_name(field.column)} {field.db_type(connection)}" for field in _TRANSACTION_FIELDS
    )
    + ")"
)


def spend_insert(spend: PreparedSpend, columns: dict[str, object]) -> Transaction:
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
    return spend_instance(spend, columns)


def spend_insert_many(accepted: list[tuple[PreparedSpend, dict[str, object]]]) -> None:
    """INSERT new transaction rows, each given as to spend_insert, in one statement: the rows travel as one
    JSON parameter (ledgerx.db.json_rows), so a batch of 1,000 costs one round trip, not 1,000."""
    rows = [
        {field.column: _json_value(columns[field.attname]) for field in _TRANSACTION_FIELDS} for _, columns in accepted
    ]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_TRANSACTIONS, [json_rows(rows)])


def _json_value(value: object) -> object:
    # orjson writes uuids, dates and datetimes itself; an exact rate travels as its decimal text.
    return str(value) if isinstance(value, Decimal) else value


def spend_instance(spend: PreparedSpend, columns: dict[str, object]) -> Transaction:
    """The instance of the row `columns` make, as loaded from the database, with no query."""
    row = Transaction.from_db(DEFAULT_DB_ALIAS, None, [columns[field.attname] for field in _TRANSACTION_FIELDS])
    # The answer names the department and the employee: the instances at hand, not a query.
    Transaction.department.field.set_cached_value(row, spend.department)
    Transaction.employee.field.set_cached_value(row, spend.user)
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
