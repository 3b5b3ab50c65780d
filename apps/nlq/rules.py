"""The deterministic parser: the grammar of apps/nlq/GRAMMAR.md over the normalized question.

The question is read in passes. Each pass recognizes one kind of phrase (time, amounts, ranking,
grouping, names ...), records it in the draft and blanks it out with a barrier so that later
passes cannot join words across it. Whatever is left at the end must be filler words; anything
else refuses the question with what was understood and the words that were not. A question is
never half-answered silently.
"""

import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import ParseFailed
from .finance_terms import PRONOUNS, read_finance_terms, read_people_rankings
from .spec import ME, ParseContext

BARRIER = " ; "

NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "fifty": 50,
    "hundred": 100,
}
NUM = r"(\d{1,4}|" + "|".join(NUMBER_WORDS) + r")"
MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
    "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9,
    "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}  # fmt: skip
MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
ORDINAL_QUARTERS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4}

DIMENSIONS = {
    "department": "department", "departments": "department", "dept": "department", "depts": "department",
    "team": "department", "teams": "department",
    "category": "category", "categories": "category",
    "merchant": "merchant", "merchants": "merchant", "vendor": "merchant", "vendors": "merchant",
    "supplier": "merchant", "suppliers": "merchant", "payee": "merchant", "payees": "merchant",
    "employee": "employee", "employees": "employee", "person": "employee", "people": "employee",
    "user": "employee", "users": "employee", "spender": "employee", "spenders": "employee", "staff": "employee",
    "day": "day", "days": "day", "week": "week", "weeks": "week", "month": "month", "months": "month",
}  # fmt: skip
DIM = "(" + "|".join(sorted(DIMENSIONS, key=len, reverse=True)) + ")"
PLURAL_DIMENSIONS = (
    r"(departments|depts|teams|categories|merchants|vendors|suppliers|payees|employees|people|users|spenders|staff)"
)
SINGULAR_SPEND_NOUNS = {"expense", "purchase", "transaction", "payment", "charge", "spend"}
SPEND_NOUN = r"(?:expenses?|spends|spending|spend|costs?|purchases?|transactions?|payments?|charges?|expenditures?)"

# Words that may be left over: they carry no meaning the passes have not already taken.
FILLERS = frozenset(
    """
    a an the of and or to in on at by for from with me us we our ours i you your show give tell list display
    get find fetch see view what whats what's which who is are was were be been being am did do does done has
    have had how much many all please pls plz there that those these so far any can could would will want
    like need know let it its it's where up just only currently now right each every report
    summary breakdown overview company organization organisation org everyone everybody whole entire money
    dollars amount amounts ones one some i'd i'm about whose submit submitted incur incurred claim claimed file filed
    rack racked
    """.split()  # noqa: SIM905 - a word list reads best as prose
)
# Words of the grammar itself: never read as a department, merchant, category or person.
GRAMMAR_WORDS = frozenset(
    """
    this last past previous prior current next today yesterday week weeks month months quarter quarters year years
    day days daily weekly monthly ytd mtd qtd wtd since between until till through before after ever time
    over above under below more less than least most greater larger bigger higher lower smaller cheaper exceeding
    top largest biggest highest greatest smallest lowest cheapest latest newest oldest earliest first recent
    expensive priciest costliest total totals sum average avg mean typical count number overall altogether combined
    spend spends spent spending expense expenses cost costs purchase purchases transaction transactions pay paid
    payment payments charge charges expenditure expenditures budget budgets fraud alert alerts suspicious flagged
    per across broken split grouped group sorted ordered order rank ranked limit
    rejected declined refused denied failed pending processing posted settled approved reversed refunded
    my mine myself own not no without except excluding
    """.split()  # noqa: SIM905 - a word list reads best as prose
)
RESERVED = FILLERS | GRAMMAR_WORDS | PRONOUNS | frozenset(DIMENSIONS) | frozenset(MONTHS) | frozenset(NUMBER_WORDS)

