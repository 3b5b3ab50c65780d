"""The back office through Django's test client: every page finance uses reads in words, money and the
organization's time; no page shows a UUID or an amount in minor units (ids stay in links and forms)."""

import re

import pytest
from django.test import Client

from apps.approvals.services import approval_policy_create
from apps.budgets.models import BudgetPeriod
from apps.fraud.models import FraudAlert, Rule
from apps.ledger.models import Transaction
from apps.spending import services as spending_services
from apps.tenancy.models import Organization
from ledgerx.formats import date_text
from tests.factories import login_verified
from tests.fx.conftest import rate_set
from tests.reimbursements.claims import claim_submit
from tests.spends import spend_reverse, spend_settled

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
EIGHT_HEX = re.compile(r"\b[0-9a-f]{8}\b")
MINOR_WORDS = re.compile(r"\bminor\b", re.I)


def text_of(html: str) -> str:
    """What a person reads: scripts and tags dropped, whitespace collapsed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def books(transactional_db, tenant):
    """Finance's month in New York: a spend posted then reversed, one awaiting approval, one with a fraud alert."""
    Organization.objects.filter(id=tenant.organization.id).update(timezone="America/New_York")
    tenant.organization.refresh_from_db()
    tenant.employee.refresh_from_db()
    approval_policy_create(
        organization=tenant.organization, name="Large spend", min_amount_minor=1_000_000, levels=["finance_manager"]
    )
    posted = spend_settled(tenant.employee, "6000.00", merchant="Dell", category="equipment")
    reversal = spend_reverse(tenant.finance, posted, reason="Ordered twice")
    waiting = spend_settled(tenant.employee, "12500.00", merchant="Apple", category="equipment")
    flagged = spend_settled(tenant.employee, "310.00", merchant="Hilton", category="travel")
    claim = claim_submit(tenant.employee, "42.00", merchant="Yellow Cab")
    FraudAlert.objects.create(
        organization=tenant.organization,
        transaction=flagged,
        rule=Rule.DUPLICATE_CHARGE,
        score=0.91,
        detail="Same merchant and amount twice within 10 minutes",
    )
    client = Client()
    login_verified(client, tenant.finance)
    return {
        "client": client,
        "posted": posted,
        "reversal": reversal,
        "waiting": waiting,
        "flagged": flagged,
        "claim": claim,
    }


def assert_reads_in_words(html: str, amounts_minor: list[int]) -> str:
    text = text_of(html)
    for pattern in (UUID, EIGHT_HEX, MINOR_WORDS):
        found = pattern.search(text)
        assert found is None, text[max(found.start() - 80, 0) : found.end() + 40]
    for minor in amounts_minor:
        assert not re.search(rf"(?<![\d,.$]){minor}(?![\d,])", text), minor
    return text


