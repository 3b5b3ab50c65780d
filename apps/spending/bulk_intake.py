"""Bulk intake: up to BULK_ITEMS_MAX spends in one request, each answered on its own, the batch replayable.

Every item passes the rules a spend sent alone passes (apps/spending/acceptance.py), in the order of
the batch. The spender's gates (frozen, rate limit, settlement backlog) are the batch's: they refuse the
whole of it, as they would each of its spends, and count each item as a hit. An item's refusal is its own
answer; the others are accepted.

The batch's Idempotency-Key is held by its SpendBatch row, written in one database transaction with every
accepted spend (one INSERT for them all): a batch is recorded whole or not at all, and a retry of one that
failed on the way completes it. Each accepted spend's own key is `bulk:<batch id>:<index>`, a key no client
can have used before the batch existed. The batch's answer is kept with it: the same key and body answer
the same bytes again, whatever happened since (settlement, a new rate, a freeze); another body is refused
(422) as a single spend's is. Two identical batches racing meet on the key's unique index: the second waits
for the first to commit and answers with its answer.
"""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import orjson
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.fx.selectors import RateMemo
from apps.ledger.models import Transaction
from apps.tenancy.models import Organization, User
from ledgerx.errors import InvalidInput, LedgerXError, error_body

from .acceptance import (
    PreparedSpend,
    SpendInput,
    departments_named,
    spend_admit,
    spend_columns,
    spend_gates,
    spend_insert_many,
    spend_instance,
    spend_prepare,
)
from .idempotency import check_replay, fingerprint, validate_key, violated_constraint
from .models import SpendBatch
from .wakeups import settlement_request_after_accept

BULK_ITEMS_MAX = 1000
BATCH_KEY_CONSTRAINT = "spend_batch_key_per_organization"
ACCEPTED_STATUS = 202


@dataclass(frozen=True)
class BulkItem:
    """One item of a batch as the API read it: what was sent, and the spend it makes or why it makes none."""

    sent: object
    spend: SpendInput | None = None
    refusal: LedgerXError | None = None


@dataclass(frozen=True)
class BulkAnswer:
    """The batch's answer as JSON, and whether it was given before (a replay)."""

    body: bytes
    replayed: bool


def transaction_submit_bulk(
    *,
    user: User,
    idempotency_key: str | None,
    items: Sequence[BulkItem],
    represent: Callable[[Transaction], dict],
) -> BulkAnswer:
    """Accept the batch's good spends as `pending`, in one database transaction, and answer every item at
    its index: `represent(spend)` for an accepted one, its error for a refused one.

    Called outside any transaction, as the API does: the batch commits on its own, and the unique
    violation that finds a racing twin would abort a caller's transaction.
    """
    organization = user.organization
    key = validate_key(idempotency_key)
    if not 1 <= len(items) <= BULK_ITEMS_MAX:
        raise InvalidInput(
            f"A batch holds 1 to {BULK_ITEMS_MAX:,} spends.", fields={"items": [f"From 1 to {BULK_ITEMS_MAX:,}."]}
        )
    request_fingerprint = fingerprint({"user": user.id, "items": [item.sent for item in items]})
    earlier = _batch_answer(organization=organization, key=key, request_fingerprint=request_fingerprint)
    if earlier is not None:
        return BulkAnswer(earlier, replayed=True)
    spend_gates(user, spends=len(items))

    batch_id = uuid.uuid4()
    now = timezone.now()
    departments = departments_named(user=user, ids=[item.spend.department_id for item in items if item.spend])
    rates: RateMemo = {}
    accepted: list[tuple[PreparedSpend, dict[str, object]]] = []
    results: list[dict] = []
    for index, item in enumerate(items):
        # A microsecond apart, in the batch's order: lists show them so, and settlement claims them so.
        at = now + timedelta(microseconds=index)
        try:
            if item.refusal is not None:
                raise item.refusal
            prepared = spend_prepare(user=user, spend=item.spend, departments=departments)
            conversion = spend_admit(prepared, at=at, rates=rates)
        except LedgerXError as refusal:
            results.append(
                {"index": index, "status": refusal.status, **error_body(refusal.code, refusal.message, refusal.fields)}
            )
            continue
        columns = spend_columns(
            prepared,
            conversion=conversion,
            idempotency_key=f"bulk:{batch_id}:{index}",
            request_fingerprint=fingerprint(prepared.request),
            at=at,
        )
        accepted.append((prepared, columns))
        results.append(
            {"index": index, "status": ACCEPTED_STATUS, "transaction": represent(spend_instance(prepared, columns))}
        )
    # As the API's renderer writes JSON (ledgerx/renderers.py).
    answer = orjson.dumps(
        {"accepted": len(accepted), "refused": len(items) - len(accepted), "results": results},
        default=str,
        option=orjson.OPT_NON_STR_KEYS,
    )

    try:
        with transaction.atomic():
            # The batch's row first: a twin racing this one waits here, on the key, for this one to commit.
            SpendBatch.objects.create(
                id=batch_id,
                organization=organization,
                submitted_by=user,
                idempotency_key=key,
                request_fingerprint=request_fingerprint,
                created_at=now,
                item_count=len(items),
                accepted_count=len(accepted),
                answer=answer.decode(),
            )
            if accepted:
                spend_insert_many(accepted)
                transaction.on_commit(lambda: settlement_request_after_accept(organization_id=organization.id))
    except IntegrityError as error:
        if violated_constraint(error) != BATCH_KEY_CONSTRAINT:
            raise
        return BulkAnswer(
            _batch_answer(organization=organization, key=key, request_fingerprint=request_fingerprint),
            replayed=True,
        )
    return BulkAnswer(answer, replayed=False)


def _batch_answer(*, organization: Organization, key: str, request_fingerprint: str) -> bytes | None:
    """The answer the batch under this key was given, if there is one; refused if it came from another request."""
    batch = (
        SpendBatch.objects.of(organization).filter(idempotency_key=key).only("request_fingerprint", "answer").first()
    )
    if batch is None:
        return None
    check_replay(stored_fingerprint=batch.request_fingerprint, request_fingerprint=request_fingerprint)
    return batch.answer.encode()