NAME_TOKEN = r"[a-z0-9][a-z0-9&'._-]*"
PHRASE = rf"({NAME_TOKEN}(?:\s+{NAME_TOKEN}){{0,3}})"
EMAIL = r"[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+"
ISO_DATE = r"(\d{4}-\d{2}-\d{2})"
PRE = r"(?:(?:in|over|during|within|for|from|of)\s+)?(?:the\s+)?"
POSS = r"(?:'s)?"
AMOUNT = r"\$?(\d[\d,]*(?:\.\d+)?)\s*(k|thousand|m|million)?(?:\s*(?:dollars?|usd|bucks|euros?|eur|pounds?|gbp))?"
AMOUNT_MULTIPLIERS = {None: 1, "k": 1000, "thousand": 1000, "m": 1_000_000, "million": 1_000_000}
PERCENT = r"(\d{1,4})\s*(?:%|percent|pct|per\s*cent)"
BUDGET_TAIL = r"(?:\s*of\s*(?:their|its|the|our|his|her|my|your)?\s*(?:monthly\s*)?budgets?)?"
TOP_DEFAULT_LIMIT = 10


def normalize_question(question: str) -> str:
    """Lower case, one space between words, punctuation that carries no meaning dropped.

    Letters and digits stuck together are split ("top5" -> "top 5", "30days" -> "30 days"),
    except in e-mail addresses, quarters (q1), amounts in thousands (5k) and ordinals (1st).
    The cache is keyed by this form, so the same question asked differently shares one entry.
    """
    text = unicodedata.normalize("NFKC", question).lower()
    text = text.translate({ord("\u2019"): "'", ord("\u2018"): "'", ord("\u201c"): '"', ord("\u201d"): '"'})
    text = re.sub(r"[?!;:()\[\]{}*~`|\\]", " ", text)
    text = re.sub(r"(?<!\d),|,(?!\d)", " ", text)
    text = re.sub(r"\.(?=\s|$)", " ", text)
    tokens = []
    for token in text.split():
        if "@" not in token and not re.fullmatch(r"q[1-4]", token):
            token = re.sub(r"(?<=[a-z])(?=\d)", " ", token)
            token = re.sub(r"(?<=\d)(?=[a-z])(?!(?:k|m|st|nd|rd|th)\b)", " ", token)
        tokens.append(token)
    text = " ".join(tokens)
    text = re.sub(r"\$\s+(?=\d)", "$", text)
    text = re.sub(r"(?<=\d)\s+%", "%", text)
    return " ".join(text.split())


def _number(text: str) -> int:
    return NUMBER_WORDS[text] if text in NUMBER_WORDS else int(text)


def _amount_text(digits: str, scale: str | None) -> str | None:
    try:
        value = Decimal(digits.replace(",", "")) * AMOUNT_MULTIPLIERS[scale]
    except InvalidOperation:
        return None
    text = format(value.normalize(), "f")
    return text


