"""bench/growth.py's generator at a tiny scale: what it builds, verify_ledger accepts (so it cannot rot)."""

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from django.db.models import Max, Min, Sum

from apps.budgets.models import BudgetPeriod
from apps.ledger.models import Entry, Transaction
from apps.ledger.verification import ledger_verify
from bench.growth import generate
from tests.owner import owner_connection_kwargs

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_generated_year_of_two_organizations_verifies():
    with psycopg.connect(**owner_connection_kwargs(), autocommit=True) as owner:
        figures = generate(
            owner,
            organizations=2,
            entries=400,
            departments=2,
            employees=3,
            checkpoint_days=30,
            checkpoint_links=50,
            progress=lambda message: None,
        )

    report = ledger_verify()
    assert report["ok"], report["problems"]
    checked = report["checked"]
    assert figures["entries"] == checked["entries"] == checked["sealed_entries"] == 400
    assert checked["chain_links_recomputed"] == 400
    assert checked["transactions"] == 200
    # A checkpoint every 50 links of each chain, its head among them; balance checkpoints through the year.
    assert checked["checkpoints"] == 8
    assert checked["balance_checkpoints"] > 2 * 3 * 12
    span = Entry.objects.aggregate(first=Min("created_at"), last=Max("created_at"))
    assert span["last"] - span["first"] > timedelta(days=360)
    spent = BudgetPeriod.objects.aggregate(total=Sum("spent_minor"))["total"]
    assert spent == Entry.objects.filter(amount_minor__gt=0).aggregate(total=Sum("amount_minor"))["total"] > 0
    # Each spend's id is a UUIDv7 of its own created_at, as the product's ids are of the time they are written.
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for spend_id, created_at in Transaction.objects.values_list("id", "created_at"):
        assert (spend_id.version, spend_id.variant) == (7, uuid.RFC_4122)
        assert spend_id.int >> 80 == (created_at - epoch) // timedelta(milliseconds=1)
