"""Month-end close (apps/ledger/closing.py and migration 0018): the acts and their rules, and what the
database refuses into a closed month. October 2025 is the month, on a travelled clock."""

from datetime import UTC, date, datetime

import psycopg
import pytest
import time_machine
from django.db import DatabaseError, connection, transaction

from apps.audit.models import AuditEvent
from apps.budgets.department_moves import department_change
from apps.budgets.models import BudgetPeriod
from apps.budgets.services import budget_period_set_limit
from apps.ledger import chain
from apps.ledger.closing import month_close, month_list, month_reopen
from apps.ledger.models import Entry, MonthClose, Transaction
from apps.ledger.services import Journal, journal_write
from apps.ledger.verification import ledger_verify
from ledgerx.errors import Conflict, Forbidden, InvalidInput
from tests.factories import DepartmentFactory
from tests.owner import owner_cursor
from tests.spends import refreshed, spend_reverse, spend_settled, spend_submit

pytestmark = pytest.mark.django_db(transaction=True)

OCTOBER = date(2025, 10, 1)
NOVEMBER = date(2025, 11, 1)
IN_OCTOBER = datetime(2025, 10, 15, 12, 0, tzinfo=UTC)
IN_NOVEMBER = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)


def at(moment: datetime):
    return time_machine.travel(moment, tick=True)


@pytest.fixture
def october(tenant) -> Transaction:
    """A spend posted in October 2025, and October closed by finance on 3 November."""
    with at(IN_OCTOBER):
        spend = spend_settled(tenant.employee, "40.00")
    with at(IN_NOVEMBER):
        month_close(actor=tenant.finance, month=OCTOBER)
    return spend


def assert_verified(tenant) -> None:
    """verify_ledger passes, the sealer having run since the last post (as it does every minute)."""
    chain.ledger_seal_all()
    report = ledger_verify(organization=tenant.organization)
    assert report["ok"], report["problems"]


def _budget(tenant, month: date) -> BudgetPeriod:
    return BudgetPeriod.objects.get(department=tenant.department, month=month)


def test_a_close_records_the_month_and_is_audited(tenant, october):
    close = MonthClose.objects.get()
    assert (close.act, close.month, close.acted_by, close.entry_count) == ("closed", OCTOBER, tenant.finance, 2)
    assert (close.debits_minor, close.credits_minor) == (4000, 4000)
    assert close.entry_high_water == Entry.objects.latest("id").id
    event = AuditEvent.objects.get(action=AuditEvent.Action.MONTH_CLOSED)
    assert (event.actor, event.after["month"], event.after["entries"]) == (tenant.finance, "2025-10", 2)
    [state] = month_list(organization=tenant.organization)
    assert (state.month, state.entry_count, state.closed, state.latest) == (OCTOBER, 2, True, close)
    assert_verified(tenant)


