"""What a refused question is shown: what was understood, in words, and three questions near it."""

import re
from typing import Any

# Questions the rules answer, in the words finance people use; each parses (tests/nlq/test_rules.py).
EXAMPLES = (
    "Show me top expenses this month",
    "How much did Sales spend on travel last quarter?",
    "Which departments are over 80% of budget?",
    "Top 5 vendors last month",
    "Average expense by category this year",
    "How many rejected transactions this week?",
    "Expenses over $500 in the last 30 days",
    "Monthly spend since 2026-01-01",
    "My expenses at Delta in March",
    "How many fraud alerts are open?",
    "Who spent the most this quarter?",
    "Which department burns fastest this month?",
    "T&E spend MTD",
    "What is our monthly run-rate this year?",
    "Top categories by opex YTD",
    "Top vendors for travel last quarter",
)
_METRIC_WORDS = {
    "list": "a list of expenses",
    "total": "a total",
    "count": "a count",
    "average": "an average",
    "budget_usage": "budget usage",
    "fraud_alerts": "fraud alerts",
}
_PERIOD_WORDS = {
    "all_time": "all time",
    "this_week": "this week",
    "last_week": "last week",
    "this_month": "this month",
    "last_month": "last month",
    "this_quarter": "this quarter",
    "last_quarter": "last quarter",
    "this_year": "this year",
    "last_year": "last year",
}


def understood_in_words(draft: dict[str, Any]) -> str:
    """The draft a parser got to, as a sentence: what was understood before the question was refused."""
    parts = []
    if draft.get("metric"):
        parts.append(_METRIC_WORDS.get(draft["metric"], str(draft["metric"])))
    if draft.get("group_by"):
        parts.append(f"per {draft['group_by']}")
    for name, value in (draft.get("filters") or {}).items():
        if value is not None:
            parts.append(f"{name.replace('_', ' ')} {value}")
    period = draft.get("period") or {}
    if period.get("kind"):
        parts.append(_PERIOD_WORDS.get(period["kind"], period["kind"].replace("_", " ")))
    if not parts:
        return "Nothing in the question could be used."
    return "Understood so far: " + ", ".join(parts) + "."


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9&$%]+", text.lower()))


def examples_near(question: str, draft: dict[str, Any], count: int = 3) -> list[str]:
    """`count` example questions closest to the refused one: same measure first, then shared words."""
    asked = _words(question)
    metric, group_by = draft.get("metric"), draft.get("group_by")

    def score(example: str) -> tuple[int, int]:
        text = example.lower()
        shape = 2 * (metric in _METRIC_CUES and _METRIC_CUES[metric] in text)
        shape += group_by is not None and group_by in _GROUP_CUES and any(cue in text for cue in _GROUP_CUES[group_by])
        return shape, len(asked & _words(example))

    # sorted() is stable: among equals, the examples keep their order above.
    return sorted(EXAMPLES, key=score, reverse=True)[:count]


_METRIC_CUES = {
    "count": "how many",
    "average": "average",
    "budget_usage": "budget",
    "fraud_alerts": "fraud",
    "list": "expenses",
    "total": "spend",
}
_GROUP_CUES = {
    "department": ("department",),
    "category": ("categor",),
    "merchant": ("vendor", "merchant"),
    "employee": ("who ",),
    "day": ("daily",),
    "week": ("weekly",),
    "month": ("monthly", "run-rate"),
}
