"""Intake: a spend accepted as `pending` with one INSERT, its settlement queued after commit."""

import uuid
from collections.abc import Callable
from datetime import date

from django.db import transaction
from django.utils import timezone

from apps.fx.selectors import Conversion
from apps.ledger.models import Transaction
from apps.tenancy.models import User

from .acceptance import (
    SpendInput,
    departments_named,
    spend_admit,
    spend_columns,
    spend_gates,
    spend_insert,
    spend_prepare,
)
from .idempotency import idempotent_create, validate_key
from .wakeups import settlement_request_after_accept


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
    kind: str = Transaction.Kind.SPEND,
    incurred_on: date | None = None,
    on_accept: Callable[[Transaction], None] | None = None,
    fingerprint_extra: dict | None = None,
) -> tuple[Transaction, bool]:
    """Accept a spend as `pending` (one INSERT) and queue its settlement after commit.

    `kind` is `spend` (a card spend) or `reimbursement` (an employee's claim, apps/reimbursements, with the
    day it was `incurred_on`): both take this one path and are settled alike. `on_accept(transaction)`
    runs in the transaction of the INSERT, for what must be written with a new spend or not at all (a
    claim's receipt and its event); `fingerprint_extra` joins what a replay must repeat (a claim's
    receipt digest) to the request's fingerprint.

    Called outside any transaction, as the API does: the INSERT commits on its own, and the unique
    violation that finds a replay would abort a caller's transaction. Each user submits at most
    RATE_LIMIT_SPEND_PER_USER spends a minute (replays included). A spend in another currency than the
    organization's is converted at the rate of its day (apps/fx), or refused (FxRateMissing) without one.
    A spend that breaks, by itself, a rule of the organization's spend policy is refused here
    (PolicyRefused, 403) and nothing is written; settlement decides every rule again, with the totals the
    limits count.
    Returns the transaction and whether this was a replay of an earlier request with the same key.
    """
    organization = user.organization
    key = validate_key(idempotency_key)
    spend = SpendInput(
        amount=amount,
        currency=currency,
        merchant=merchant,
        category=category,
        description=description,
        department_id=department_id,
    )
    prepared = spend_prepare(
        user=user,
        spend=spend,
        departments=departments_named(user=user, ids=[department_id]),
        kind=kind,
        incurred_on=incurred_on,
        fingerprint_extra=fingerprint_extra,
    )
    now = timezone.now()
    converted: list[Conversion] = []

    def admission() -> None:
        spend_gates(user)
        # Converted here, where a refusal (no rate for the day) still lets a replay answer with its spend.
        converted.append(spend_admit(prepared, at=now))

    def create(request_fingerprint: str) -> tuple[Transaction, bool]:
        # One INSERT, committed on its own (with what on_accept writes): no budget row is touched on the way in.
        if on_accept is not None:
            with transaction.atomic():
                accepted = insert_row(request_fingerprint)
                on_accept(accepted)
        else:
            accepted = insert_row(request_fingerprint)
        transaction.on_commit(lambda: settlement_request_after_accept(organization_id=organization.id))
        return accepted, False

    def insert_row(request_fingerprint: str) -> Transaction:
        [conversion] = converted
        columns = spend_columns(
            prepared, conversion=conversion, idempotency_key=key, request_fingerprint=request_fingerprint, at=now
        )
        return spend_insert(prepared, columns)

    return idempotent_create(
        organization=organization,
        key=key,
        request=prepared.request,
        create=create,
        admission=admission,
    )
