"""matching.py, the one decision of what matches what, on facts alone (no database), and the facts of a spend."""

import uuid
from datetime import UTC, date, datetime

import pytest

from apps.ledger.models import Transaction
from apps.reconciliation.matching import (
    AUTO_MATCH_SCORE,
    LineFacts,
    SpendFacts,
    decide,
    merchant_similarity,
    pair_score,
)
from apps.reconciliation.selectors import spend_facts
from apps.tenancy.models import Organization

DAY = date(2026, 6, 10)


def line(position: int, amount: int, description: str, day: date = DAY, currency: str = "USD") -> LineFacts:
    return LineFacts(
        id=uuid.UUID(int=position),
        position=position,
        posted_on=day,
        amount_minor=amount,
        currency=currency,
        description=description,
    )


def spend(number: int, amount: int, merchant: str, day: date = DAY, currency: str = "USD") -> SpendFacts:
    return SpendFacts(
        id=uuid.UUID(int=1000 + number),
        spent_on=day,
        amount_minor=amount,
        currency=currency,
        merchant=merchant,
        order=(datetime(2026, 6, day.day, 10, number), uuid.UUID(int=1000 + number)),
    )


@pytest.mark.parametrize(
    ("description", "merchant"),
    [
        ("AMZN MKTP US*2K4", "Amazon Marketplace"),
        ("UBER *TRIP", "Uber"),
        ("STARBUCKS #1234", "Starbucks"),
        ("DELL INC", "Dell"),
        ("SQ *BLUE BOTTLE", "Blue Bottle Coffee"),
        ("OFFICE DEPOT #556", "Office Depot"),
    ],
)
def test_an_issuers_abbreviated_upper_cased_name_is_like_the_merchant(description, merchant):
    assert merchant_similarity(description, merchant) >= 80


@pytest.mark.parametrize(("description", "merchant"), [("AMZN MKTP", "Dell"), ("NETFLIX.COM", "Hilton Hotels")])
def test_another_merchants_name_is_not(description, merchant):
    assert merchant_similarity(description, merchant) < 40


def test_the_unique_best_candidate_above_the_threshold_is_matched_automatically():
    decision = decide(
        [line(2, 1250, "AMZN MKTP US")], [spend(1, 1250, "Amazon Marketplace", date(2026, 6, 9))], window_days=3
    )
    [match] = decision.automatic
    assert (match.line_id, match.transaction_id, match.days_apart) == (uuid.UUID(int=2), uuid.UUID(int=1001), 1)
    assert match.score >= AUTO_MATCH_SCORE and decision.suggested == {}


def test_a_tie_matches_nothing_and_suggests_both_in_a_stable_order():
    spends = [spend(2, 450, "Starbucks"), spend(1, 450, "Starbucks")]
    decision = decide([line(2, 450, "STARBUCKS #1234")], spends, window_days=3)
    assert decision.automatic == []
    assert [c.transaction_id for c in decision.suggested[uuid.UUID(int=2)]] == [
        uuid.UUID(int=1001),
        uuid.UUID(int=1002),
    ]
    assert decide([line(2, 450, "STARBUCKS #1234")], list(reversed(spends)), window_days=3) == decision


def test_a_weak_merchant_likeness_is_only_suggested():
    decision = decide([line(2, 1000, "PAYPAL *XYZ")], [spend(1, 1000, "Dell")], window_days=3)
    assert decision.automatic == []
    [suggestion] = decision.suggested[uuid.UUID(int=2)]
    assert suggestion.score < AUTO_MATCH_SCORE


@pytest.mark.parametrize(
    "other",
    [
        spend(1, 1001, "Dell"),  # another amount
        spend(1, 1000, "Dell", date(2026, 6, 14)),  # four days off, the window is three
        spend(1, 1000, "Dell", currency="EUR"),  # the same number in another currency
    ],
)
def test_a_spend_of_other_money_or_outside_the_window_is_no_candidate(other):
    assert decide([line(2, 1000, "DELL INC")], [other], window_days=3) == decide([], [], window_days=3)


def test_a_refund_line_is_matched_to_nothing():
    decision = decide([line(2, -1000, "DELL INC")], [spend(1, 1000, "Dell")], window_days=3)
    assert decision.automatic == [] and decision.suggested == {}


def test_a_spend_two_lines_want_equally_goes_to_neither():
    lines = [line(2, 450, "STARBUCKS"), line(3, 450, "STARBUCKS")]
    decision = decide(lines, [spend(1, 450, "Starbucks")], window_days=3)
    assert decision.automatic == [] and set(decision.suggested) == {uuid.UUID(int=2), uuid.UUID(int=3)}


def test_the_closer_day_wins_between_two_like_spends():
    spends = [spend(1, 450, "Starbucks", date(2026, 6, 8)), spend(2, 450, "Starbucks", DAY)]
    [match] = decide([line(2, 450, "STARBUCKS #1234")], spends, window_days=3).automatic
    assert match.transaction_id == uuid.UUID(int=1002)
    assert pair_score(line(2, 450, "STARBUCKS"), spends[1], window_days=3).score == 100


def test_a_spends_day_is_its_day_in_the_organizations_timezone():
    organization = Organization(timezone="America/New_York", currency="USD")
    late_evening = Transaction(
        id=uuid.UUID(int=1),
        created_at=datetime(2026, 6, 11, 2, 30, tzinfo=UTC),  # 22:30 on the 10th in New York
        original_amount_minor=100,
        original_currency="USD",
        merchant="Dell",
    )
    assert spend_facts(late_evening, organization).spent_on == date(2026, 6, 10)
