"""Bulk intake at the service level: a batch is recorded whole or not at all, identical batches racing make
one set of spends, and settlement takes a batch's spends like any other, in the batch's order.

transaction=True: the races commit on connections of their own, and settlement locks outside a transaction.
"""

import functools
from decimal import Decimal

import orjson
import pytest
from django.db import OperationalError
from django.utils import timezone

from apps.fx import services as fx_services
from apps.ledger.models import Entry, Transaction
from apps.ledger.selectors import ledger_verify
from apps.spending import bulk_intake, services
from apps.spending.acceptance import SpendInput
from apps.spending.models import SpendBatch
from apps.spending.serializers import transaction_representation
from ledgerx.errors import IdempotencyKeyReused, InvalidInput
from tests.conftest import run_in_threads
from tests.factories import DepartmentFactory
from tests.spends import period_now, settle_all

pytestmark = pytest.mark.django_db(transaction=True)


def item(amount: str, currency: str = "USD", department=None) -> services.BulkItem:
    """An item as the API reads it: what was sent, and the spend it makes."""
    spend = SpendInput(
        amount=amount, currency=currency, merchant="Dell", category="equipment", department_id=department
    )
    sent = {"amount": amount, "currency": currency, "merchant": "Dell", "category": "equipment"}
    if department is not None:
        sent["department"] = str(department)
    return services.BulkItem(sent=sent, spend=spend)


def submit(user, items, key="batch") -> services.BulkAnswer:
    return services.transaction_submit_bulk(
        user=user,
        idempotency_key=key,
        items=items,
        represent=functools.partial(transaction_representation, viewer=user, as_accepted=True),
    )


def test_a_batch_that_fails_on_the_way_records_nothing_and_its_retry_completes_it(tenant, monkeypatch):
    real_insert = bulk_intake.spend_insert_many

    def insert_then_lose_the_connection(accepted):
        real_insert(accepted)  # the spends are written, then the process loses its database
        raise OperationalError("the connection was lost")

    monkeypatch.setattr(bulk_intake, "spend_insert_many", insert_then_lose_the_connection)
    items = [item(f"{n}.00") for n in range(1, 51)]
    with pytest.raises(OperationalError):
        submit(tenant.employee, items)
    assert not Transaction.objects.exists() and not SpendBatch.objects.exists()

    monkeypatch.undo()
    answer = submit(tenant.employee, items)
    assert not answer.replayed
    assert orjson.loads(answer.body)["accepted"] == 50
    assert Transaction.objects.count() == 50 and SpendBatch.objects.get().accepted_count == 50


def test_a_batch_of_1000_costs_a_handful_of_queries_not_one_per_spend(tenant, django_assert_max_num_queries):
    """Two departments and two currencies: each department and each currency's rate is read once, and
    the 1,000 rows are one INSERT."""
    sales = DepartmentFactory(organization=tenant.organization, name="Sales")
    fx_services.fx_rate_set(
        actor=tenant.finance,
        organization=tenant.organization,
        currency="EUR",
        rate_date=timezone.now().date(),
        rate=Decimal("1.08"),
    )
    departments = [tenant.department.id, sales.id]
    items = [
        item(f"{1 + n % 40}.00", currency=("USD", "EUR")[n % 2], department=departments[n % 3 == 0])
        for n in range(1000)
    ]
    with django_assert_max_num_queries(12):
        answer = orjson.loads(submit(tenant.finance, items).body)
    assert answer["accepted"] == 1000
    euro = Transaction.objects.filter(original_currency="EUR").order_by("created_at").first()
    assert (euro.original_amount_minor, euro.amount_minor, euro.fx_rate) == (200, 216, Decimal("1.08"))
    assert Transaction.objects.filter(department=sales).count() == 334


def test_the_batch_size_is_a_rule_of_the_service(tenant):
    with pytest.raises(InvalidInput):
        submit(tenant.employee, [item("1.00")] * 1001)
    with pytest.raises(InvalidInput):
        submit(tenant.employee, [])
    assert not SpendBatch.objects.exists()


def test_identical_batches_racing_make_one_set_of_spends_and_the_same_answer(tenant):
    items = [item(f"{1 + n % 40}.00") for n in range(300)]

    def race(index):
        return submit(tenant.employee, items, key="raced")

    answers = run_in_threads(4, race)
    assert len({answer.body for answer in answers}) == 1
    assert sorted(answer.replayed for answer in answers) == [False, True, True, True]
    # The invariant: one batch, exactly its accepted spends, each the one its answer names.
    assert SpendBatch.objects.count() == 1
    answered = [result["transaction"]["id"] for result in orjson.loads(answers[0].body)["results"]]
    assert sorted(str(pk) for pk in Transaction.objects.values_list("id", flat=True)) == sorted(answered)
    assert len(answered) == 300


def test_two_batches_racing_for_one_key_one_is_taken_the_other_refused(tenant):
    bodies = [[item("1.00")] * 20, [item("2.00")] * 20]

    def race(index):
        try:
            return submit(tenant.employee, bodies[index], key="contested")
        except IdempotencyKeyReused:
            return None

    answers = run_in_threads(2, race)
    assert sum(answer is None for answer in answers) == 1
    taken = next(answer for answer in answers if answer is not None)
    amounts = set(Transaction.objects.values_list("amount_minor", flat=True))
    assert Transaction.objects.count() == 20 and len(amounts) == 1
    assert orjson.loads(taken.body)["results"][0]["transaction"]["amount"] == f"{amounts.pop() // 100}.00"


def test_settlement_takes_a_batch_like_any_spend_in_the_batch_order(tenant):
    # Engineering's month holds 50,000.00: the third 20,000.00 does not fit, whichever order the claim took.
    items = [item("20000.00"), item("20000.00"), item("20000.00"), item("9999.99"), item("0.02")]
    answer = orjson.loads(submit(tenant.employee, items).body)
    ids = [result["transaction"]["id"] for result in answer["results"]]

    settle_all(tenant.organization)

    statuses = [Transaction.objects.get(id=spend_id).status for spend_id in ids]
    assert statuses == ["posted", "posted", "rejected", "posted", "rejected"]
    assert period_now(tenant.department).spent_minor == 4_999_999
    assert Entry.objects.count() == 2 * 3
    assert ledger_verify()["ok"]
    assert "budget" in Transaction.objects.get(id=ids[2]).rejection_reason.lower()