def test_no_back_office_page_shows_an_id_or_minor_units(books):
    client, posted, reversal, waiting, flagged = (
        books[k] for k in ("client", "posted", "reversal", "waiting", "flagged")
    )
    amounts = [600_000, 1_250_000, 31_000, 4_200]
    approval = waiting.approval
    alert = flagged.fraud_alerts.get()
    pages = [
        "/admin/",
        "/admin/ledger/transaction/",
        f"/admin/ledger/transaction/{posted.id}/change/",
        f"/admin/ledger/transaction/{reversal.id}/change/",
        f"/admin/ledger/transaction/{waiting.id}/change/",
        f"/admin/ledger/transaction/{flagged.id}/change/",
        "/admin/approvals/approvalrequest/",
        f"/admin/approvals/approvalrequest/{approval.id}/change/",
        "/admin/fraud/fraudalert/",
        f"/admin/fraud/fraudalert/{alert.id}/change/",
        "/admin/budgets/budgetperiod/",
        f"/admin/budgets/budgetperiod/{BudgetPeriod.objects.of(posted.organization).first().id}/change/",
        f"/admin/ledger/entry/{posted.entries.first().id}/change/",
        "/admin/receipts/spendmissingreceipt/",
        "/admin/reimbursements/claim/",
        f"/admin/reimbursements/claim/{books['claim'].id}/change/",
        "/admin/ledger/entry/",
        "/admin/ledger/monthclose/months/",
        "/finance/",
        "/approvals/",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_reads_in_words(response.content.decode(), amounts)

    reverse_page = client.post("/admin/ledger/transaction/", {"action": "reverse", "_selected_action": [flagged.id]})
    text = assert_reads_in_words(reverse_page.content.decode(), amounts)
    assert "$310 at Hilton on " in text


def test_a_transaction_page_tells_its_story_in_the_organizations_time(books):
    client, posted, reversal = books["client"], books["posted"], books["reversal"]
    text = text_of(client.get(f"/admin/ledger/transaction/{posted.id}/change/").content.decode())
    assert "$6,000 at Dell" in text
    assert "reversed by Credit of $6,000 from Dell (reversal)" in text
    for section in (
        "Amount",
        "Policy and budget",
        "Approval",
        "Ledger entries",
        "Fraud checks",
        "Receipts",
        "Webhook deliveries",
        "Audit trail",
    ):
        assert section in text
    assert re.search(r"Submitted [A-Z][a-z]{2} \d{1,2}, \d{4}, \d{2}:\d{2} E[SD]T", text)
    assert "Transaction reversed" in text  # the audit trail names the reversal

    text = text_of(client.get(f"/admin/ledger/transaction/{reversal.id}/change/").content.decode())
    assert "Credit of $6,000 from Dell (reversal)" in text
    assert "reverses $6,000 at Dell" in text
    assert "Ordered twice" in text


def test_the_transaction_list_shows_a_reversal_as_a_credit_linked_both_ways(books):
    client, posted, reversal = books["client"], books["posted"], books["reversal"]
    html = client.get("/admin/ledger/transaction/").content.decode()
    assert f'href="/admin/ledger/transaction/{posted.id}/change/"' in html
    assert f'href="/admin/ledger/transaction/{reversal.id}/change/"' in html
    text = text_of(html)
    assert "-$6,000" in text
    assert "Credit reverses $6,000 at Dell" in text
    assert "Reversed by Credit of $6,000 from Dell (reversal)" in text
    assert "times in America/New_York" in text
    assert Transaction.objects.get(id=reversal.id).kind == Transaction.Kind.REVERSAL


def test_the_pages_show_a_reversal_as_a_credit_in_the_organizations_time_with_labelled_cells(books, tenant):
    employee = Client()
    login_verified(employee, tenant.employee)
    html = employee.get("/").content.decode()
    text = text_of(html)
    assert "-$6,000" in text and "Credit reversal of an earlier spend" in text
    assert "Posted (reversal)" not in text
    assert re.search(r"[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{2}:\d{2} E[SD]T", text)
    assert '<table class="stacked-table">' in html and '<td data-label="Amount" class="num">' in html

    finance = books["client"].get("/finance/").content.decode()
    assert 'data-time-zone="America/New_York"' in finance
    assert '"duplicate_charge": "Duplicate charge"' in finance  # the fraud panel names rules in words
    assert '<td data-label="Status">' in finance


@pytest.mark.django_db(transaction=True)
def test_a_spend_abroad_shows_the_amount_as_spent_and_the_rate_of_its_day(tenant):
    rate = rate_set(tenant, "EUR", "1.08")
    spend, _ = spending_services.transaction_submit(
        user=tenant.employee,
        idempotency_key="abroad-1",
        amount="123.45",
        currency="EUR",
        merchant="Lufthansa",
        category="travel",
        department_id=None,
    )
    spending_services.settlement_run(organization_id=tenant.organization.id)
    client = Client()
    login_verified(client, tenant.finance)
    html = client.get(f"/admin/ledger/transaction/{spend.id}/change/").content.decode()
    text = assert_reads_in_words(html, [13_332, 12_345])
    assert "Amount $133.33" in text and "As spent €123.45" in text
    assert f"Exchange rate 1 EUR = 1.08 USD, rate of {date_text(rate.rate_date)}" in text
    assert "$133.33 (€123.45)" in text_of(client.get("/admin/ledger/transaction/").content.decode())
