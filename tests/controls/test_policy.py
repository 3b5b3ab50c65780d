"""The decision itself, without a database: each kind of rule refuses what it should, in words, and
lets the rest through; acceptance (no totals) asks only the rules a spend breaks by itself."""

import uuid
from datetime import UTC, date, datetime

import pytest

from apps.controls.policy import PolicyTotals, SpendFacts, SpendPolicy, merchant_matcher, weekdays_text

EMPLOYEE = uuid.uuid4()
OTHER = uuid.uuid4()
ROOT, TEAM, ELSEWHERE = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
PARENTS = {ROOT: None, TEAM: ROOT, ELSEWHERE: None}
# Wednesday 2026-12-02, 15:30 in Paris.
WEDNESDAY_AFTERNOON = datetime(2026, 12, 2, 14, 30, tzinfo=UTC)
MONTH = date(2026, 12, 1)


def snapshot(kind: str, name: str = "Rule", **fields) -> dict:
    return {"id": str(uuid.uuid4()), "name": name, "kind": kind, **fields}


def policy(*rules: dict, version: int = 3) -> SpendPolicy:
    return SpendPolicy.from_version(number=version, rules=rules, currency="USD", timezone_name="Europe/Paris")


def spend(amount_minor: int = 10_000, **fields) -> SpendFacts:
    values = {
        "amount_minor": amount_minor,
        "category": "travel",
        "merchant": "Air France",
        "description": "",
        "employee_id": EMPLOYEE,
        "employee_role": "employee",
        "department_id": TEAM,
        "created_at": WEDNESDAY_AFTERNOON,
        "budget_month": MONTH,
        **fields,
    }
    return SpendFacts(**values)


def reason(decided, facts, totals=None) -> str | None:
    refusal = decided.refusal(facts, totals)
    return None if refusal is None else refusal.reason


def test_a_blocked_category_is_refused_by_name():
    rules = policy(snapshot("blocked_category", "No gambling", category="gambling"))
    assert reason(rules, spend(category="gambling")) == (
        "Policy 'No gambling' (version 3): the category 'gambling' is blocked."
    )
    assert reason(rules, spend(category="travel")) is None


@pytest.mark.parametrize(
    ("pattern", "merchant", "blocked"),
    [
        ("*casino*", "Lucky CASINO Ltd", True),
        ("*casino*", "Casino", True),
        ("*casino*", "Casinos", True),
        ("*casino*", "Cassino", False),
        ("Acme Bets", "acme bets", True),
        ("Acme Bets", "Acme Bets 2", False),
        ("Bet?", "Bet1", True),
        ("Bet?", "Bet12", False),
        ("a.b", "axb", False),  # only * and ? are wildcards
        ("[x]", "[x]", True),
    ],
)
def test_merchants_match_a_name_or_a_pattern_in_any_letter_case(pattern, merchant, blocked):
    assert bool(merchant_matcher(pattern).fullmatch(merchant)) is blocked


def test_a_blocked_merchant_refusal_names_the_merchant_and_the_pattern():
    rules = policy(snapshot("blocked_merchant", "No casinos", merchant="*casino*"))
    assert reason(rules, spend(merchant="Lucky Casino")) == (
        "Policy 'No casinos' (version 3): the merchant 'Lucky Casino' is blocked (merchants matching '*casino*')."
    )
    exact = policy(snapshot("blocked_merchant", "Not them", merchant="Acme Bets"))
    assert reason(exact, spend(merchant="ACME BETS")) == (
        "Policy 'Not them' (version 3): the merchant 'ACME BETS' is blocked."
    )


def test_a_per_spend_limit_refuses_one_cent_over():
    rules = policy(snapshot("employee_limit", "Per spend", amount_minor=50_000, period="spend"))
    assert reason(rules, spend(50_000)) is None
    assert reason(rules, spend(50_001)) == (
        "Policy 'Per spend' (version 3): at most $500 per spend, for each employee. Requested: $500.01"
    )


