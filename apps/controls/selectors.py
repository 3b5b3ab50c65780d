"""Reads of the controls app: the policy in force, the totals its limits count, and what an employee may spend."""

import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from apps.budgets.totals import lineage_of
from apps.tenancy.models import Department, Organization, User
from ledgerx.months import month_start

from .models import LimitPeriod, RuleKind, SpendPolicyVersion, SpendRule
from .policy import PolicyRule, PolicyTotals, SpendFacts, SpendPolicy, TotalsNeeded


def spend_rules_of(*, organization: Organization) -> QuerySet[SpendRule]:
    return SpendRule.objects.of(organization).select_related("department", "employee")


def rule_text(rule: SpendRule, organization: Organization) -> str:
    """The rule in words, as the employees it applies to read it."""
    return PolicyRule.from_snapshot(rule.snapshot()).text(
        currency=organization.currency, timezone_name=organization.timezone
    )


def policy_version_current(*, organization_id: uuid.UUID) -> SpendPolicyVersion | None:
    return (
        SpendPolicyVersion.objects.filter(organization_id=organization_id)
        .select_related("changed_by")
        .order_by("-number")
        .first()
    )


def receipt_thresholds(*, organization_id: uuid.UUID) -> dict[int, int]:
    """Per policy version that held a receipt rule, the amount above which its spends need a receipt
    (the lowest, when it held several). A spend is held to the version it was settled on."""
    thresholds: dict[int, int] = {}
    versions = SpendPolicyVersion.objects.filter(
        organization_id=organization_id, rules__contains=[{"kind": RuleKind.RECEIPT_REQUIRED_ABOVE.value}]
    ).values_list("number", "rules")
    for number, rules in versions:
        thresholds[number] = min(
            rule["amount_minor"] for rule in rules if rule["kind"] == RuleKind.RECEIPT_REQUIRED_ABOVE
        )
    return thresholds


def organizations_requiring_receipts() -> list[uuid.UUID]:
    """The organizations whose policy holds, or once held, a receipt rule."""
    return list(
        SpendPolicyVersion.objects.filter(rules__contains=[{"kind": RuleKind.RECEIPT_REQUIRED_ABOVE.value}])
        .values_list("organization_id", flat=True)
        .distinct()
    )


def policy_for(organization: Organization) -> SpendPolicy | None:
    """The policy in force: its latest version, read now (in the caller's transaction). None if the
    organization never had a rule."""
    latest = (
        SpendPolicyVersion.objects.filter(organization_id=organization.id)
        .order_by("-number")
        .values_list("number", "rules")
        .first()
    )
    if latest is None:
        return None
    number, rules = latest
    return SpendPolicy.from_version(
        number=number, rules=rules, currency=organization.currency, timezone_name=organization.timezone
    )


# Acceptance asks for the policy on every spend; reading it from PostgreSQL each time would add a
# query to the hot path (the ingest bench measures it). Each process keeps each organization's policy
# for SPEND_POLICY_CACHE_SECONDS. Stale is safe: settlement decides every spend again on the version
# in force, and acceptance refuses only on a fresh read (policy_check_at_acceptance).
_cached_policies: dict[uuid.UUID, tuple[float, SpendPolicy | None]] = {}


def policy_cached(organization: Organization) -> SpendPolicy | None:
    cached = _cached_policies.get(organization.id)
    if cached is not None and time.monotonic() < cached[0]:
        return cached[1]
    return _policy_fresh(organization)


def _policy_fresh(organization: Organization) -> SpendPolicy | None:
    policy = policy_for(organization)
    _cached_policies[organization.id] = (time.monotonic() + settings.SPEND_POLICY_CACHE_SECONDS, policy)
    return policy


def forget_cached_policy(organization_id: uuid.UUID) -> None:
    """This process changed the policy: its next acceptance reads the new one."""
    _cached_policies.pop(organization_id, None)


def policy_check_at_acceptance(*, organization: Organization, spend: SpendFacts) -> None:
    """Raise PolicyRefused for a spend that breaks, by itself, a rule in force.

    The cached policy lets a spend through; one it refuses is asked again of the policy read afresh,
    so no spend is turned away by a rule that was just lifted.
    """
    policy = policy_cached(organization)
    if policy is None or policy.refusal(spend) is None:
        return
    policy = _policy_fresh(organization)
    refusal = policy.refusal(spend) if policy is not None else None
    if refusal is not None:
        raise refusal


