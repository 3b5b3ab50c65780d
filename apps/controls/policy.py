"""The one decision of a spend policy: whether a spend breaks a rule, and which one, in words.

Pure: settlement and acceptance both ask `SpendPolicy.refusal`. Settlement passes running totals
(what each employee, and each department's category, has posted and holds), so every rule applies;
acceptance passes none, so only the rules a spend breaks by itself apply there (a blocked category
or merchant, a per-spend limit, the hours, a missing description).
"""

import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from apps.budgets.totals import lineage_of
from apps.tenancy.models import Role
from ledgerx.errors import Forbidden
from ledgerx.money import format_money

from .models import WEEKDAYS, LimitPeriod, RuleKind


class PolicyRefused(Forbidden):
    """A spend breaks a rule; `reason` names the policy, its version and the rule, like a budget refusal."""

    code = "policy_refused"

    def __init__(self, reason: str, *, field_name: str | None = None) -> None:
        super().__init__(reason, fields={field_name: [reason]} if field_name else None)
        self.reason = reason


class SpendFacts(NamedTuple):
    """What a policy reads of a spend. `created_at` is when it was accepted: hours and days count from it.

    A tuple: settlement makes one per spend of every batch.
    """

    amount_minor: int
    category: str
    merchant: str
    description: str
    employee_id: uuid.UUID
    employee_role: str
    department_id: uuid.UUID
    created_at: datetime
    budget_month: date


@dataclass
class PolicyTotals:
    """Posted and held spend (awaiting approval) that the limits count, kept running through a batch.

    Per employee and local day, per employee and budget month, and per (department, category, month)
    over the department's whole subtree, as budgets count.
    """

    parents: Mapping[uuid.UUID, uuid.UUID | None]
    employee_day: dict[tuple[uuid.UUID, date], int] = field(default_factory=dict)
    employee_month: dict[tuple[uuid.UUID, date], int] = field(default_factory=dict)
    category_month: dict[tuple[uuid.UUID, str, date], int] = field(default_factory=dict)
    lineages: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=dict)

    def lineage(self, department_id: uuid.UUID) -> list[uuid.UUID]:
        lineage = self.lineages.get(department_id)
        if lineage is None:
            lineage = self.lineages[department_id] = lineage_of(department_id, self.parents)
        return lineage


@dataclass(frozen=True)
class TotalsNeeded:
    """Which totals a decision reads: those of these employees in these months, and these category keys."""

    employee_ids: frozenset[uuid.UUID]
    months: frozenset[date]
    category_keys: frozenset[tuple[uuid.UUID, str, date]]