def test_day_and_month_limits_count_the_totals_and_are_not_asked_without_them():
    rules = policy(
        snapshot("employee_limit", "Daily", amount_minor=100_000, period="day"),
        snapshot("employee_limit", "Monthly", amount_minor=300_000, period="month"),
    )
    totals = PolicyTotals(parents=PARENTS)
    totals.employee_day[(EMPLOYEE, date(2026, 12, 2))] = 80_000
    totals.employee_month[(EMPLOYEE, MONTH)] = 250_000
    assert reason(rules, spend(30_000)) is None  # acceptance: these need the totals
    assert reason(rules, spend(20_000), totals) is None
    assert reason(rules, spend(20_001), totals) == (
        "Policy 'Daily' (version 3): at most $1,000 a day, for each employee. Current: $800, Requested: $200.01"
    )
    totals.employee_day.clear()
    assert reason(rules, spend(60_000), totals) == (
        "Policy 'Monthly' (version 3): at most $3,000 a month, for each employee. Current: $2,500, Requested: $600"
    )


def test_the_day_is_the_organizations_local_day():
    rules = policy(snapshot("employee_limit", "Daily", amount_minor=100_000, period="day"))
    totals = PolicyTotals(parents=PARENTS)
    totals.employee_day[(EMPLOYEE, date(2026, 12, 3))] = 100_000
    # 23:30 UTC on the 2nd is 00:30 on the 3rd in Paris: that day's spend counts.
    late = spend(1, created_at=datetime(2026, 12, 2, 23, 30, tzinfo=UTC))
    assert "Current: $1,000" in reason(rules, late, totals)
    assert reason(rules, spend(1), totals) is None


def test_an_employee_limit_may_name_a_role_or_one_employee():
    rules = policy(
        snapshot("employee_limit", "Finance", amount_minor=1_000, period="spend", role="finance_manager"),
        snapshot(
            "employee_limit",
            "One person",
            amount_minor=2_000,
            period="spend",
            employee_id=str(OTHER),
            employee_email="other@example.com",
        ),
    )
    assert reason(rules, spend(5_000)) is None
    assert reason(rules, spend(5_000, employee_role="finance_manager")) == (
        "Policy 'Finance' (version 3): at most $10 per spend, for each finance manager. Requested: $50"
    )
    assert reason(rules, spend(5_000, employee_id=OTHER)) == (
        "Policy 'One person' (version 3): at most $20 per spend, for other@example.com. Requested: $50"
    )


def test_a_category_limit_counts_the_departments_subtree_and_only_its_category():
    rules = policy(
        snapshot(
            "category_limit",
            "Engineering travel",
            category="travel",
            amount_minor=1_000_000,
            department_id=str(ROOT),
            department_name="Engineering",
        )
    )
    totals = PolicyTotals(parents=PARENTS)
    totals.category_month[(ROOT, "travel", MONTH)] = 950_000
    assert reason(rules, spend(50_000), totals) is None
    assert reason(rules, spend(60_000), totals) == (
        "Policy 'Engineering travel' (version 3): at most $10,000 a month of 'travel' in Engineering and below. "
        "Current: $9,500, Requested: $600"
    )
    assert reason(rules, spend(60_000, category="meals"), totals) is None
    assert reason(rules, spend(60_000, department_id=ELSEWHERE), totals) is None
    assert reason(rules, spend(60_000)) is None  # not at acceptance


def test_allowed_hours_are_the_organizations_local_hours_and_weekdays():
    rules = policy(
        snapshot(
            "allowed_hours",
            "Office hours",
            from_minute=8 * 60,
            until_minute=18 * 60,
            weekdays=["mon", "tue", "wed", "thu", "fri"],
        )
    )
    assert reason(rules, spend()) is None  # Wednesday 15:30 in Paris
    saturday = spend(created_at=datetime(2026, 12, 5, 10, 0, tzinfo=UTC))
    assert reason(rules, saturday) == (
        "Policy 'Office hours' (version 3): spending is allowed Mon-Fri, 08:00-18:00 (Europe/Paris); "
        "this spend came Sat 11:00."
    )
    # 17:30 UTC is 18:30 in Paris: past the end, which is exclusive.
    assert "came Wed 18:30" in reason(rules, spend(created_at=datetime(2026, 12, 2, 17, 30, tzinfo=UTC)))
    assert reason(rules, spend(created_at=datetime(2026, 12, 2, 7, 0, tzinfo=UTC))) is None  # 08:00 sharp


