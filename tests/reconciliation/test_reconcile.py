"""Reconciling a statement through the services: a generated statement with noise matched, what could not be
matched reported, matches confirmed and removed (audited), spends made of lines, and the one-to-one keys
holding under a race. transaction=True: spends are settled for real, on the days the statement names.
"""

import random
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
import time_machine
from django.db import IntegrityError

from apps.audit.models import AuditChange, AuditEvent
from apps.ledger.models import Transaction
from apps.reconciliation import selectors, services
from apps.reconciliation.models import StatementImport, StatementLine, StatementMatch
from apps.spending import services as spending_services
from ledgerx.errors import Conflict, InvalidInput
from tests.conftest import Tenant, run_in_threads
from tests.fx.conftest import rate_set
from tests.reconciliation.statements import NOW, csv_bytes, ofx_document, source_of, spend_on
from tests.spends import refreshed, settle_all

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass(frozen=True)
class Purchase:
    day: int  # of June 2026
    amount: str
    merchant: str
    # How the card issuer prints the merchant; None: the purchase is not on the statement.
    issuer_name: str | None


# Sorted by day; Lyft and Slack fall within the statement's days and are not on it.
PURCHASES = [
    Purchase(2, "129.99", "Amazon Marketplace", "AMZN MKTP US*2K4RT"),
    Purchase(3, "4.50", "Starbucks", "STARBUCKS #1234"),
    Purchase(4, "412.20", "Delta Air Lines", "DELTA AIR 0062345"),
    Purchase(5, "23.10", "Uber", "UBER *TRIP"),
    Purchase(6, "31.75", "Lyft", None),
    Purchase(8, "4.50", "Starbucks", "STARBUCKS #0987"),
    Purchase(9, "87.35", "Whole Foods Market", "WHOLEFDS MKT 10234"),
    Purchase(10, "18.00", "Blue Bottle Coffee", "SQ *BLUE BOTTLE"),
    Purchase(11, "56.40", "Office Depot", "OFFICE DEPOT #556"),
    Purchase(12, "1499.00", "Dell", "DELL INC"),
    Purchase(14, "64.00", "Slack", None),
    Purchase(15, "310.00", "Hilton Hotels", "HILTON HOTELS"),
]
# Lines of the statement no spend explains: a subscription nobody declared, a parking fee, a refund.
STRANGERS = [(7, "15.99", "NETFLIX.COM"), (13, "12.00", "CITY PARKING 44"), (14, "-23.10", "UBER *TRIP REFUND")]


def generated_statement(rng: random.Random) -> tuple[bytes, dict[int, str]]:
    """The card's CSV for PURCHASES: each on the statement posted up to a day late or early, in the issuer's
    shortened upper-case name, shuffled with the STRANGERS. Returns it and, per row, the merchant it is."""
    rows = [
        (date(2026, 6, p.day) + timedelta(days=rng.choice((-1, 0, 1))), p.amount, p.issuer_name, p.merchant)
        for p in PURCHASES
        if p.issuer_name is not None
    ]
    rows += [(date(2026, 6, day), amount, name, None) for day, amount, name in STRANGERS]
    rng.shuffle(rows)
    content = csv_bytes([(day.isoformat(), amount, name, f"R{n}") for n, (day, amount, name, _) in enumerate(rows)])
    return content, {position: merchant for position, (_, _, _, merchant) in enumerate(rows, start=2)}


