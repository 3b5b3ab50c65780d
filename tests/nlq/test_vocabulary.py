"""The names a question may use (apps/nlq/vocabulary.py), resolved for finance and for an employee."""

import pytest

from apps.nlq.vocabulary import OutOfScope, UnknownValue, Vocabulary

ORGANIZATION = {
    "departments": ("Engineering", "Sales"),
    "categories": ("events", "meals", "software", "travel"),
    "merchants": ("Delta", "Delta Air Lines", "Dell", "United"),
    "employees": ("alice@techcorp.com", "bob@techcorp.com", "carol@techcorp.com"),
}
FINANCE = Vocabulary(**ORGANIZATION, asker="finance@techcorp.com")
# Alice heads nothing: she sees her own spend (travel at Delta) and no department.
ALICE = Vocabulary(
    departments=ORGANIZATION["departments"],
    categories=("travel",),
    merchants=("Delta",),
    employees=ORGANIZATION["employees"],
    asker="alice@techcorp.com",
    visible_departments=frozenset(),
    visible_employees=frozenset({"alice@techcorp.com"}),
)


@pytest.mark.parametrize(
    ("kind", "value", "label", "values"),
    [
        ("department", "sales", "Sales", ("Sales",)),
        ("category", "Meal", "meals", ("meals",)),
        ("category", "t&e", "T&E", ("events", "meals", "travel")),
        ("merchant", "delta", "Delta", ("Delta",)),
        ("merchant", "air lines", "Delta Air Lines", ("Delta Air Lines",)),
        ("merchant", "del", "del", ("Delta", "Delta Air Lines", "Dell")),
        ("merchant", "united", "United", ("United",)),
        ("employee", "bob", "bob@techcorp.com", ("bob@techcorp.com",)),
    ],
)
def test_names_resolve_to_the_organizations_spelling(kind, value, label, values):
    resolved = FINANCE.resolve(kind, value)
    assert (resolved.label, resolved.values) == (label, values)


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("department", "Sals", "No department 'Sals'. Did you mean Sales?"),
        ("category", "travl", "No category 'travl'. Did you mean travel?"),
        ("merchant", "Amazon", "No merchant 'Amazon'."),
        ("employee", "alcie", "No employee 'alcie'. Did you mean alice@techcorp.com?"),
    ],
)
def test_an_unknown_name_of_every_kind_is_refused_with_the_closest(kind, value, message):
    with pytest.raises(UnknownValue) as caught:
        FINANCE.resolve(kind, value)
    assert str(caught.value) == message


def test_an_employee_is_told_she_sees_only_her_own_spend():
    with pytest.raises(OutOfScope, match=r"^You see only your own spend, so the question about 'Sales'"):
        ALICE.resolve("department", "Sales")
    with pytest.raises(OutOfScope, match=r"^You see only your own spend, so the question about 'bob'"):
        ALICE.resolve("employee", "bob")
    assert ALICE.resolve("employee", "alice").label == "alice@techcorp.com"


def test_an_employee_is_offered_only_names_from_the_spend_she_sees():
    with pytest.raises(UnknownValue) as caught:
        ALICE.resolve("merchant", "Dell")
    assert str(caught.value) == "No merchant 'Dell' in the spend you can see. Did you mean Delta?"


def test_a_name_of_another_kind_is_taken_as_that_kind_when_that_kind_is_free():
    resolved = FINANCE.resolve_all({"category": "bob"}, taken={"category"})
    assert resolved["employee"].label == "bob@techcorp.com" and "category" not in resolved
    with pytest.raises(UnknownValue):
        FINANCE.resolve_all({"category": "bob", "employee": "carol"}, taken={"category", "employee"})