def test_a_window_to_24_00_takes_the_last_minute_of_the_day():
    rules = policy(snapshot("allowed_hours", "Evenings", from_minute=20 * 60, until_minute=24 * 60, weekdays=["wed"]))
    assert reason(rules, spend(created_at=datetime(2026, 12, 2, 22, 59, tzinfo=UTC))) is None  # 23:59
    assert "came Wed 19:59" in reason(rules, spend(created_at=datetime(2026, 12, 2, 18, 59, tzinfo=UTC)))


def test_a_description_is_required_only_above_the_amount():
    rules = policy(snapshot("description_required_above", "Explain", amount_minor=50_000))
    assert reason(rules, spend(50_000)) is None
    assert reason(rules, spend(50_001, description="Client visit")) is None
    assert reason(rules, spend(50_001, description="   ")) == (
        "Policy 'Explain' (version 3): a description is required above $500. Requested: $500.01"
    )


def test_a_receipt_rule_never_refuses_a_spend_and_reads_as_a_requirement():
    rules = policy(snapshot("receipt_required_above", "Receipts", amount_minor=7_500))
    assert reason(rules, spend(1_000_000)) is None
    assert rules.refusal(spend(1_000_000), PolicyTotals(parents=PARENTS)) is None
    assert rules.rules[0].text(currency="USD", timezone_name="UTC") == "A receipt is required above $75."


def test_a_spend_that_breaks_two_rules_always_hears_of_the_same_one_first():
    rules = policy(
        snapshot("employee_limit", "A per spend", amount_minor=100, period="spend"),
        snapshot("blocked_category", "Z no gambling", category="gambling"),
    )
    assert reason(rules, spend(5_000, category="gambling")).startswith("Policy 'Z no gambling'")


def test_the_refusal_names_the_field_it_is_about():
    rules = policy(
        snapshot("blocked_category", category="gambling"),
        snapshot("description_required_above", amount_minor=100),
    )
    assert rules.refusal(spend(category="gambling")).fields.keys() == {"category"}
    assert rules.refusal(spend()).fields.keys() == {"description"}


def test_counting_a_spend_moves_the_running_totals_its_rules_read():
    every_limit = policy(
        snapshot("employee_limit", amount_minor=10**9, period="day"),
        snapshot("employee_limit", amount_minor=10**9, period="month"),
        snapshot("category_limit", category="travel", amount_minor=10**9, department_id=str(ROOT)),
    )
    totals = PolicyTotals(parents=PARENTS)
    every_limit.count(spend(700), totals)
    every_limit.count(spend(300), totals)
    every_limit.count(spend(50, category="meals"), totals)
    assert totals.employee_day == {(EMPLOYEE, date(2026, 12, 2)): 1_050}
    assert totals.employee_month == {(EMPLOYEE, MONTH): 1_050}
    assert totals.category_month == {(TEAM, "travel", MONTH): 1_000, (ROOT, "travel", MONTH): 1_000}

    day_only = policy(snapshot("employee_limit", amount_minor=10**9, period="day"))
    totals = PolicyTotals(parents=PARENTS)
    day_only.count(spend(700), totals)
    assert (totals.employee_day, totals.employee_month, totals.category_month) == (
        {(EMPLOYEE, date(2026, 12, 2)): 700},
        {},
        {},
    )


def test_the_totals_needed_are_only_those_a_rule_reads():
    spends = [spend(), spend(category="meals", employee_id=OTHER)]
    lineages = {TEAM: [TEAM, ROOT]}
    assert policy(snapshot("blocked_category", category="x")).totals_needed(spends, lineages).employee_ids == set()
    limits = policy(
        snapshot("employee_limit", amount_minor=1, period="month"),
        snapshot("category_limit", category="travel", amount_minor=1, department_id=str(ROOT)),
    )
    needed = limits.totals_needed(spends, lineages)
    assert needed.employee_ids == {EMPLOYEE, OTHER}
    assert needed.category_keys == {(ROOT, "travel", MONTH)}


@pytest.mark.parametrize(
    ("days", "text"),
    [
        (["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "every day"),
        (["mon", "tue", "wed", "thu", "fri"], "Mon-Fri"),
        (["mon", "wed", "thu", "fri"], "Mon, Wed-Fri"),
        (["sat"], "Sat"),
    ],
)
def test_weekdays_read_as_runs(days, text):
    assert weekdays_text(days) == text
