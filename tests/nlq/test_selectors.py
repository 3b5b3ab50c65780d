"""Answers on the fixture data of conftest.py: the numbers a finance manager would check by hand."""

from datetime import timedelta

import pytest

from apps.nlq.errors import QuestionNotUnderstood
from apps.nlq.refusals import EXAMPLES
from apps.nlq.rules import RulesParser
from apps.nlq.selectors import BUDGET_COLUMNS, EXPENSE_COLUMNS, query_answer
from ledgerx.errors import Forbidden

from .conftest import NOW


def ask(user, question, now=NOW):
    return query_answer(user=user, question=question, now=now, parsers=[RulesParser()])


def column(answer, name):
    index = answer["columns"].index(name)
    return [row[index] for row in answer["rows"]]


def test_top_expenses_this_month(techcorp):
    answer = ask(techcorp.users["finance"], "Show me top expenses this month")
    assert answer["columns"] == EXPENSE_COLUMNS
    # Not the reversed Hilton stay, the rejected Apple order, the pending Hertz rental, nor the Lyft
    # ride taken on 30 April New York time (1 May in UTC).
    assert column(answer, "amount") == ["2500.00", "1200.00", "640.00", "300.00", "200.00", "89.99", "45.50"]
    assert column(answer, "merchant")[:2] == ["Dell", "Delta Air Lines"]
    assert answer["rows"][0][0] == str(techcorp.spends["dell"].id)
    assert answer["rows"][0][1] == "2026-05-06T12:00:00-04:00"
    assert answer["source"] == "rules"
    assert answer["cached"] is False
    assert answer["interpretation"]["period"] == {
        "label": "this month",
        "start": "2026-05-01",
        "end": "2026-05-14",
        "timezone": "America/New_York",
    }


def test_how_much_did_sales_spend_on_travel_last_quarter(techcorp):
    answer = ask(techcorp.users["finance"], "How much did Sales spend on travel last quarter?")
    assert answer["columns"] == ["total"]
    assert answer["rows"] == [["980.00"]]
    assert answer["interpretation"]["filters"] == {"department": "Sales", "category": "travel", "status": "posted"}


def test_which_departments_are_over_80_percent_of_budget(techcorp):
    answer = ask(techcorp.users["finance"], "Which departments are over 80% of budget?")
    assert answer["columns"] == BUDGET_COLUMNS
    assert answer["rows"] == [["Sales", "2026-05", "1000.00", "885.50", "114.50", "88.6"]]


def test_budget_usage_lists_every_department_highest_share_first(techcorp):
    answer = ask(techcorp.users["admin"], "budget usage this month")
    assert [(row[0], row[3], row[5]) for row in answer["rows"]] == [
        ("Sales", "885.50", "88.6"),
        ("Engineering", "4089.99", "8.2"),
        ("Platform", "300.00", "3.0"),
        ("Customer Success", "0.00", "0.0"),
    ]


def test_department_totals_count_sub_departments(techcorp):
    assert ask(techcorp.users["finance"], "How much did Engineering spend this month?")["rows"] == [["4089.99"]]
    assert ask(techcorp.users["finance"], "How much did Platform spend this month?")["rows"] == [["300.00"]]


def test_spend_by_department_groups_each_department_on_its_own(techcorp):
    answer = ask(techcorp.users["finance"], "spend by department this month")
    assert answer["columns"] == ["department", "total"]
    assert answer["rows"] == [["Engineering", "3789.99"], ["Sales", "885.50"], ["Platform", "300.00"]]


def test_top_merchants_last_month(techcorp):
    answer = ask(techcorp.users["finance"], "top 5 merchants last month")
    assert answer["rows"] == [["Salesforce", "600.00"], ["Delta Air Lines", "410.00"], ["Lyft", "75.00"]]


def test_average_by_category_is_rounded_in_integers(techcorp):
    answer = ask(techcorp.users["finance"], "average expense by category this month")
    # travel: (1200.00 + 89.99 + 640.00) / 3 = 643.33
    assert answer["rows"] == [
        ["equipment", "2500.00"],
        ["travel", "643.33"],
        ["software", "250.00"],
        ["meals", "45.50"],
    ]


def test_counts_by_status(techcorp):
    finance = techcorp.users["finance"]
    assert ask(finance, "how many rejected transactions this month")["rows"] == [[1]]
    assert column(ask(finance, "pending expenses"), "merchant") == ["Hertz"]
    assert column(ask(finance, "reversed expenses this month"), "merchant") == ["Hilton"]
    assert ask(finance, "number of expenses regardless of status this month")["rows"] == [[10]]


