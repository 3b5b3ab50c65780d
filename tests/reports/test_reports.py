"""The five reports on a generated month (conftest.generate_month), at the selector level."""

from collections import Counter
from datetime import UTC, datetime

import time_machine
from django.db.models import Sum

from apps.ledger.models import Entry
from apps.reports import selectors
from apps.reports.periods import period_parse
from apps.reports.segregation import LIMIT_CHANGER, MANAGER_CHAIN, POLICY_CHANGER, REVERSED_APPROVED, SELF_APPROVAL
from apps.tenancy.services import department_set_head
from tests.conftest import Tenant
from tests.spends import spend_settled

from .conftest import NEXT_MONTH


def as_dicts(report) -> list[dict]:
    return [dict(zip(report.columns, row, strict=True)) for row in report.rows]


def test_the_tie_out_balances_every_account_and_the_ledger(month):
    march = selectors.ledger_tie_out(organization=month.organization, period=month.period())
    rows = {row["account"]: row for row in as_dicts(march)}
    expense = next(row for name, row in rows.items() if "Engineering" in name)
    # 100 + 600 + 700 posted, 700 reversed; the 800 still waits for approval and has no entry.
    assert (expense["opening"], expense["debits"], expense["credits"], expense["closing"]) == (
        "0.00",
        "1400.00",
        "700.00",
        "700.00",
    )
    assert all(row["ties out"] == "yes" for row in rows.values())
    summary = dict(march.summary)
    assert summary["total debits"] == summary["total credits"] == "2100.00"
    assert (summary["total closing"], summary["balances sum to zero"], summary["every account ties out"]) == (
        "0.00",
        "yes",
        "yes",
    )

    april = selectors.ledger_tie_out(organization=month.organization, period=month.period(NEXT_MONTH))
    april_expense = next(row for row in as_dicts(april) if "Engineering" in row["account"])
    assert (april_expense["opening"], april_expense["debits"], april_expense["closing"]) == (
        "700.00",
        "50.00",
        "750.00",
    )
    # The closing balance is the entries' own sum, not the report's arithmetic.
    entries = Entry.objects.filter(organization=month.organization, account__department=month.engineering)
    assert entries.aggregate(total=Sum("amount_minor"))["total"] == 75_000


def test_the_segregation_report_finds_the_conflicting_approvals_and_reversal(month):
    # Today's head is someone else: March is read with March's tree, from the audit log.
    department_set_head(actor=month.admin, department=month.engineering, head=month.finance)
    report = selectors.segregation_of_duties(organization=month.organization, period=month.period())
    findings = as_dicts(report)
    kinds = Counter((row["finding"], row["who"]) for row in findings)
    employee, head, finance = month.employee.email, month.head.email, month.finance.email
    assert kinds[(SELF_APPROVAL, employee)] == 1
    assert kinds[(MANAGER_CHAIN, head)] == 2
    # Finance set March's limit on the 5th and signed the 700.00 spend's second step that day.
    assert kinds[(LIMIT_CHANGER, finance)] == 1
    assert kinds[(REVERSED_APPROVED, finance)] == 1
    assert not kinds[(MANAGER_CHAIN, finance)]
    assert not kinds[(POLICY_CHANGER, month.admin.email)]
    self_approval = next(row for row in findings if row["finding"] == SELF_APPROVAL)
    assert self_approval["spend"] == str(month.self_approved.id)
    assert "800.00 USD" in self_approval["what"]
    assert dict(report.summary)["findings"] == str(len(findings))
    chain = next(row for row in findings if row["finding"] == MANAGER_CHAIN)
    assert f"head of Engineering ({month.engineering.id})" in chain["evidence"]


def test_the_reversals_report_gives_the_reason_and_who(month):
    rows = as_dicts(selectors.reversals(organization=month.organization, period=month.period()))
    assert len(rows) == 1
    row = rows[0]
    assert (row["original spend"], row["amount"], row["reversed by"], row["reason"]) == (
        str(month.approved_and_reversed.id),
        "700.00",
        month.finance.email,
        "Charged twice by the vendor",
    )


def test_the_access_review_lists_every_user_as_of_the_period_end(month):
    """Roles and their granters come from the change log, dated by PostgreSQL's clock, which the travelling
    clock does not move: they are tested in test_change_log_reports.py."""
    rows = {
        row["email"]: row
        for row in as_dicts(selectors.access_review(organization=month.organization, period=month.period()))
    }
    assert set(rows) == {user.email for user in (month.admin, month.finance, month.head, month.employee, month.auditor)}
    assert {email: row["MFA"] for email, row in rows.items() if row["MFA"] != "not enrolled"} == {
        month.admin.email: "not enrolled (required)",
        month.finance.email: "not enrolled (required)",
    }
    assert rows[month.head.email]["status"] == "active"  # frozen and lifted within the month
    assert rows[month.head.email]["department"] == "Engineering"
    assert {row["last login"] for row in rows.values()} == {"never"}


def test_a_month_is_the_organizations_month(transactional_db):
    """Half past ten in the evening of 31 March in New York is 1 April in UTC: March's tie-out counts it."""

    with time_machine.travel(datetime(2025, 3, 20, 12, 0, tzinfo=UTC), tick=True):
        tenant = Tenant("Eastern")
        tenant.organization.timezone = "America/New_York"
        tenant.organization.save(update_fields=["timezone"])
    with time_machine.travel(datetime(2025, 4, 1, 2, 30, tzinfo=UTC), tick=True):
        spend_settled(tenant.employee, "40.00")
    march, april = (period_parse(organization=tenant.organization, month=month) for month in ("2025-03", "2025-04"))
    assert march.ends_at == datetime(2025, 4, 1, 4, 0, tzinfo=UTC)
    march_rows = as_dicts(selectors.ledger_tie_out(organization=tenant.organization, period=march))
    april_rows = as_dicts(selectors.ledger_tie_out(organization=tenant.organization, period=april))
    assert [row["debits"] for row in march_rows if row["kind"] == "expense"] == ["40.00"]
    assert [(row["opening"], row["debits"]) for row in april_rows if row["kind"] == "expense"] == [("40.00", "0.00")]