class _Reading:
    """The question as it is being read: remaining text, the draft so far, and what clashed."""

    def __init__(self, text: str, context: ParseContext) -> None:
        self.text = f" {text} "
        self.context = context
        self.filters: dict[str, Any] = {}
        self.period: dict[str, Any] | None = None
        self.group_by: str | None = None
        self.order: dict[str, str] | None = None
        self.limit: int | None = None
        self.flags: set[str] = set()
        self.clashes: list[str] = []

    # -- recording ------------------------------------------------------------------------------

    def sub(self, pattern: str, handler: Callable[[re.Match], Any]) -> None:
        """Run handler on each match; the match is blanked out unless the handler returns False.

        A handler may also return a string: the match is replaced by a barrier and that text.
        """

        def replace(match: re.Match) -> str:
            outcome = handler(match)
            if outcome is False:
                return match.group(0)
            return BARRIER + outcome + " " if isinstance(outcome, str) else BARRIER

        self.text = re.sub(pattern, replace, self.text)

    def set_filter(self, name: str, value: Any) -> None:
        current = self.filters.get(name)
        if current is not None and current != value:
            label = name.replace("_", " ")
            self.clashes.append(f"The question names two values for {label}: '{current}' and '{value}'.")
        self.filters[name] = value

    def set_period(self, period: dict[str, Any]) -> None:
        if self.period is not None and self.period != period:
            self.clashes.append("The question names two time ranges; ask about one at a time.")
        self.period = period

    def set_group(self, group_by: str) -> None:
        if self.group_by is not None and self.group_by != group_by:
            self.clashes.append(f"The question groups by both {self.group_by} and {group_by}; pick one.")
        self.group_by = group_by

    def set_order(self, by: str, direction: str) -> None:
        order = {"by": by, "direction": direction}
        if self.order is not None and self.order != order:
            self.clashes.append("The question asks for two different orders.")
        self.order = order

    def name_handler(self, field: str, group: int = 1) -> Callable[[re.Match], Any]:
        """A handler taking the words after a keyword as a name, up to the first grammar word."""

        def handle(match: re.Match) -> Any:
            words = match.group(group).split()
            taken: list[str] = []
            for word in words:
                if word in RESERVED:
                    break
                taken.append(word)
            if not taken:
                return False
            value = " ".join(taken)
            if field == "employee" and value in ("me", "i"):
                value = ME
            self.set_filter(field, value)
            return " ".join(words[len(taken) :])

        return handle

    # -- the result -----------------------------------------------------------------------------

    def metric(self) -> str | None:
        flags = self.flags
        if "fraud" in flags:
            return "fraud_alert_count" if "count" in flags else "fraud_alerts"
        if "budget" in flags:
            return "budget_usage"
        for metric in ("average", "count"):
            if metric in flags:
                return metric
        if self.group_by is not None or "total" in flags:
            return "total"
        if "spend_verb" in flags and "ranking" not in flags and "rows" not in flags:
            return "total"
        if flags & {"rows", "ranking", "spend_verb"}:
            return "list"
        return None

    def draft(self) -> dict[str, Any]:
        metric = self.metric()
        draft: dict[str, Any] = {"metric": metric, "group_by": self.group_by, "filters": dict(self.filters)}
        if self.period is not None:
            draft["period"] = self.period
        order, limit = self.order, self.limit
        if (
            "singular_which" in self.flags
            and "ranking" in self.flags
            and (limit is None or "default_limit" in self.flags)
        ):
            limit = 1
        if order is not None:
            draft["order"] = order
        if limit is not None:
            draft["limit"] = limit
        return draft

    def leftovers(self) -> list[str]:
        return [word for word in self.text.split() if word != ";" and word not in FILLERS]


# -- the passes, in the order they run ----------------------------------------------------------


def _read_courtesies(r: _Reading) -> None:
    # "show me" asks for an answer; it does not mean "my spend".
    r.sub(
        r"\b(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?)?(?:show|give|tell|get|find|fetch|list|display|"
        r"pull\s+up|bring\s+up)\s+(?:me|us)\b",
        lambda m: None,
    )
    r.sub(r"\blet\s+me\s+(?:see|know)\b|\bi\s*(?:want|need|would\s+like|'d\s+like|d\s+like)\s+to\s+(?:see|know)\b",
          lambda m: None)  # fmt: skip


def _read_emails(r: _Reading) -> None:
    r.sub(rf"\b(?:(?:by|of|employee|user)\s+)?({EMAIL}){POSS}", lambda m: r.set_filter("employee", m.group(1)))


def _read_quoted(r: _Reading) -> None:
    fields = {
        "at": "merchant", "from": "merchant", "merchant": "merchant", "vendor": "merchant",
        "on": "category", "for": "category", "category": "category",
        "in": "department", "department": "department", "dept": "department", "team": "department",
        "by": "employee", "employee": "employee",
    }  # fmt: skip
    keywords = "|".join(fields)
    r.sub(rf"\b({keywords})\s+[\"']([^\"']+)[\"']", lambda m: r.set_filter(fields[m.group(1)], m.group(2).strip()))