@pytest.fixture
def june():
    """Acme at noon on 20 June 2026, its employee having made PURCHASES on their days."""
    with time_machine.travel(NOW, tick=True):
        tenant = Tenant("Acme")
        spends = {
            (p.day, p.merchant): spend_on(tenant.employee, date(2026, 6, p.day), p.amount, p.merchant)
            for p in PURCHASES
        }
        assert {spend.status for spend in spends.values()} == {Transaction.Status.POSTED}
        yield tenant, spends


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_noisy_statement_is_matched_and_what_is_not_is_reported(june, seed):
    tenant, _ = june
    content, merchant_at = generated_statement(random.Random(seed))
    result = services.statement_import(
        actor=tenant.finance, source=source_of(tenant.organization), file_name="june.csv", content=content
    )
    assert (result.lines, result.matched) == (13, 10)

    reconciliation = selectors.import_reconciliation(result.statement_import)
    matched = {match.line.position: match.transaction for match in reconciliation.matched}
    assert {position: spend.merchant for position, spend in matched.items()} == {
        position: merchant for position, merchant in merchant_at.items() if merchant is not None
    }
    assert {match.how for match in reconciliation.matched} == {StatementMatch.How.AUTOMATIC}
    # Each Starbucks line went to the spend of its own day, not the other one of the same amount.
    for position, spend in matched.items():
        line = StatementLine.objects.get(statement_import=result.statement_import, position=position)
        assert abs((line.posted_on - spend.created_at.date()).days) <= 1
    assert sorted(line.description for line in reconciliation.unmatched_lines) == sorted(n for _, _, n in STRANGERS)
    assert [spend.merchant for spend in reconciliation.unmatched_spends] == ["Lyft", "Slack"]
    assert reconciliation.suggestions == {}
    [event] = AuditEvent.objects.filter(action=AuditEvent.Action.STATEMENT_IMPORTED)
    assert event.after == {
        "source": result.statement_import.source.name,
        "file": "june.csv",
        "lines": 13,
        "matched": 10,
    }


def test_the_same_file_twice_is_refused_and_stores_nothing(june):
    tenant, _ = june
    source = source_of(tenant.organization)
    content = csv_bytes([("2026-06-12", "1499.00", "DELL INC", "")])
    services.statement_import(actor=tenant.finance, source=source, file_name="a.csv", content=content)
    with pytest.raises(InvalidInput, match="This file was imported already"):
        services.statement_import(actor=tenant.finance, source=source, file_name="b.csv", content=content)
    assert StatementImport.objects.count() == 1 and StatementLine.objects.count() == 1


def test_a_file_with_one_bad_row_stores_nothing(june):
    tenant, _ = june
    content = csv_bytes([("2026-06-12", "1499.00", "DELL INC", ""), ("2026-06-13", "12.00 USD", "PARKING", "")])
    with pytest.raises(InvalidInput, match="Row 3, column 'Amount'"):
        services.statement_import(
            actor=tenant.finance, source=source_of(tenant.organization), file_name="a.csv", content=content
        )
    assert not StatementImport.objects.exists() and not StatementLine.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.STATEMENT_IMPORTED).exists()


def test_an_ofx_statement_is_imported_and_matched_and_its_fitids_are_not_imported_twice(june):
    tenant, spends = june
    source = source_of(tenant.organization)
    document = ofx_document([("20260613", "-1499.00", "FIT-1", "DELL INC"), ("20260607", "-15.99", "FIT-2", "NETFLIX")])
    result = services.statement_import(actor=tenant.finance, source=source, file_name="june.ofx", content=document)
    assert result.statement_import.file_format == "ofx" and result.matched == 1
    assert StatementMatch.objects.get().transaction == spends[(12, "Dell")]
    overlapping = ofx_document([("20260607", "-15.99", "FIT-2", "NETFLIX"), ("20260618", "-9.00", "FIT-3", "X")])
    with pytest.raises(InvalidInput, match="Lines FIT-2 were imported already"):
        services.statement_import(actor=tenant.finance, source=source, file_name="july.ofx", content=overlapping)


def _import(tenant, rows) -> StatementImport:
    return services.statement_import(
        actor=tenant.finance, source=source_of(tenant.organization), file_name="s.csv", content=csv_bytes(rows)
    ).statement_import


