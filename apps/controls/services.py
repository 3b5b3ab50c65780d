"""Writes of the controls app: spend rules, the policy version every change of one writes, and the
tallies the limits count.

The one writer of SpendRule, SpendPolicyVersion and SpendTally. Each change of a rule takes the
organization's policy lock, changes the rule, writes the next version with a snapshot of the rules
then in force, and records an audit event, all in one transaction: a decision that records version N
used exactly N's rules. Tallies move with the spends they count, in the spend workflow's transactions.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.ledger.models import Transaction
from apps.tenancy.models import Department, Organization, Role, User
from ledgerx.db import json_rows
from ledgerx.errors import InvalidInput, NotFound

from .models import (
    KIND_FIELDS,
    MINUTES_IN_A_DAY,
    WEEKDAYS,
    LimitPeriod,
    RuleKind,
    SpendPolicyVersion,
    SpendRule,
    SpendTally,
)
from .selectors import forget_cached_policy

# pg_advisory_xact_lock(int, int) keys live apart from the settlement lock's single bigint keys and
# from the sealer's namespace (apps/ledger/chain.py).
POLICY_LOCK_NAMESPACE = 0x5C01
# The roles an employee limit may name.
LIMITED_ROLES = (Role.EMPLOYEE, Role.FINANCE_MANAGER, Role.ORG_ADMIN)


@dataclass(frozen=True)
class RuleFields:
    """A rule as a client states it, amounts in minor units. Which fields a kind uses: KIND_FIELDS."""

    name: str
    kind: str
    is_active: bool = True
    category: str = ""
    merchant: str = ""
    amount_minor: int | None = None
    period: str = ""
    department_id: uuid.UUID | None = None
    role: str = ""
    employee_id: uuid.UUID | None = None
    from_minute: int | None = None
    until_minute: int | None = None
    weekdays: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, rule: SpendRule) -> "RuleFields":
        return cls(**{name: getattr(rule, name) for name in cls.__dataclass_fields__})


def _blank(value: Any) -> bool:
    return value in (None, "", [], ())


def spend_rule_check(*, organization: Organization, fields: RuleFields) -> dict[str, Any]:
    """Refuse a rule LedgerX would not apply, naming every field at fault (the API's names);
    answer the model's values. A department or employee of another organization is not found.

    spend_rule_create and spend_rule_update call it; the back office's form calls it first to show a
    refusal beside its fields.
    """
    if fields.kind not in RuleKind.values:
        raise InvalidInput(
            f"kind is one of: {', '.join(RuleKind.values)}.", fields={"kind": [f"One of {', '.join(RuleKind.values)}."]}
        )
    usage = KIND_FIELDS[fields.kind]
    label = RuleKind(fields.kind).label.lower()
    values = {
        "name": fields.name.strip(),
        "kind": fields.kind,
        "is_active": fields.is_active,
        "category": fields.category.strip().lower(),
        "merchant": fields.merchant.strip(),
        "amount_minor": fields.amount_minor,
        "period": fields.period,
        "role": fields.role,
        "from_minute": fields.from_minute,
        "until_minute": fields.until_minute,
        "weekdays": [day for day in WEEKDAYS if day in set(fields.weekdays or ())],
    }
    given = {
        "category": values["category"],
        "merchant": values["merchant"],
        "amount": fields.amount_minor,
        "period": fields.period,
        "department": fields.department_id,
        "role": fields.role,
        "employee": fields.employee_id,
        "start": fields.from_minute,
        "end": fields.until_minute,
        "weekdays": fields.weekdays,
    }
    problems: dict[str, list[str]] = {}
    if not values["name"]:
        problems["name"] = ["A rule needs a name."]
    for name, most in (("name", 120), ("category", 64), ("merchant", 200)):
        if len(values[name]) > most:
            problems[name] = [f"At most {most} characters."]
    for name, value in given.items():
        if name in usage.required and _blank(value):
            problems[name] = [f"Required for a {label} rule."]
        elif name not in usage.required | usage.optional and not _blank(value):
            problems[name] = [f"Not used by a {label} rule."]
    if fields.amount_minor is not None and fields.amount_minor <= 0:
        problems["amount"] = ["Must be greater than zero."]
    if fields.period and fields.period not in LimitPeriod.values:
        problems["period"] = [f"One of {', '.join(LimitPeriod.values)}."]
    if fields.role and fields.role not in LIMITED_ROLES:
        problems["role"] = [f"One of {', '.join(LIMITED_ROLES)}."]
    if fields.role and fields.employee_id:
        problems["employee"] = ["Name a role or an employee, not both."]
    if values["merchant"] and not values["merchant"].strip("*?"):
        problems["merchant"] = ["A pattern of wildcards alone would block every merchant."]
    if unknown_days := sorted(set(fields.weekdays or ()) - set(WEEKDAYS)):
        problems["weekdays"] = [f"Days are {', '.join(WEEKDAYS)}; not {', '.join(unknown_days)}."]
    if (
        fields.from_minute is not None
        and fields.until_minute is not None
        and not (0 <= fields.from_minute < fields.until_minute <= MINUTES_IN_A_DAY)
    ):
        problems["end"] = ["The end must come after the start, on the same day (24:00 at the latest)."]
    if problems:
        raise InvalidInput("The rule is not valid.", fields=problems)
    values["department"] = _of_organization(Department, organization, fields.department_id, "Department")
    values["employee"] = _of_organization(User, organization, fields.employee_id, "Employee")
    return values


def _of_organization(model, organization: Organization, object_id: uuid.UUID | None, label: str):
    if object_id is None:
        return None
    found = model.objects.of(organization).filter(id=object_id).first()
    if found is None:
        raise NotFound(f"{label} not found.")
    return found


def _audited(rule: SpendRule) -> dict[str, Any]:
    return {**rule.snapshot(), "is_active": rule.is_active}


def _policy_lock(organization: Organization) -> None:
    """Changes of one organization's policy take turns, so versions follow one another without gaps."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)", [POLICY_LOCK_NAMESPACE, organization.id.int & 0x7FFFFFFF]
        )