def _read_fraud(r: _Reading) -> None:
    def found(match: re.Match) -> None:
        r.flags.add("fraud")

    r.sub(
        r"\b(?:fraud(?:ulent)?(?:\s*(?:alerts?|flags?|cases?|warnings?|transactions?|expenses?|spend))?|"
        r"suspicious(?:\s*(?:transactions?|activity|spend(?:ing)?|expenses?|payments?))?|"
        r"flagged(?:\s*(?:transactions?|expenses?|spend|payments?))?|risk\s*alerts?|alerts?)\b",
        found,
    )
    if "fraud" in r.flags:
        r.sub(r"\b(?:open|unresolved|new|active|pending|outstanding)\b", lambda m: r.set_filter("status", "open"))
        r.sub(r"\b(?:resolved|closed|reviewed|handled|dismissed)\b", lambda m: r.set_filter("status", "resolved"))


def _read_budget(r: _Reading) -> None:
    def usage(name: str, percent: int | None = None) -> Callable[[re.Match], None]:
        def handle(match: re.Match) -> None:
            r.flags.add("budget")
            r.set_filter(name, percent if percent is not None else int(match.group(1)))

        return handle

    over = r"(?:over|above|more\s*than|greater\s*than|exceeding|exceeded|beyond|past)"
    under = r"(?:under|below|less\s*than|within)"
    r.sub(rf"\b{over}\s*{PERCENT}{BUDGET_TAIL}", usage("usage_over_percent"))
    r.sub(rf"\b{under}\s*{PERCENT}{BUDGET_TAIL}", usage("usage_under_percent"))
    owner = r"(?:their|its|the|our|his|her|my)?\s*(?:monthly\s*)?"
    r.sub(rf"\b(?:{over}|exceed|blown|blew|broke|busted)\s*{owner}budgets?\b", usage("usage_over_percent", 100))
    r.sub(rf"\b{under}\s*{owner}budgets?\b", usage("usage_under_percent", 100))

    def budget(match: re.Match) -> None:
        r.flags.add("budget")

    r.sub(
        r"\b(?:monthly\s*)?budgets?(?:\s*(?:usage|utili[sz]ation|use|used|consumption|burn|status|left|remaining))?\b",
        budget,
    )
    if "budget" in r.flags:
        r.sub(r"\b(?:have|has)?\s*(?:used|consumed|burned|burnt|utili[sz]ed|using|left|remaining|available)\b",
              lambda m: None)  # fmt: skip