def test_a_suggestion_confirmed_and_unmatched_is_audited_each_time(june):
    tenant, spends = june
    statement = _import(tenant, [("2026-06-15", "310.00", "HLT*GARDEN INN", "")])
    [line] = statement.lines.all()
    [(suggested, candidate)] = selectors.import_reconciliation(statement).suggestions[line.id]
    assert suggested == spends[(15, "Hilton Hotels")] and candidate.days_apart == 0

    match = services.match_confirm(actor=tenant.finance, line_id=line.id, transaction_id=suggested.id)
    assert (match.how, match.matched_by, match.score) == (StatementMatch.How.CONFIRMED, tenant.finance, candidate.score)
    with pytest.raises(Conflict):
        services.match_confirm(actor=tenant.finance, line_id=line.id, transaction_id=suggested.id)
    services.match_remove(actor=tenant.admin, line_id=line.id)
    assert not StatementMatch.objects.exists()
    with pytest.raises(Conflict):
        services.match_remove(actor=tenant.admin, line_id=line.id)

    confirmed, removed = (
        AuditEvent.objects.get(action=action)
        for action in (AuditEvent.Action.STATEMENT_MATCH_CONFIRMED, AuditEvent.Action.STATEMENT_MATCH_REMOVED)
    )
    assert (confirmed.actor, confirmed.target_id, confirmed.after["transaction"]) == (
        tenant.finance,
        str(line.id),
        str(suggested.id),
    )
    assert (removed.actor, removed.before["how"], removed.after) == (tenant.admin, "confirmed", None)


def test_a_confirmation_needs_a_settled_card_spend_of_the_lines_money(june):
    tenant, spends = june
    [line] = _import(tenant, [("2026-06-15", "310.01", "HILTON", "")]).lines.all()
    with pytest.raises(InvalidInput, match=r"The line is 310\.01 USD; the spend was 310\.00 USD"):
        services.match_confirm(actor=tenant.finance, line_id=line.id, transaction_id=spends[(15, "Hilton Hotels")].id)
    assert not StatementMatch.objects.exists() and not AuditEvent.objects.filter(target_id=str(line.id)).exists()


def test_an_unmatched_line_becomes_a_spend_through_the_intake_audited(june):
    tenant, _ = june
    statement = _import(tenant, [("2026-06-07", "15.99", "NETFLIX.COM", ""), ("2026-06-14", "-5.00", "REFUND", "")])
    charge, refund = statement.lines.order_by("position")
    spend = services.line_spend_create(
        actor=tenant.finance,
        line_id=charge.id,
        employee_id=tenant.other_employee.id,
        department_id=None,
        category="Software",
        merchant=None,
    )
    assert (spend.status, spend.employee, spend.amount_minor, spend.merchant, spend.category) == (
        Transaction.Status.PENDING,
        tenant.other_employee,
        1599,
        "NETFLIX.COM",
        "software",
    )
    match = StatementMatch.objects.get(line=charge)
    assert (match.transaction_id, match.how, match.matched_by) == (spend.id, StatementMatch.How.CREATED, tenant.finance)
    event = AuditEvent.objects.get(action=AuditEvent.Action.STATEMENT_LINE_SPEND_CREATED)
    assert (event.actor, event.after["employee"], event.after["transaction"]) == (
        tenant.finance,
        tenant.other_employee.email,
        str(spend.id),
    )
    with pytest.raises(Conflict):
        services.line_spend_create(
            actor=tenant.finance,
            line_id=charge.id,
            employee_id=tenant.employee.id,
            department_id=None,
            category="software",
            merchant=None,
        )
    with pytest.raises(InvalidInput, match="not a spend"):
        services.line_spend_create(
            actor=tenant.finance,
            line_id=refund.id,
            employee_id=tenant.employee.id,
            department_id=None,
            category="software",
            merchant=None,
        )
    assert Transaction.objects.filter(merchant="NETFLIX.COM").count() == 1


