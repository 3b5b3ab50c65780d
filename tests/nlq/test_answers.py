"""The answer for people (apps/nlq/answers.py) on the fixture data of conftest.py: money in the
organization's currency, one date format, labels not codes, no ids, a sentence of what was
computed, words for nothing found, and a chart for a series or a breakdown."""

from apps.nlq.rules import RulesParser
from apps.nlq.selectors import query_answer

from .conftest import NOW


def answer(user, question):
    return query_answer(user=user, question=question, now=NOW, parsers=[RulesParser()])["answer"]


def test_a_single_total_is_one_formatted_value_in_a_sentence(techcorp):
    total = answer(techcorp.users["finance"], "How much did Sales spend on travel in Q1 2026?")
    assert total["value"] == "$980"
    assert total["sentence"] == (
        "Total posted spend, in department 'Sales', in category 'travel', Q1 2026 (Jan 1 to Mar 31, 2026): $980."
    )
    assert (total["chart"], total["empty"]) == (None, None)


def test_a_breakdown_has_labels_money_and_a_bar_chart(techcorp):
    merchants = answer(techcorp.users["finance"], "top 5 vendors in April 2026")
    assert merchants["headers"] == ["Merchant", "Total spend"]
    assert merchants["rows"] == [["Salesforce", "$600"], ["Delta Air Lines", "$410"], ["Lyft", "$75"]]
    assert merchants["chart"] == {
        "kind": "bar",
        "labels": ["Salesforce", "Delta Air Lines", "Lyft"],
        "values": ["600.00", "410.00", "75.00"],
        "unit": "money",
    }
    assert merchants["sentence"].endswith(": 3 merchants.")


def test_a_series_is_a_line_with_months_written_out(techcorp):
    monthly = answer(techcorp.users["finance"], "monthly spend since 2026-02-01")
    assert monthly["headers"] == ["Month", "Total spend"]
    assert monthly["chart"]["kind"] == "line"
    assert monthly["chart"]["labels"] == [row[0] for row in monthly["rows"]]
    assert monthly["rows"][0][0] == "February 2026"
    assert "since Feb 1, 2026" in monthly["sentence"]


def test_expense_rows_have_dates_labels_and_no_ids(techcorp):
    rows = answer(techcorp.users["finance"], "expenses at Delta in May 2026")
    assert rows["headers"] == ["Date", "Merchant", "Category", "Department", "Employee", "Status", "Amount"]
    assert rows["rows"] == [
        ["May 4, 2026", "Delta Air Lines", "travel", "Engineering", "alice@techcorp.test", "Posted", "$1,200"]
    ]


def test_nothing_found_is_said_in_words(techcorp):
    empty = answer(techcorp.users["finance"], "expenses at Dell in March 2026")
    assert empty["rows"] == []
    assert empty["empty"] == "No expenses match this question."
    assert empty["sentence"].endswith(": nothing matched.")
    assert empty["chart"] is None


def test_budget_usage_says_spent_plus_held_and_charts_the_share(techcorp):
    budgets = answer(techcorp.users["finance"], "Which departments are over 80% of budget?")
    assert budgets["headers"] == ["Department", "Month", "Budget", "Spent", "Available", "Used (spent plus held)"]
    assert budgets["rows"] == [["Sales", "May 2026", "$1,000", "$885.50", "$114.50", "88.6%"]]
    assert budgets["sentence"].startswith("Share of budget used (spent plus held)")
    assert budgets["chart"] == {"kind": "bar", "labels": ["Sales"], "values": ["88.6"], "unit": "percent"}


def test_a_count_of_open_fraud_alerts_is_a_number(techcorp):
    count = answer(techcorp.users["finance"], "How many fraud alerts are open?")
    assert count["headers"] == ["Number of fraud alerts"]
    assert count["value"] == "0"
    assert count["sentence"].startswith("Number of open fraud alerts, over all time")