def _read_period(r: _Reading) -> None:
    def fixed(kind: str) -> Callable[[re.Match], None]:
        return lambda m: r.set_period({"kind": kind})

    r.sub(rf"\b{PRE}(?:all\s*time|ever)\b", fixed("all_time"))
    r.sub(rf"\b{PRE}(year|month|quarter|week)\s*to\s*date\b", lambda m: r.set_period({"kind": f"this_{m.group(1)}"}))
    to_date = {"ytd": "this_year", "mtd": "this_month", "qtd": "this_quarter", "wtd": "this_week"}
    r.sub(r"\b(ytd|mtd|qtd|wtd)\b", lambda m: r.set_period({"kind": to_date[m.group(1)]}))
    r.sub(rf"\b(?:so\s*far\s*)?{PRE}today{POSS}(?:\s*so\s*far)?\b", fixed("today"))
    r.sub(rf"\b{PRE}yesterday{POSS}\b", fixed("yesterday"))
    r.sub(
        rf"\b{PRE}(?:this|current)\s*(week|month|quarter|year){POSS}(?:\s*so\s*far)?\b",
        lambda m: r.set_period({"kind": f"this_{m.group(1)}"}),
    )

    def rolling(match: re.Match) -> None:
        n, unit = _number(match.group(1)), match.group(2).rstrip("s")
        if unit == "year":
            r.set_period({"kind": "last_n_months", "n": 12 * n})
        else:
            r.set_period({"kind": f"last_n_{unit}s", "n": n})

    r.sub(rf"\b{PRE}(?:last|past|previous|prior)\s*{NUM}\s*(days?|weeks?|months?|years?){POSS}\b", rolling)
    r.sub(
        rf"\b{PRE}(?:last|previous|prior|past)\s*(week|month|quarter|year){POSS}\b",
        lambda m: r.set_period({"kind": f"last_{m.group(1)}"}),
    )
    r.sub(
        rf"\b{PRE}(?:between|from)\s+{ISO_DATE}\s+(?:and|to|until|till|through|thru|-)\s+{ISO_DATE}\b",
        lambda m: r.set_period({"kind": "between", "start": m.group(1), "end": m.group(2)}),
    )
    r.sub(rf"\bsince\s+{ISO_DATE}\b", lambda m: r.set_period({"kind": "since", "start": m.group(1)}))
    r.sub(
        rf"\b(?:on\s+)?{ISO_DATE}\b",
        lambda m: r.set_period({"kind": "between", "start": m.group(1), "end": m.group(1)}),
    )

    def quarter(number: int, year: str | None) -> None:
        r.set_period({"kind": "quarter", "quarter": number, "year": int(year) if year else None})

    r.sub(rf"\b{PRE}q([1-4])(?:\s*(?:of\s*)?(\d{{4}}))?{POSS}\b", lambda m: quarter(int(m.group(1)), m.group(2)))
    r.sub(
        rf"\b{PRE}(first|1st|second|2nd|third|3rd|fourth|4th)\s*quarter(?:\s*(?:of\s*)?(\d{{4}}))?{POSS}\b",
        lambda m: quarter(ORDINAL_QUARTERS[m.group(1)], m.group(2)),
    )

    def month(match: re.Match) -> Any:
        preposition, name, year = match.group(1), match.group(2), match.group(3)
        # "may" is also a verb: read it as the month only after a preposition or before a year.
        if name == "may" and not preposition and not year:
            return False
        r.set_period({"kind": "month", "month": MONTHS[name], "year": int(year) if year else None})
        return None

    r.sub(
        rf"\b((?:in|during|for|of|from)\s+)?(?:the\s+)?(?:month\s+of\s+)?(?:(?:last|this)\s+)?({MONTH_NAMES})"
        rf"(?:\s*(?:of\s*)?(\d{{4}}))?{POSS}\b",
        month,
    )
    r.sub(
        r"\b(?:(?:in|for|during|of)\s+(?:the\s+)?(?:year\s+)?|year\s+|fy\s*)(\d{4})\b",
        lambda m: r.set_period({"kind": "year", "year": int(m.group(1))}),
    )


def _read_amounts(r: _Reading) -> None:
    def bound(name: str, digits: str, scale: str | None) -> Any:
        text = _amount_text(digits, scale)
        if text is None:
            return False
        r.set_filter(name, text)
        return None

    def between(match: re.Match) -> Any:
        if bound("amount_at_least", match.group(1), match.group(2)) is False:
            return False
        return bound("amount_at_most", match.group(3), match.group(4))

    r.sub(rf"\bbetween\s+{AMOUNT}\s+(?:and|to|-)\s+{AMOUNT}", between)
    comparators = (
        ("amount_at_least", r"(?:\b(?:at\s*least|no\s*less\s*than|min(?:imum)?(?:\s*of)?)|>=)"),
        ("amount_at_most", r"(?:\b(?:at\s*most|up\s*to|no\s*more\s*than|max(?:imum)?(?:\s*of)?)|<=)"),
        ("amount_over", r"(?:\b(?:over|above|more\s*than|greater\s*than|exceeding|larger\s*than|bigger\s*than|"
                        r"higher\s*than)|>)"),
        ("amount_under", r"(?:\b(?:under|below|less\s*than|smaller\s*than|lower\s*than|cheaper\s*than)|<)"),
    )  # fmt: skip
    for name, words in comparators:
        r.sub(rf"{words}\s*{AMOUNT}", lambda m, name=name: bound(name, m.group(1), m.group(2)))


