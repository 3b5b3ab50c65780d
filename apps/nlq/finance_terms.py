"""Passes of the rules parser for the words finance people use (GRAMMAR.md, "Finance words").

"T&E", "run-rate", "burn", "opex", "trailing twelve months", "who spent the most", "which team
burns fastest". They run inside rules.RulesParser like its other passes, on the same reading.
"""

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .rules import _Reading

# A category family the gate resolves to the organization's own categories (vocabulary.CATEGORY_FAMILIES).
TRAVEL_AND_ENTERTAINMENT = "t&e"
NUMBER = r"(\d{1,3}|twelve|six|three|two)"
NUMBER_WORDS = {"twelve": 12, "six": 6, "three": 3, "two": 2}
BREAKDOWNS = {
    "department": "department", "dept": "department", "team": "department", "category": "category",
    "vendor": "merchant", "merchant": "merchant", "supplier": "merchant", "employee": "employee", "person": "employee",
}  # fmt: skip
# Pronouns stand for someone the question does not name: never a name, never filler.
PRONOUNS = frozenset(
    {"he", "she", "him", "his", "her", "hers", "they", "them", "their", "theirs"}
    | {"someone", "somebody", "anyone", "anybody"}
)


def read_finance_terms(r: "_Reading") -> None:
    """Before time, budgets and names: shorthand that would otherwise be read as something else."""

    def travel_and_entertainment(match: re.Match) -> None:
        r.set_filter("category", TRAVEL_AND_ENTERTAINMENT)
        r.flags.add("spend_verb")

    r.sub(r"\b(?:t\s*&\s*e|t\s+and\s+e|travel\s*(?:and|&)\s*entertainment)\b", travel_and_entertainment)

    def per_month(match: re.Match) -> None:
        r.set_group("month")
        r.flags.add("total")

    # A run-rate or burn rate is spend per month, shown month by month.
    r.sub(r"\b(?:monthly\s+)?(?:run[\s-]*rate|burn[\s-]*rate|monthly\s+burn)\b", per_month)
    r.sub(r"\bmonth[\s-]*(?:over|on|by)[\s-]*month\b|\bmom\b", lambda m: r.set_group("month"))
    r.sub(
        r"\b(?:opex|op[\s-]ex|operating\s+(?:expenses?|expenditures?|spend(?:ing)?|costs?))\b",
        lambda m: r.flags.add("spend_verb"),
    )
    r.sub(
        r"\b(?:burn(?:s|ed|t|ing)?|outlays?|disbursements?|pa(?:y|id)\s+out|(?:cash\s+)?(?:went|goes|gone)\s+out"
        r"(?:\s+the\s+door)?)\b",
        lambda m: r.flags.add("spend_verb"),
    )
    r.sub(r"\bhow\s+many\s+times\b", lambda m: r.flags.add("count"))
    r.sub(r"\bper\s+(?:transaction|expense|purchase|payment|charge|line\s*item)\b", lambda m: r.flags.add("average"))
    r.sub(
        r"\b(department|dept|team|category|vendor|merchant|supplier|employee|person)\s+(?:breakdown|split|mix)\b",
        lambda m: r.set_group(BREAKDOWNS[m.group(1)]),
    )

    def trailing(match: re.Match) -> None:
        number = match.group(1)
        n = NUMBER_WORDS.get(number) or int(number)
        unit = match.group(2).rstrip("s")
        r.set_period({"kind": f"last_n_{unit}s", "n": n})

    r.sub(rf"\b(?:over\s+)?(?:the\s+)?trailing\s+{NUMBER}\s+(days?|weeks?|months?)\b", trailing)
    r.sub(r"\b(?:ttm|ltm|trailing\s+twelve\s+months)\b", lambda m: r.set_period({"kind": "last_n_months", "n": 12}))
    r.sub(r"\bfytd\b", lambda m: r.set_period({"kind": "this_year"}))
    # "the company's spend", "our organisation's": everyone's, which is what a question asks by default.
    r.sub(r"\b(?:the\s+)?(?:company|organi[sz]ation|org|business|firm)'s\b", lambda m: None)


def read_people_rankings(r: "_Reading") -> None:
    """After budgets and alerts: "who" ranks people; "fastest" ranks by how much was spent."""
    ranks_others = re.search(
        r"\b(?:vendors?|merchants?|suppliers?|payees?|departments?|teams?|categor(?:y|ies))\b", r.text
    )
    if not r.flags & {"budget", "fraud"} and not ranks_others:

        def who(match: re.Match) -> None:
            r.set_group("employee")
            if not match.group(0).endswith(("are", "have")):
                r.flags.add("singular_which")

        r.sub(r"\bwho(?:'s|\s+is|\s+are|\s+has|\s+have)?\b", who)

    def fastest(match: re.Match) -> None:
        r.flags.add("ranking")
        r.set_order("amount", "desc")

    r.sub(r"\b(?:the\s+)?(?:fastest|quickest|hardest|most\s+quickly)\b|\brank(?:ed|ing)?\b", fastest)
