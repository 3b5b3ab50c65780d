"""verify_ledger against tampering with a closed month below the application (tests.owner), as
test_verify_tampering.py does for the rest of the ledger. October 2025 is closed on 3 November."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from apps.ledger.closing import month_close
from apps.ledger.models import MonthClose
from apps.ledger.verification import ledger_verify
from tests.owner import owner_cursor, triggers_off
from tests.spends import spend_settled

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def closed_october(tenant):
    with time_machine.travel(datetime(2025, 10, 15, tzinfo=UTC), tick=True):
        october = spend_settled(tenant.employee, "40.00")
    with time_machine.travel(datetime(2025, 11, 3, tzinfo=UTC), tick=True):
        month_close(actor=tenant.finance, month=date(2025, 10, 1))
        november = spend_settled(tenant.employee, "7.00")
    return october, november


def _problems(tenant) -> list[str]:
    return ledger_verify(organization=tenant.organization)["problems"]


def test_entries_dated_into_a_closed_month_after_its_close(tenant, closed_october):
    _, november = closed_october
    with owner_cursor() as cursor, triggers_off(cursor, "ledger_entry"):
        cursor.execute(
            "UPDATE ledger_entry SET created_at = '2025-10-31 12:00+00' WHERE transaction_id = %s", [november.id]
        )
    high_water = MonthClose.objects.get().entry_high_water
    slug = tenant.organization.slug
    assert (
        f"2 entries of organization '{slug}' are dated into 2025-10 after it was closed "
        f"(ids above {high_water}, the highest at its close)."
    ) in _problems(tenant)


def test_entries_moved_out_of_a_closed_month(tenant, closed_october):
    october, _ = closed_october
    with owner_cursor() as cursor, triggers_off(cursor, "ledger_entry"):
        cursor.execute(
            "UPDATE ledger_entry SET created_at = '2025-11-01 00:00+00' WHERE transaction_id = %s", [october.id]
        )
    assert (
        f"Closed month 2025-10 of organization '{tenant.organization.slug}' has 0 entries, 0 debits and 0 credits "
        "up to its close; the close recorded 2, 4000 and 4000."
    ) in _problems(tenant)


def test_a_close_recorded_with_other_totals(tenant, closed_october):
    with owner_cursor() as cursor, triggers_off(cursor, "ledger_monthclose"):
        cursor.execute("UPDATE ledger_monthclose SET debits_minor = 1, credits_minor = 1")
    assert (
        f"Closed month 2025-10 of organization '{tenant.organization.slug}' has 2 entries, 4000 debits and 4000 "
        "credits up to its close; the close recorded 2, 1 and 1."
    ) in _problems(tenant)


def test_the_closed_month_trigger_switched_off(tenant, closed_october):
    with owner_cursor() as cursor:
        cursor.execute("ALTER TABLE ledger_entry DISABLE TRIGGER ledger_entry_month_open")
        try:
            problems = _problems(tenant)
        finally:
            cursor.execute("ALTER TABLE ledger_entry ENABLE TRIGGER ledger_entry_month_open")
    assert any("ledger_entry_month_open" in problem for problem in problems), problems