def _read_ranking(r: _Reading) -> None:
    orders = {
        "top": ("amount", "desc"), "largest": ("amount", "desc"), "biggest": ("amount", "desc"),
        "highest": ("amount", "desc"), "greatest": ("amount", "desc"), "most expensive": ("amount", "desc"),
        "priciest": ("amount", "desc"), "costliest": ("amount", "desc"),
        "smallest": ("amount", "asc"), "lowest": ("amount", "asc"), "cheapest": ("amount", "asc"),
        "least expensive": ("amount", "asc"),
        "latest": ("date", "desc"), "newest": ("date", "desc"), "most recent": ("date", "desc"),
        "recent": ("date", "desc"), "last": ("date", "desc"),
        "oldest": ("date", "asc"), "earliest": ("date", "asc"), "first": ("date", "asc"),
    }  # fmt: skip
    words = "|".join(word.replace(" ", r"\s*") for word in sorted(orders, key=len, reverse=True))

    def explicit(match: re.Match) -> None:
        key, direction = match.group(1), match.group(2)
        by = "date" if key in ("date", "time", "newest", "oldest") else "amount"
        default = "asc" if key in ("oldest", "smallest") else "desc"
        r.set_order(by, {"ascending": "asc", "descending": "desc"}.get(direction, direction or default))

    r.sub(
        r"\b(?:sorted|sort|ordered|order|ranked|rank)\s*by\s*(amount|size|value|total|date|time|newest|oldest|"
        r"largest|smallest)\s*(asc|ascending|desc|descending)?\b",
        explicit,
    )
    r.sub(rf"\b({words})\s*first\b", lambda m: r.set_order(*orders[_spaced(m.group(1))]))

    def ranked(match: re.Match, word: int = 1, count: int = 2) -> None:
        by, direction = orders[_spaced(match.group(word))]
        r.flags.add("ranking")
        r.set_order(by, direction)
        following = match.string[match.end() :].split()[:3]
        if match.group(count):
            r.limit = _number(match.group(count))
        elif _singular_ahead(following):
            r.limit = 1
        elif by == "amount" and r.limit is None:
            r.limit = TOP_DEFAULT_LIMIT
            r.flags.add("default_limit")

    r.sub(rf"\b(?:the\s+)?{NUM}\s+({words})\b", lambda m: ranked(m, word=2, count=1))
    r.sub(rf"\b(?:the\s+)?({words})(?:\s+{NUM})?\b", ranked)

    def most(match: re.Match) -> None:
        r.flags.add("ranking")
        r.set_order("amount", "desc" if match.group(1) == "most" else "asc")

    r.sub(r"\b(?:the\s+)?(most|least)\b", most)

    def limit(match: re.Match) -> None:
        r.limit = _number(match.group(1))

    r.sub(rf"\blimit(?:ed)?\s*(?:to\s*)?{NUM}\b", limit)


def _singular_ahead(following: list[str]) -> bool:
    """ "largest purchase", "cheapest travel expense": one row; "lowest spend vendors": a ranking."""
    for word in following[:2]:
        if word in SINGULAR_SPEND_NOUNS:
            return not (word == "spend" and following[1:2] and following[1] in DIMENSIONS)
        if word in DIMENSIONS or word.endswith("s"):
            return False
    return False


def _spaced(words: str) -> str:
    """The ranking key for a phrase typed with or without its inner space ("mostexpensive")."""
    for key in ("most expensive", "least expensive", "most recent"):
        if words.replace(" ", "") == key.replace(" ", ""):
            return key
    return " ".join(words.split())