def _version_write(*, organization: Organization, actor: User | None, change: str) -> SpendPolicyVersion:
    latest = SpendPolicyVersion.objects.filter(organization=organization).order_by("-number").first()
    rules = SpendRule.objects.filter(organization=organization, is_active=True).select_related("department", "employee")
    version = SpendPolicyVersion.objects.create(
        organization=organization,
        number=(latest.number if latest else 0) + 1,
        rules=[rule.snapshot() for rule in rules.order_by("created_at", "id")],
        change=change[:300],
        changed_by=actor,
    )
    organization_id = organization.id
    transaction.on_commit(lambda: forget_cached_policy(organization_id))
    return version


@transaction.atomic
def spend_rule_create(
    *, actor: User | None, organization: Organization, fields: RuleFields
) -> tuple[SpendRule, SpendPolicyVersion]:
    """Add a rule; it applies to spends settled from the new version on."""
    _policy_lock(organization)
    values = spend_rule_check(organization=organization, fields=fields)
    rule = SpendRule.objects.create(organization=organization, **values)
    version = _version_write(organization=organization, actor=actor, change=f"Rule '{rule.name}' added.")
    audit_record(
        actor=actor,
        action=AuditEvent.Action.SPEND_RULE_CREATED,
        target=rule,
        after={**_audited(rule), "policy_version": version.number},
    )
    return rule, version


