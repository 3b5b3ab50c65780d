"""New transactions take time-ordered UUIDv7 ids (apps/ledger/ids.py), on every path that writes them, so that
the ones written later sort later, in Python and in PostgreSQL's index order alike."""

import functools
import time
import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from django.db import connection

from apps.ledger.ids import transaction_id, transaction_id_sql
from apps.ledger.models import Transaction
from apps.spending import services
from apps.spending.acceptance import SpendInput
from apps.spending.serializers import transaction_representation
from tests.spends import spend_reverse, spend_settled, spend_submit

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def unix_ms(value: uuid.UUID) -> int:
    """A UUIDv7's timestamp: its first 48 bits."""
    return value.int >> 80


def assert_v7(value: uuid.UUID) -> None:
    assert type(value) is uuid.UUID
    assert (value.version, value.variant) == (7, uuid.RFC_4122)


def test_a_transaction_id_is_a_stdlib_uuid_version_7_of_the_time_it_is_made():
    before = time.time_ns() // 1_000_000
    made = transaction_id()
    after = time.time_ns() // 1_000_000
    assert_v7(made)
    assert before <= unix_ms(made) <= after


def test_ids_made_one_after_another_increase_even_within_a_millisecond():
    made = [transaction_id() for _ in range(10_000)]
    assert made == sorted(made) and len(set(made)) == len(made)
    assert unix_ms(made[0]) == unix_ms(made[1])  # so the order within a millisecond is tested too


@pytest.mark.django_db
def test_spends_submitted_one_after_another_have_v7_ids_in_creation_order_in_the_database(tenant):
    submitted = [spend_submit(tenant.employee, f"{n}.00").id for n in range(1, 21)]
    for spend_id in submitted:
        assert_v7(spend_id)
    # PostgreSQL compares uuids byte by byte, so its index holds them in the order they were written.
    assert list(Transaction.objects.order_by("id").values_list("id", flat=True)) == submitted


@pytest.mark.django_db
def test_a_bulk_batch_has_v7_ids_in_the_batch_order(tenant):
    def item(amount: str) -> services.BulkItem:
        spend = SpendInput(amount=amount, currency="USD", merchant="Dell", category="equipment", department_id=None)
        return services.BulkItem(sent={"amount": amount, "currency": "USD"}, spend=spend)

    answer = services.transaction_submit_bulk(
        user=tenant.employee,
        idempotency_key="batch",
        items=[item(f"{n}.00") for n in range(1, 101)],
        represent=functools.partial(transaction_representation, viewer=tenant.employee, as_accepted=True),
    )
    answered = [uuid.UUID(result["transaction"]["id"]) for result in orjson.loads(answer.body)["results"]]
    assert len(answered) == 100
    for spend_id in answered:
        assert_v7(spend_id)
    assert list(Transaction.objects.order_by("id").values_list("id", flat=True)) == answered
    assert list(Transaction.objects.order_by("created_at").values_list("id", flat=True)) == answered


@pytest.mark.django_db(transaction=True)
def test_a_reversal_written_through_the_orm_gets_a_later_v7_id(tenant):
    spend = spend_settled(tenant.employee, "10.00")
    reversal = spend_reverse(tenant.finance, spend)
    assert_v7(reversal.id)
    assert reversal.id > spend.id


@pytest.mark.django_db
def test_the_sql_id_is_version_7_of_its_timestamp_to_the_millisecond():
    at = datetime(2026, 3, 4, 5, 6, 7, 891_999, tzinfo=UTC)
    times = [at, at + timedelta(microseconds=1), at - timedelta(days=400), at + timedelta(days=365 * 30)]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT t, {transaction_id_sql('t')} FROM unnest(%s::timestamptz[]) t", [times])
        rows = cursor.fetchall()
    assert len(rows) == len(times)
    for created_at, made in rows:
        assert_v7(made)
        assert unix_ms(made) == (created_at - EPOCH) // timedelta(milliseconds=1)
    ids = [made for _, made in rows]
    assert len(set(ids)) == len(ids)  # the rest is random, not derived from the time