def test_a_closed_month_refuses_a_post_even_a_backdated_one(tenant, october):
    with at(IN_NOVEMBER):
        spend = spend_submit(tenant.employee, "5.00")
    backdated = [
        Journal(spend.id, tenant.department.id, 500, spend.kind, spend.employee_id, spend.merchant, spend.category)
    ]
    with pytest.raises(DatabaseError, match=r"month 2025-10 of organization .* is closed"), transaction.atomic():
        journal_write(organization=tenant.organization, journals=backdated, now=IN_OCTOBER)
    # Written directly, below every service, as the application's role.
    with pytest.raises(DatabaseError, match="is closed"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO ledger_entry (organization_id, transaction_id, account_id, amount_minor, currency, created_at)
            SELECT organization_id, %s, account_id, -amount_minor, currency, %s FROM ledger_entry WHERE id IN (
                SELECT id FROM ledger_entry WHERE transaction_id = %s)
            """,
            [spend.id, IN_OCTOBER, october.id],
        )
    assert Entry.objects.count() == 2
    # The open month takes the same post.
    with at(IN_NOVEMBER), transaction.atomic():
        journal_write(organization=tenant.organization, journals=backdated, now=IN_NOVEMBER)
    assert Entry.objects.count() == 4


def test_a_reversal_of_a_closed_months_spend_posts_in_the_open_month(tenant, october):
    october_budget = _budget(tenant, OCTOBER)
    with at(IN_NOVEMBER):
        reversal = spend_reverse(tenant.finance, october)
    assert reversal.reversal_of_id == october.id and refreshed(october).status == Transaction.Status.REVERSED
    assert reversal.budget_month == NOVEMBER
    assert {entry.created_at.month for entry in reversal.entries.all()} == {11}
    # The closed month's budget is as it was closed; the open month is credited with the reversal.
    unchanged = _budget(tenant, OCTOBER)
    assert (unchanged.spent_minor, unchanged.updated_at) == (4000, october_budget.updated_at)
    assert _budget(tenant, NOVEMBER).spent_minor == -4000
    assert_verified(tenant)


def test_a_reversal_in_an_open_month_still_counts_in_its_originals_month(tenant):
    with at(IN_OCTOBER):
        spend = spend_settled(tenant.employee, "40.00")
    with at(IN_NOVEMBER):
        reversal = spend_reverse(tenant.finance, spend)
    assert reversal.budget_month == OCTOBER and _budget(tenant, OCTOBER).spent_minor == 0
    assert_verified(tenant)


def test_a_closed_months_budget_does_not_change(tenant, october):
    with pytest.raises(Conflict, match="2025-10 is closed"):
        budget_period_set_limit(department=tenant.department, month=OCTOBER, limit_minor=1, actor=tenant.finance)
    assert _budget(tenant, OCTOBER).limit_minor == tenant.department.monthly_limit_minor
    with pytest.raises(DatabaseError, match="2025-10 is closed"), transaction.atomic():
        BudgetPeriod.objects.filter(month=OCTOBER).update(spent_minor=0)
    budget_period_set_limit(department=tenant.department, month=NOVEMBER, limit_minor=1, actor=tenant.finance)


def test_a_department_with_spend_in_a_closed_month_does_not_move(tenant, october):
    company = DepartmentFactory(organization=tenant.organization, name="Company", monthly_limit_minor=10_000_000)
    with pytest.raises(Conflict, match="The month 2025-10 is closed: its budgets do not change"):
        department_change(actor=tenant.admin, department=tenant.department, parent_id=company.id, move=True)
    tenant.department.refresh_from_db()
    assert tenant.department.parent_id is None


def test_a_month_closes_once_it_has_ended_in_the_organizations_timezone(tenant):
    tenant.organization.timezone = "Pacific/Auckland"  # 13 hours ahead of UTC in October
    tenant.organization.save(update_fields=["timezone"])
    with pytest.raises(InvalidInput, match="2025-10 has not ended in Pacific/Auckland"):
        month_close(actor=tenant.finance, month=OCTOBER, now=datetime(2025, 10, 31, 10, 59, tzinfo=UTC))
    month_close(actor=tenant.finance, month=OCTOBER, now=datetime(2025, 10, 31, 11, 0, tzinfo=UTC))
    assert MonthClose.objects.get().month == OCTOBER


def test_a_month_does_not_close_while_its_spends_wait(tenant):
    with at(IN_OCTOBER):
        waiting = spend_submit(tenant.employee, "12.00")
    with at(IN_NOVEMBER), pytest.raises(InvalidInput, match="counts 1 transactions pending") as refusal:
        month_close(actor=tenant.finance, month=OCTOBER)
    assert refusal.value.fields == {"transactions": [f"{waiting.id} (pending)"]}
    assert not MonthClose.objects.exists()


def test_months_close_in_order_and_reopen_in_reverse(tenant, october):
    with at(datetime(2025, 9, 20, tzinfo=UTC)):
        spend_settled(tenant.employee, "1.00")
    with at(datetime(2025, 12, 2, tzinfo=UTC)):
        # September has an entry now (written before its close existed) and is open, so November waits.
        with pytest.raises(InvalidInput, match="2025-09 has entries and is open: months close in order"):
            month_close(actor=tenant.finance, month=NOVEMBER)
        month_close(actor=tenant.finance, month=date(2025, 9, 1))
        month_close(actor=tenant.finance, month=NOVEMBER)
        with pytest.raises(Conflict, match="already closed"):
            month_close(actor=tenant.finance, month=NOVEMBER)
        with pytest.raises(Conflict, match="2025-11 is closed after it"):
            month_reopen(actor=tenant.admin, month=OCTOBER, reason="Late invoice")
        month_reopen(actor=tenant.admin, month=NOVEMBER, reason="Late invoice")
        month_reopen(actor=tenant.admin, month=OCTOBER, reason="Late invoice")
        with pytest.raises(Conflict, match="is not closed"):
            month_reopen(actor=tenant.admin, month=OCTOBER, reason="Again")
    states = {state.month: state.closed for state in month_list(organization=tenant.organization)}
    assert states == {date(2025, 9, 1): True, OCTOBER: False, NOVEMBER: False}


def test_only_finance_closes_and_only_an_org_admin_reopens_with_a_reason(tenant, october):
    with pytest.raises(Forbidden):
        month_close(actor=tenant.employee, month=NOVEMBER, now=datetime(2025, 12, 1, tzinfo=UTC))
    with pytest.raises(Forbidden):
        month_reopen(actor=tenant.finance, month=OCTOBER, reason="Late invoice")
    with pytest.raises(InvalidInput, match="Say why"):
        month_reopen(actor=tenant.admin, month=OCTOBER, reason="  ")
    assert MonthClose.objects.count() == 1

    reopened = month_reopen(actor=tenant.admin, month=OCTOBER, reason="Late invoice")
    assert (reopened.act, reopened.reason, reopened.acted_by) == ("reopened", "Late invoice", tenant.admin)
    event = AuditEvent.objects.get(action=AuditEvent.Action.MONTH_REOPENED)
    assert event.after == {"month": "2025-10", "state": "reopened", "reason": "Late invoice"}
    # Reopened, the month takes a post again, and closes again over it.
    with at(datetime(2025, 10, 31, 23, 0, tzinfo=UTC)):
        spend_settled(tenant.employee, "2.00")
    with at(IN_NOVEMBER):
        again = month_close(actor=tenant.admin, month=OCTOBER)
    assert (again.entry_count, again.debits_minor) == (4, 4200)
    assert [act.act for act in MonthClose.objects.order_by("id")] == ["closed", "reopened", "closed"]
    assert_verified(tenant)


def test_the_history_is_append_only(tenant, october):
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        MonthClose.objects.update(act="reopened")
    # Even the tables' owner, past the grants, meets the trigger.
    with owner_cursor() as cursor:
        for statement in ("UPDATE ledger_monthclose SET reason = 'x'", "DELETE FROM ledger_monthclose"):
            with pytest.raises(psycopg.Error, match="month closes are append-only"):
                cursor.execute(statement)
    assert MonthClose.objects.get().act == "closed"


def test_one_organizations_close_is_its_own(tenant, other_tenant, october):
    with at(IN_OCTOBER):
        spend_settled(other_tenant.employee, "3.00")
    assert month_list(organization=other_tenant.organization)[0].closed is False