def test_two_people_matching_one_spend_to_two_lines_at_once_match_it_once(june):
    tenant, spends = june
    statement = _import(tenant, [("2026-06-03", "4.50", "COFFEE", ""), ("2026-06-04", "4.50", "COFFEE", "")])
    lines = list(statement.lines.order_by("position"))
    spend = spends[(3, "Starbucks")]

    def confirm(index: int):
        try:
            return services.match_confirm(actor=tenant.finance, line_id=lines[index].id, transaction_id=spend.id)
        except Conflict as refused:
            return refused

    outcomes = run_in_threads(2, confirm)
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["Conflict", "StatementMatch"]
    assert StatementMatch.objects.filter(transaction=spend).count() == 1
    assert AuditEvent.objects.filter(action=AuditEvent.Action.STATEMENT_MATCH_CONFIRMED).count() == 1


def test_the_database_refuses_a_second_match_of_a_spend(june):
    tenant, spends = june
    statement = _import(tenant, [("2026-06-03", "4.50", "COFFEE", ""), ("2026-06-04", "4.50", "COFFEE", "")])
    first, second = statement.lines.order_by("position")
    spend = spends[(3, "Starbucks")]
    StatementMatch.objects.create(
        organization=tenant.organization,
        line=first,
        transaction=spend,
        how="confirmed",
        score=50,
        matched_by=tenant.finance,
    )
    with pytest.raises(IntegrityError):
        StatementMatch.objects.create(
            organization=tenant.organization,
            line=second,
            transaction=spend,
            how="confirmed",
            score=50,
            matched_by=tenant.finance,
        )


def test_a_spend_in_another_currency_matches_the_statement_of_that_currency_by_its_amount_as_spent():
    with time_machine.travel(NOW, tick=True):
        tenant = Tenant("Acme")
        rate_set(tenant, "EUR", "1.0837")
        spend, _ = spending_services.transaction_submit(
            user=tenant.employee,
            idempotency_key="abroad",
            amount="123.45",
            currency="EUR",
            merchant="Hotel Adlon",
            category="travel",
        )
        settle_all(tenant.organization)
        euro_card = source_of(tenant.organization, currency="EUR")
        dollar_card = source_of(tenant.organization)
        today = NOW.date().isoformat()
        # The base amount in dollars matches nothing: the card was charged in euros.
        dollars = services.statement_import(
            actor=tenant.finance,
            source=dollar_card,
            file_name="usd.csv",
            content=csv_bytes([(today, "133.78", "HOTEL ADLON BERLIN", "")]),
        )
        euros = services.statement_import(
            actor=tenant.finance,
            source=euro_card,
            file_name="eur.csv",
            content=csv_bytes([(today, "123.45", "HOTEL ADLON BERLIN", "")]),
        )
    assert refreshed(spend).amount_minor == 13378 and dollars.matched == 0
    assert euros.matched == 1 and StatementMatch.objects.get().transaction_id == spend.id


def test_sources_and_matches_are_in_the_audit_change_log(june):
    tenant, spends = june
    statement = _import(tenant, [("2026-06-15", "310.00", "HLT*GARDEN INN", "")])
    [line] = statement.lines.all()
    source = statement.source
    source.date_window_days = 5
    services.source_save(source=source)
    services.match_confirm(actor=tenant.finance, line_id=line.id, transaction_id=spends[(15, "Hilton Hotels")].id)
    services.match_remove(actor=tenant.admin, line_id=line.id)

    def operations(table: str, row_id) -> list[str]:
        return list(
            AuditChange.objects.filter(table_name=table, row_id=str(row_id))
            .order_by("id")
            .values_list("operation", flat=True)
        )

    assert operations("reconciliation_statementsource", source.id) == ["INSERT", "UPDATE"]
    [match_id] = {change.row_id for change in AuditChange.objects.filter(table_name="reconciliation_statementmatch")}
    assert operations("reconciliation_statementmatch", match_id) == ["INSERT", "DELETE"]