def merchant_matcher(pattern: str) -> re.Pattern:
    """`*` stands for any run of characters and `?` for one; everything else is itself; any letter case.

    The whole name must match, so a pattern without a wildcard is the exact name.
    """
    parts = (".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def is_merchant_pattern(merchant: str) -> bool:
    return "*" in merchant or "?" in merchant


def minute_text(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def weekdays_text(weekdays: Iterable[str]) -> str:
    """Days in words, consecutive ones as one run: "every day", "Mon-Fri", "Mon, Wed-Fri"."""
    days = sorted(WEEKDAYS.index(day) for day in weekdays)
    if len(days) == len(WEEKDAYS):
        return "every day"
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(
        WEEKDAYS[run[0]].capitalize() + (f"-{WEEKDAYS[run[-1]].capitalize()}" if len(run) > 1 else "") for run in runs
    )


@dataclass(frozen=True)
class PolicyRule:
    """One rule as a policy version holds it (the snapshot apps/controls/services.py writes)."""

    id: str
    name: str
    kind: str
    category: str = ""
    merchant: str = ""
    amount_minor: int | None = None
    period: str = ""
    department_id: uuid.UUID | None = None
    department_name: str = ""
    role: str = ""
    employee_id: uuid.UUID | None = None
    employee_email: str = ""
    from_minute: int | None = None
    until_minute: int | None = None
    weekdays: tuple[str, ...] = ()

    @classmethod
    def from_snapshot(cls, snapshot: Mapping) -> "PolicyRule":
        values = dict(snapshot)
        for key in ("department_id", "employee_id"):
            values[key] = uuid.UUID(values[key]) if values.get(key) else None
        values["weekdays"] = tuple(values.get("weekdays") or ())
        return cls(**values)

    @property
    def needs_totals(self) -> bool:
        """Whether deciding needs what was spent before: a day or month limit, a category limit."""
        return self.kind == RuleKind.CATEGORY_LIMIT or (
            self.kind == RuleKind.EMPLOYEE_LIMIT and self.period != LimitPeriod.SPEND
        )

    def applies_to(self, *, employee_id: uuid.UUID, role: str) -> bool:
        """An employee limit may name one role or one employee; every other rule applies to everyone."""
        return (self.employee_id is None or self.employee_id == employee_id) and (not self.role or self.role == role)

    def who(self) -> str:
        if self.employee_id is not None:
            return self.employee_email
        return f"each {Role(self.role).label.lower()}" if self.role else "each employee"

    def text(self, *, currency: str, timezone_name: str) -> str:
        """The rule in words, for the people it applies to."""
        money = format_money(self.amount_minor, currency) if self.amount_minor is not None else ""
        if self.kind == RuleKind.BLOCKED_CATEGORY:
            return f"The category '{self.category}' is blocked."
        if self.kind == RuleKind.BLOCKED_MERCHANT:
            if is_merchant_pattern(self.merchant):
                return f"Merchants matching '{self.merchant}' are blocked."
            return f"The merchant '{self.merchant}' is blocked."
        if self.kind == RuleKind.EMPLOYEE_LIMIT:
            per = "per spend" if self.period == LimitPeriod.SPEND else f"a {self.period}"
            return f"At most {money} {per}, for {self.who()}."
        if self.kind == RuleKind.CATEGORY_LIMIT:
            return f"At most {money} a month of '{self.category}' in {self.department_name} and below."
        if self.kind == RuleKind.ALLOWED_HOURS:
            return (
                f"Spending is allowed {weekdays_text(self.weekdays)}, {minute_text(self.from_minute)}-"
                f"{minute_text(self.until_minute)} ({timezone_name})."
            )
        if self.kind == RuleKind.RECEIPT_REQUIRED_ABOVE:
            return f"A receipt is required above {money}."
        return f"A description is required above {money}."


# What one kind checks: (rule, policy, spend, spend's local time, totals) -> (what is wrong, the field) or None.
Check = Callable[[PolicyRule, "SpendPolicy", SpendFacts, datetime, PolicyTotals | None], tuple[str, str | None] | None]


def _blocked_category(rule, policy, spend, local, totals):
    if spend.category == rule.category:
        return f"the category '{spend.category}' is blocked.", "category"
    return None


def _blocked_merchant(rule, policy, spend, local, totals):
    if not policy.merchant_matchers[rule.id].fullmatch(spend.merchant):
        return None
    if is_merchant_pattern(rule.merchant):
        return f"the merchant '{spend.merchant}' is blocked (merchants matching '{rule.merchant}').", "merchant"
    return f"the merchant '{spend.merchant}' is blocked.", "merchant"


def _employee_limit(rule, policy, spend, local, totals):
    if not rule.applies_to(employee_id=spend.employee_id, role=spend.employee_role):
        return None
    if rule.period == LimitPeriod.SPEND:
        current = None
    elif rule.period == LimitPeriod.DAY:
        current = totals.employee_day.get((spend.employee_id, local.date()), 0)
    else:
        current = totals.employee_month.get((spend.employee_id, spend.budget_month), 0)
    if (current or 0) + spend.amount_minor <= rule.amount_minor:
        return None
    figures = "" if current is None else f"Current: {policy.money(current)}, "
    return f"{policy.sentence(rule)}. {figures}Requested: {policy.money(spend.amount_minor)}", "amount"


def _category_limit(rule, policy, spend, local, totals):
    if spend.category != rule.category or rule.department_id not in totals.lineage(spend.department_id):
        return None
    current = totals.category_month.get((rule.department_id, rule.category, spend.budget_month), 0)
    if current + spend.amount_minor <= rule.amount_minor:
        return None
    return (
        f"{policy.sentence(rule)}. Current: {policy.money(current)}, Requested: {policy.money(spend.amount_minor)}",
        "amount",
    )


def _allowed_hours(rule, policy, spend, local, totals):
    minute = local.hour * 60 + local.minute
    if WEEKDAYS[local.weekday()] in rule.weekdays and rule.from_minute <= minute < rule.until_minute:
        return None
    came = f"{WEEKDAYS[local.weekday()].capitalize()} {minute_text(minute)}"
    return f"{policy.sentence(rule)}; this spend came {came}.", None


def _description_required_above(rule, policy, spend, local, totals):
    if spend.amount_minor <= rule.amount_minor or spend.description.strip():
        return None
    return (
        f"a description is required above {policy.money(rule.amount_minor)}. "
        f"Requested: {policy.money(spend.amount_minor)}",
        "description",
    )


def _receipt_required_above(rule, policy, spend, local, totals):
    """Never refuses: a receipt comes after the spend. apps/receipts lists the posted spends above the
    amount that still have none, and reminds their spenders."""
    return None


CHECKS: dict[str, Check] = {
    RuleKind.BLOCKED_CATEGORY: _blocked_category,
    RuleKind.BLOCKED_MERCHANT: _blocked_merchant,
    RuleKind.EMPLOYEE_LIMIT: _employee_limit,
    RuleKind.CATEGORY_LIMIT: _category_limit,
    RuleKind.ALLOWED_HOURS: _allowed_hours,
    RuleKind.DESCRIPTION_REQUIRED_ABOVE: _description_required_above,
    RuleKind.RECEIPT_REQUIRED_ABOVE: _receipt_required_above,
}
# The order rules are asked in, so a spend that breaks two always hears of the same one: what it
# breaks by itself first, then the limits, the widest last.
KIND_ORDER = (
    RuleKind.BLOCKED_CATEGORY,
    RuleKind.BLOCKED_MERCHANT,
    RuleKind.ALLOWED_HOURS,
    RuleKind.DESCRIPTION_REQUIRED_ABOVE,
    RuleKind.RECEIPT_REQUIRED_ABOVE,
    RuleKind.EMPLOYEE_LIMIT,
    RuleKind.CATEGORY_LIMIT,
)
PERIOD_ORDER = (LimitPeriod.SPEND, LimitPeriod.DAY, LimitPeriod.MONTH, "")


@dataclass(frozen=True)
class SpendPolicy:
    """An organization's rules as one version holds them, with what deciding needs of the organization."""

    version: int
    rules: tuple[PolicyRule, ...]
    currency: str
    timezone: ZoneInfo
    merchant_matchers: Mapping[str, re.Pattern] = field(default_factory=dict)
    # Each rule with its check, asked in order: all of them at settlement; at acceptance, those that need no totals.
    checks: tuple[tuple[PolicyRule, Check], ...] = ()
    checks_without_totals: tuple[tuple[PolicyRule, Check], ...] = ()
    # Which running totals its rules read, so a batch keeps only those.
    limits_days: bool = False
    limits_months: bool = False
    limited_categories: frozenset[str] = frozenset()

    @classmethod
    def from_version(cls, *, number: int, rules: Sequence[Mapping], currency: str, timezone_name: str) -> "SpendPolicy":
        parsed = sorted(
            (PolicyRule.from_snapshot(rule) for rule in rules),
            key=lambda rule: (KIND_ORDER.index(rule.kind), PERIOD_ORDER.index(rule.period), rule.name, rule.id),
        )
        return cls(
            version=number,
            rules=tuple(parsed),
            currency=currency,
            timezone=ZoneInfo(timezone_name),
            merchant_matchers={
                rule.id: merchant_matcher(rule.merchant) for rule in parsed if rule.kind == RuleKind.BLOCKED_MERCHANT
            },
            checks=tuple((rule, CHECKS[rule.kind]) for rule in parsed),
            checks_without_totals=tuple((rule, CHECKS[rule.kind]) for rule in parsed if not rule.needs_totals),
            limits_days=any(rule.kind == RuleKind.EMPLOYEE_LIMIT and rule.period == LimitPeriod.DAY for rule in parsed),
            limits_months=any(
                rule.kind == RuleKind.EMPLOYEE_LIMIT and rule.period == LimitPeriod.MONTH for rule in parsed
            ),
            limited_categories=frozenset(rule.category for rule in parsed if rule.kind == RuleKind.CATEGORY_LIMIT),
        )

    def money(self, minor: int) -> str:
        return format_money(minor, self.currency)

    def sentence(self, rule: PolicyRule) -> str:
        """The rule in words as the middle of a refusal: "at most $500 per spend, for each employee"."""
        text = rule.text(currency=self.currency, timezone_name=self.timezone.key)
        return text[0].lower() + text[1:].removesuffix(".")

    def refusal(self, spend: SpendFacts, totals: PolicyTotals | None = None) -> PolicyRefused | None:
        """The first rule the spend breaks, as a refusal naming it; None if it breaks none.

        Without `totals` (at acceptance) the rules that count earlier spend are not asked.
        """
        local = spend.created_at.astimezone(self.timezone)
        for rule, check in self.checks if totals is not None else self.checks_without_totals:
            broken = check(rule, self, spend, local, totals)
            if broken is not None:
                what, field_name = broken
                return PolicyRefused(f"Policy '{rule.name}' (version {self.version}): {what}", field_name=field_name)
        return None

    def totals_needed(
        self, spends: Iterable[SpendFacts], lineages: Mapping[uuid.UUID, Sequence[uuid.UUID]]
    ) -> TotalsNeeded:
        """The totals deciding these spends reads (none when no rule counts earlier spend)."""
        spends = list(spends)
        counts_employees = any(rule.needs_totals and rule.kind == RuleKind.EMPLOYEE_LIMIT for rule in self.rules)
        category_rules = [rule for rule in self.rules if rule.kind == RuleKind.CATEGORY_LIMIT]
        category_keys = frozenset(
            (rule.department_id, rule.category, spend.budget_month)
            for spend in spends
            for rule in category_rules
            if rule.category == spend.category and rule.department_id in lineages[spend.department_id]
        )
        return TotalsNeeded(
            employee_ids=frozenset(spend.employee_id for spend in spends) if counts_employees else frozenset(),
            months=frozenset(spend.budget_month for spend in spends),
            category_keys=category_keys,
        )

    def count(self, spend: SpendFacts, totals: PolicyTotals) -> None:
        """Add a spend just posted or held to the running totals its rules read, so the batch's next
        spends see it."""
        if self.limits_days:
            day_key = (spend.employee_id, spend.created_at.astimezone(self.timezone).date())
            totals.employee_day[day_key] = totals.employee_day.get(day_key, 0) + spend.amount_minor
        if self.limits_months:
            month_key = (spend.employee_id, spend.budget_month)
            totals.employee_month[month_key] = totals.employee_month.get(month_key, 0) + spend.amount_minor
        if spend.category in self.limited_categories:
            for department_id in totals.lineage(spend.department_id):
                key = (department_id, spend.category, spend.budget_month)
                totals.category_month[key] = totals.category_month.get(key, 0) + spend.amount_minor