@transaction.atomic
def spend_rule_update(
    *, actor: User | None, rule_id: uuid.UUID, organization: Organization, changes: dict[str, Any]
) -> tuple[SpendRule, SpendPolicyVersion]:
    """Change some fields of a rule (RuleFields' names; not its kind: a rule of another kind is a new rule)."""
    _policy_lock(organization)
    rule = SpendRule.objects.of(organization).select_for_update().filter(id=rule_id).first()
    if rule is None:
        raise NotFound("Rule not found.")
    if "kind" in changes and changes["kind"] != rule.kind:
        raise InvalidInput(
            "A rule keeps its kind: add a rule of the other kind instead.", fields={"kind": ["Cannot be changed."]}
        )
    before = _audited(rule)
    values = spend_rule_check(organization=organization, fields=replace(RuleFields.of(rule), **changes))
    for name, value in values.items():
        setattr(rule, name, value)
    rule.updated_at = timezone.now()
    rule.save()
    version = _version_write(organization=organization, actor=actor, change=f"Rule '{rule.name}' changed.")
    audit_record(
        actor=actor,
        action=AuditEvent.Action.SPEND_RULE_UPDATED,
        target=rule,
        before=before,
        after={**_audited(rule), "policy_version": version.number},
    )
    return rule, version


@transaction.atomic
def spend_rule_delete(*, actor: User | None, rule_id: uuid.UUID, organization: Organization) -> SpendPolicyVersion:
    """Remove a rule. The versions that held it keep it, so spends decided on them still read right."""
    _policy_lock(organization)
    rule = SpendRule.objects.of(organization).select_for_update().filter(id=rule_id).first()
    if rule is None:
        raise NotFound("Rule not found.")
    before = _audited(rule)
    rule.delete()
    version = _version_write(organization=organization, actor=actor, change=f"Rule '{rule.name}' deleted.")
    rule.id = rule_id  # delete() cleared it; the log names the rule that was
    audit_record(
        actor=actor,
        action=AuditEvent.Action.SPEND_RULE_DELETED,
        target=rule,
        before=before,
        after={"policy_version": version.number},
    )
    return version


class CountedSpend(Protocol):
    """What a tally reads of a spend: settlement's claimed row and a Transaction alike."""

    amount_minor: int
    employee_id: uuid.UUID
    department_id: uuid.UUID
    category: str
    created_at: datetime
    budget_month: date


_TALLY_ADD = """
    INSERT INTO controls_spendtally (organization_id, employee_id, department_id, category, day, month, amount_minor)
    SELECT %s, v.employee, v.department, v.category, v.day, v.month, v.amount
    FROM json_to_recordset(%s::json)
        AS v(employee uuid, department uuid, category text, day date, month date, amount bigint)
    ON CONFLICT (organization_id, employee_id, day, department_id, category)
    DO UPDATE SET amount_minor = controls_spendtally.amount_minor + EXCLUDED.amount_minor
"""


def spend_tallies_add(*, organization: Organization, spends: Iterable[CountedSpend]) -> None:
    """Count spends just posted or held for approval, in one statement.

    Settlement calls it in its transaction for every organization, rules or none: a limit added
    later counts the month's spend from the first day.
    """
    zone = ZoneInfo(organization.timezone)
    sums: dict[tuple, int] = {}
    for spend in spends:
        key = (
            spend.employee_id,
            spend.department_id,
            spend.category,
            spend.created_at.astimezone(zone).date(),
            spend.budget_month,
        )
        sums[key] = sums.get(key, 0) + spend.amount_minor
    if not sums:
        return
    columns = ("employee", "department", "category", "day", "month")
    rows = [{**dict(zip(columns, key, strict=True)), "amount": amount} for key, amount in sums.items()]
    with connection.cursor() as cursor:
        cursor.execute(_TALLY_ADD, [organization.id, json_rows(rows)])


def spend_tally_release(*, spend: Transaction) -> None:
    """Take back a spend the limits no longer count: a hold rejected or expired, a spend reversed.

    The caller changes the spend's status in the same transaction, under the settlement lock.
    """
    SpendTally.objects.filter(
        organization_id=spend.organization_id,
        employee_id=spend.employee_id,
        day=spend.created_at.astimezone(ZoneInfo(spend.organization.timezone)).date(),
        department_id=spend.department_id,
        category=spend.category,
    ).update(amount_minor=F("amount_minor") - spend.amount_minor)