# What the limits count, from the tallies (SpendTally): per batch employee and local day, and per
# department and rule category (rolled up to each department's subtree in Python). A row of another
# employee or category falls into the NULL group of its set, which is ignored.
_COUNTED_TOTALS = """
    SELECT GROUPING(department_id) = 1,
           CASE WHEN employee_id = ANY(%(employees)s) THEN employee_id END,
           day,
           department_id,
           CASE WHEN category = ANY(%(categories)s) THEN category END,
           month,
           sum(amount_minor)
    FROM controls_spendtally
    WHERE organization_id = %(organization)s AND month = ANY(%(months)s)
      AND (employee_id = ANY(%(employees)s) OR category = ANY(%(categories)s))
    GROUP BY GROUPING SETS ((2, 3, 6), (4, 5, 6))
"""


def policy_totals_read(
    *, organization: Organization, needed: TotalsNeeded, parents: dict[uuid.UUID, uuid.UUID | None]
) -> PolicyTotals:
    """What the limits count for these employees and category keys: one query of their tallies, a row
    per employee, department, category and day, however many spends the month holds.

    Settlement calls it in its SERIALIZABLE transaction under the settlement lock, which every path
    that posts, holds or releases a spend (and moves its tally) also holds: they cannot move while it decides.
    """
    totals = PolicyTotals(parents=parents)
    if not needed.months or not (needed.employee_ids or needed.category_keys):
        return totals
    with connection.cursor() as cursor:
        cursor.execute(
            _COUNTED_TOTALS,
            {
                "organization": organization.id,
                "months": sorted(needed.months),
                "employees": list(needed.employee_ids),
                "categories": sorted({category for _, category, _ in needed.category_keys}),
            },
        )
        rows = cursor.fetchall()
    for per_employee, employee_id, day, department_id, category, month, total in rows:
        if per_employee and employee_id is not None:
            totals.employee_day[(employee_id, day)] = totals.employee_day.get((employee_id, day), 0) + total
            totals.employee_month[(employee_id, month)] = totals.employee_month.get((employee_id, month), 0) + total
        elif not per_employee and category is not None:
            # A department's category counts its whole subtree, as its budget does.
            for above in totals.lineage(department_id):
                key = (above, category, month)
                if key in needed.category_keys:
                    totals.category_month[key] = totals.category_month.get(key, 0) + total
    return totals


@dataclass(frozen=True)
class RuleStanding:
    """A rule that applies to an employee, in words, with what its limit leaves them (limits only)."""

    name: str
    text: str
    limit_minor: int | None = None
    used_minor: int | None = None
    when: str = ""  # "today", "this month"

    @property
    def left_minor(self) -> int | None:
        return None if self.used_minor is None else max(self.limit_minor - self.used_minor, 0)


@dataclass(frozen=True)
class EmployeeRules:
    version: int
    currency: str
    rules: list[RuleStanding]


def spending_rules_for(*, user: User) -> EmployeeRules | None:
    """The rules in force that apply to this employee, with limits left today and this month. None when
    the organization has no policy."""
    organization = user.organization
    policy = policy_for(organization)
    if policy is None:
        return None
    parents = dict(Department.objects.filter(organization_id=organization.id).values_list("id", "parent_id"))
    lineage = lineage_of(user.department_id, parents) if user.department_id else []
    now = timezone.now()
    today = now.astimezone(policy.timezone).date()
    month = month_start(now, organization.timezone)
    applying = [
        rule
        for rule in policy.rules
        if rule.applies_to(employee_id=user.id, role=user.role)
        and (rule.kind != RuleKind.CATEGORY_LIMIT or rule.department_id in lineage)
    ]
    totals = policy_totals_read(
        organization=organization,
        needed=TotalsNeeded(
            employee_ids=frozenset({user.id}),
            months=frozenset({month}),
            category_keys=frozenset(
                (rule.department_id, rule.category, month) for rule in applying if rule.kind == RuleKind.CATEGORY_LIMIT
            ),
        ),
        parents=parents,
    )
    standings = []
    for rule in applying:
        used, when = None, ""
        if rule.kind == RuleKind.EMPLOYEE_LIMIT and rule.period == LimitPeriod.DAY:
            used, when = totals.employee_day.get((user.id, today), 0), "today"
        elif rule.kind == RuleKind.EMPLOYEE_LIMIT and rule.period == LimitPeriod.MONTH:
            used, when = totals.employee_month.get((user.id, month), 0), "this month"
        elif rule.kind == RuleKind.CATEGORY_LIMIT:
            used, when = totals.category_month.get((rule.department_id, rule.category, month), 0), "this month"
        standings.append(
            RuleStanding(
                name=rule.name,
                text=rule.text(currency=policy.currency, timezone_name=organization.timezone),
                limit_minor=rule.amount_minor if used is not None else None,
                used_minor=used,
                when=when,
            )
        )
    return EmployeeRules(version=policy.version, currency=policy.currency, rules=standings)