def _read_grouping(r: _Reading) -> None:
    r.sub(
        rf"\b(?:by|per|for\s*each|for\s*every|each|every|across(?:\s*all)?|broken\s*down\s*by|break\s*down\s*by|"
        rf"breakdown\s*by|split\s*by|grouped\s*by|group\s*by|by\s*each)\s+(?:the\s+)?{DIM}\b",
        lambda m: r.set_group(DIMENSIONS[m.group(1)]),
    )
    r.sub(r"\b(daily|weekly|monthly)\b", lambda m: r.set_group({"daily": "day", "weekly": "week",
                                                                 "monthly": "month"}[m.group(1)]))  # fmt: skip
    r.sub(r"\b(day|week|month)\s*(?:by|over|on)\s*(?:day|week|month)\b", lambda m: r.set_group(m.group(1)))

    def which(match: re.Match) -> None:
        word = match.group(1)
        r.set_group(DIMENSIONS[word])
        if word in ("department", "dept", "team", "category", "merchant", "vendor", "supplier", "payee",
                    "employee", "person", "user", "spender"):  # fmt: skip
            r.flags.add("singular_which")

    r.sub(rf"\b(?:which|what)\s+{DIM}\b", which)
    r.sub(rf"\b(?:expense|spend|spending|cost)\s+{DIM}\b", lambda m: r.set_group(DIMENSIONS[m.group(1)]))
    r.sub(rf"\b{PLURAL_DIMENSIONS}\b", lambda m: r.set_group(DIMENSIONS[m.group(1)]))


def _read_status(r: _Reading) -> None:
    if "fraud" in r.flags:
        return
    statuses = (
        ("rejected", r"rejected|declined|refused|denied|failed"),
        ("pending", r"pending|processing|unsettled|awaiting\s*settlement|in\s*flight"),
        ("reversed", r"reversed|refunded|reversals?"),
        ("posted", r"posted|settled|approved|completed|successful|cleared"),
    )
    for status, words in statuses:
        r.sub(rf"\b(?:{words})\b", lambda m, status=status: r.set_filter("status", status))
    r.sub(r"\b(?:(?:all|any|every)\s*status(?:es)?|regardless\s*of\s*status|whatever\s*(?:the\s*)?status)\b",
          lambda m: r.set_filter("status", "any"))  # fmt: skip


def _read_departments(r: _Reading) -> None:
    for name in sorted(r.context.department_names, key=len, reverse=True):
        spelled = r"\s*".join(re.escape(word) for word in name.lower().split())
        r.sub(
            rf"\b(?:(?:in|for|from|of|at|by)\s+)?(?:the\s+)?(?:(?:department|dept|team)\s+)?{spelled}{POSS}"
            rf"(?:\s+(?:department|dept|team)s?)?\b",
            lambda m, name=name: r.set_filter("department", name),
        )
    r.sub(rf"\b(?:(?:in|for|from|of)\s+)?(?:the\s+)?(?:department|dept|team)\s+{PHRASE}", r.name_handler("department"))

    def before_keyword(match: re.Match) -> Any:
        if match.group(1) in RESERVED:
            return False
        r.set_filter("department", match.group(1))
        return None

    r.sub(rf"\b(?:(?:in|for|from|of)\s+)?(?:the\s+)?({NAME_TOKEN})\s+(?:department|dept|team)\b", before_keyword)


def _read_people(r: _Reading) -> None:
    def me(match: re.Match) -> None:
        r.set_filter("employee", ME)

    r.sub(r"\b(?:did|do|have|had|has)\s+i\b|\bi\s+(?=(?:have\s+|had\s+)?(?:spen[dt]|paid|bought|charged|expensed))", me)
    r.sub(r"\b(?:(?:for|by|of)\s+)?(?:my\s*own|my|mine|myself)\b|\b(?:for|by|of)\s+me\b", me)
    r.sub(r"\b(?:did|do|have|has|had)\s+(?:we|us|the\s*company|everyone|everybody|the\s*organi[sz]ation|the\s*org)\b",
          lambda m: None)  # fmt: skip
    r.sub(
        rf"\b(?:did|does|has|have|had)\s+{PHRASE}(?=\s+(?:spend|spent|pay|paid|buy|bought|expense|charge|have|had"
        rf"|submit|submitted|incur|incurred|claim|claimed|file|filed|rack|racked))",
        r.name_handler("employee"),
    )

    def possessive(match: re.Match) -> Any:
        if match.group(1) in RESERVED:
            return False
        r.set_filter("employee", match.group(1))
        return None

    r.sub(rf"\b({NAME_TOKEN})'s\b", possessive)
    r.sub(rf"\bby\s+(?:employee\s+|user\s+|person\s+)?{PHRASE}", r.name_handler("employee"))
    r.sub(rf"\b(?:employee|user|person|staff\s*member)\s+{PHRASE}", r.name_handler("employee"))