def test_time_groups_use_the_organizations_calendar(techcorp):
    finance = techcorp.users["finance"]
    assert ask(finance, "daily spend this week")["rows"] == [
        ["2026-05-12", "89.99"],
        ["2026-05-13", "640.00"],
        ["2026-05-14", "45.50"],
    ]
    assert ask(finance, "weekly spend for the last 2 weeks")["rows"] == [
        ["2026-05-04", "4200.00"],
        ["2026-05-11", "775.49"],
    ]
    assert ask(finance, "monthly spend this year")["rows"] == [
        ["2026-02", "5200.00"],
        ["2026-03", "980.00"],
        ["2026-04", "1085.00"],
        ["2026-05", "4975.49"],
    ]


def test_amount_filters_are_exact_in_minor_units(techcorp):
    finance = techcorp.users["finance"]
    assert column(ask(finance, "expenses over $640 this month, largest first"), "amount") == ["2500.00", "1200.00"]
    assert column(ask(finance, "expenses of at least $640 this month"), "amount") == ["640.00", "2500.00", "1200.00"]
    assert column(ask(finance, "expenses under $89.99 this month"), "amount") == ["45.50"]


def test_merchant_and_employee_filters(techcorp):
    finance = techcorp.users["finance"]
    assert column(ask(finance, "expenses at delta this year"), "amount") == ["1200.00", "410.00", "980.00"]
    assert ask(finance, "what did alice spend in April")["rows"] == [["485.00"]]
    assert ask(finance, "how much did carol@techcorp.test spend last quarter")["rows"] == [["980.00"]]


def test_an_average_of_nothing_is_null_not_zero(techcorp):
    assert ask(techcorp.users["finance"], "average expense yesterday at Hertz")["rows"] == [[None]]


def test_employee_sees_only_their_own_spend(techcorp):
    alice = techcorp.users["alice"]
    assert column(ask(alice, "Show me top expenses this month"), "amount") == ["1200.00", "89.99"]
    # Another person or a department she does not head: told so in words, never answered with 0.00.
    with pytest.raises(Forbidden, match=r"^You see only your own spend, so the question about 'bob'"):
        ask(alice, "how much did bob spend this month")
    with pytest.raises(Forbidden, match=r"^You see only your own spend, so the question about 'Engineering'"):
        ask(alice, "How much did Engineering spend this month?")
    with pytest.raises(Forbidden, match="You see only your own spend"):
        ask(alice, "What did Sales spend on travel in May 2026?")
    mine = ask(alice, "spend by employee this month")
    assert mine["rows"] == [["alice@techcorp.test", "1289.99"]]
    assert mine["answer"]["sentence"].endswith(
        "over your own spend (the only spend you can see): alice@techcorp.test ($1,289.99)."
    )
    assert ask(alice, "Which departments are over 80% of budget?")["rows"] == []
    assert ask(alice, "budget usage this month")["rows"] == []


def test_a_department_head_also_sees_what_guardian_grants(techcorp):
    from apps.tenancy.services import department_grant_spend_view

    alice = techcorp.users["alice"]
    department_grant_spend_view(department=techcorp.departments["Sales"], user=alice)
    assert ask(alice, "spend by department this month")["rows"] == [["Engineering", "1289.99"], ["Sales", "885.50"]]
    assert ask(alice, "Which departments are over 80% of budget?")["rows"] == [
        ["Sales", "2026-05", "1000.00", "885.50", "114.50", "88.6"]
    ]
    assert ask(alice, "How much did Sales spend this month?")["rows"] == [["885.50"]]
    # Still none of Engineering's other members: only Sales was granted.
    with pytest.raises(Forbidden, match="You see only your own spend"):
        ask(alice, "how much did bob spend this month")
    assert ask(alice, "how much did carol spend this month")["rows"] == [["885.50"]]


def test_fraud_alerts_are_for_finance_only(techcorp):
    assert ask(techcorp.users["finance"], "open fraud alerts")["columns"][0] == "id"
    with pytest.raises(Forbidden):
        ask(techcorp.users["alice"], "open fraud alerts")


def test_this_month_rolls_over_at_the_organizations_midnight(techcorp):
    finance = techcorp.users["finance"]
    before = ask(finance, "spend this month", now=NOW.replace(day=31, hour=3))  # 30 May, 23:00 in New York
    assert before["interpretation"]["period"]["start"] == "2026-05-01"
    after = ask(finance, "spend this month", now=NOW.replace(month=6, day=1, hour=4) + timedelta(minutes=30))
    assert after["interpretation"]["period"]["start"] == "2026-06-01"
    assert after["cached"] is False
    assert after["rows"] == [["0.00"]]


def test_a_question_outside_the_grammar_is_a_400_with_examples(techcorp):
    with pytest.raises(QuestionNotUnderstood) as caught:
        ask(techcorp.users["finance"], "what is the meaning of life")
    assert caught.value.status == 400
    assert caught.value.fields["unrecognized"] == ["meaning", "life"]
    assert len(caught.value.fields["examples"]) == 3
    assert set(caught.value.fields["examples"]) <= set(EXAMPLES)
    assert caught.value.fields["understood_text"] == "Nothing in the question could be used."
