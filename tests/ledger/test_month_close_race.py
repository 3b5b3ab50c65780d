"""Closing a month races postings dated into it: no entry may land in the month after its close.

The postings are dated a moment before midnight and committed after it, as a settlement that took its
clock at 23:59:59 and wrote at 00:00:01 would be; the close runs at once in another thread. Some postings
go in before the close and are counted in its totals, the others are refused; verify_ledger's check of
closed months then finds nothing dated into October after its close.
"""

import threading
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.db import DatabaseError, transaction

from apps.ledger.closing import month_close
from apps.ledger.closing_verification import closed_month_problems
from apps.ledger.models import Entry, MonthClose
from apps.ledger.services import Journal, journal_write
from ledgerx.db import MONTH_CLOSED_SQLSTATE, run_serializable
from tests.conftest import run_in_threads
from tests.spends import spend_settled, spend_submit

pytestmark = pytest.mark.django_db(transaction=True)

OCTOBER = date(2025, 10, 1)
BEFORE_MIDNIGHT = datetime(2025, 10, 31, 23, 59, 59, tzinfo=UTC)
AFTER_MIDNIGHT = datetime(2025, 11, 1, 0, 0, 1, tzinfo=UTC)
POSTERS = 6
# Each poster posts until it is refused, at most this many times.
POSTINGS_EACH = 40


def test_a_close_racing_postings_leaves_nothing_dated_into_the_month_after_it(tenant):
    with time_machine.travel(datetime(2025, 10, 15, tzinfo=UTC), tick=True):
        spend_settled(tenant.employee, "40.00")
    with time_machine.travel(AFTER_MIDNIGHT, tick=True):
        # Each poster journals a spend of its own (counted in November), again and again.
        spends = [spend_submit(tenant.employee, "1.00") for _ in range(POSTERS)]

    def post(index: int) -> list[str]:
        spend = spends[index]
        journal = [
            Journal(spend.id, tenant.department.id, 100, spend.kind, spend.employee_id, spend.merchant, spend.category)
        ]

        def write() -> None:
            journal_write(organization=tenant.organization, journals=journal, now=BEFORE_MIDNIGHT)

        outcomes = []
        for _ in range(POSTINGS_EACH):
            try:
                if index % 2:  # settlement's way: SERIALIZABLE, retried
                    run_serializable(write)
                else:  # READ COMMITTED
                    with transaction.atomic():
                        write()
                outcomes.append("posted")
                first_posted.set()
            except DatabaseError as error:
                assert getattr(error.__cause__, "sqlstate", None) == MONTH_CLOSED_SQLSTATE, error
                outcomes.append("refused")
                break
        return outcomes

    first_posted = threading.Event()

    def act(index: int):
        if index == POSTERS:
            # The close starts once postings are under way, so that it lands among them.
            assert first_posted.wait(timeout=30)
            return month_close(actor=tenant.finance, month=OCTOBER, now=AFTER_MIDNIGHT)
        return post(index)

    results = run_in_threads(POSTERS + 1, act)

    close = MonthClose.objects.get()
    outcomes = [outcome for each in results[:POSTERS] for outcome in each]
    posted = outcomes.count("posted")
    october_entries = Entry.objects.filter(
        created_at__gte=datetime(2025, 10, 1, tzinfo=UTC), created_at__lt=AFTER_MIDNIGHT
    )
    # The spend of the 15th and every posting that went in, all before the close and counted by it.
    assert october_entries.count() == 2 + 2 * posted == close.entry_count
    assert not october_entries.filter(id__gt=close.entry_high_water).exists()
    # Postings went in before the close, and every poster was refused after it.
    assert posted and all(each[-1] == "refused" for each in results[:POSTERS])
    assert closed_month_problems(scope="", params=[]) == []