def _read_merchant(r: _Reading) -> None:
    r.sub(
        rf"\b(?:at|from|with|to|pay|paid|merchant|vendor|supplier|payee|store)\s+{PHRASE}", r.name_handler("merchant")
    )


def _read_category(r: _Reading) -> None:
    # The organization's categories of several words ("lab supplies") wherever they stand.
    known = r.context.vocabulary.categories if r.context.vocabulary else ()
    for name in sorted((name for name in known if " " in name.strip()), key=len, reverse=True):
        spelled = r"\s+".join(re.escape(word) for word in name.lower().split())
        r.sub(rf"\b(?:(?:on|for|in)\s+)?{spelled}\b", lambda m, name=name: r.set_filter("category", name))
    r.sub(rf"\b(?:on|for|(?:in\s+|under\s+)?category)\s+{PHRASE}", r.name_handler("category"))

    def before(match: re.Match) -> Any:
        if match.group(1) in RESERVED:
            return False
        r.set_filter("category", match.group(1))
        return None

    r.sub(rf"\b({NAME_TOKEN})\s+category\b", before)
    r.sub(rf"\b({NAME_TOKEN})(?=\s+{SPEND_NOUN}\b)", before)
    # "in X": a department the vocabulary did not know (it may simply not exist in this organization).
    r.sub(rf"\bin\s+{PHRASE}", r.name_handler("department"))


def _read_metric_words(r: _Reading) -> None:
    def flag(name: str) -> Callable[[re.Match], None]:
        return lambda m: r.flags.add(name)

    r.sub(r"\bhow\s*many\b|\bnumber\s*of\b|\bcounts?(?:\s*of)?\b", flag("count"))
    r.sub(r"\b(?:on\s+)?average\b|\bavg\b|\bmean\b|\btypical\b", flag("average"))
    r.sub(r"\bhow\s*much\b|\btotals?\b|\bsum(?:\s*of)?\b|\bsummed\b|\bin\s*total\b|\baltogether\b|\bcombined\b"
          r"|\boverall\b", flag("total"))  # fmt: skip
    r.sub(r"\b(?:spend|spent|spending|spendings|costs?|expenditures?|outlay|paid|pay)\b", flag("spend_verb"))
    r.sub(r"\b(?:expenses?|spends|transactions?|purchases?|payments?|charges?|receipts?|(?:line\s*)?items?|records?"
          r"|entries)\b", flag("rows"))  # fmt: skip


PASSES = (
    _read_courtesies,
    _read_emails,
    _read_quoted,
    read_finance_terms,
    _read_fraud,
    _read_budget,
    read_people_rankings,
    _read_period,
    _read_amounts,
    _read_ranking,
    _read_grouping,
    _read_status,
    _read_departments,
    _read_people,
    _read_merchant,
    _read_category,
    _read_metric_words,
)


class RulesParser:
    """The default parser: offline, deterministic, documented in GRAMMAR.md."""

    source = "rules"

    def draft(self, question: str, *, context: ParseContext) -> dict[str, Any]:
        reading = _Reading(normalize_question(question), context)
        for read in PASSES:
            read(reading)
        draft = reading.draft()
        if reading.clashes:
            raise ParseFailed(reading.clashes[0], understood=draft)
        leftovers = reading.leftovers()
        if leftovers:
            raise ParseFailed(f"I did not understand: {' '.join(leftovers)}.", understood=draft, unrecognized=leftovers)
        if draft["metric"] is None:
            raise ParseFailed("I could not tell what to measure: ask for expenses, a total, a count, "
                              "an average, budget usage or fraud alerts.", understood=draft)  # fmt: skip
        return draft
