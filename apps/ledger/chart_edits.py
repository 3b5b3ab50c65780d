"""Changes to an organization's chart of accounts, by finance in the back office (apps/ledger/admin.py).

Each write checks first and refuses with InvalidInput naming the field at fault; the DB-trigger change
log (apps/audit, migration 0010_chart_capture) records every row it changes, with who changed it.
What was posted keeps its codes: a change applies to the postings after it (chart.py).
"""

import re
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.db.models.functions import Lower

from apps.tenancy.models import Department, Organization
from ledgerx.errors import InvalidInput

from .chart import chart_ensure
from .models import ChartOfAccounts, GLAccount, GLMapping
from .models.chart import CODE_MAX_LENGTH, CODE_PATTERN

# The types of account each kind of rule may point at; a merchant rule may capitalize (an asset) as well.
ALLOWED_TYPES = {
    GLMapping.Kind.MERCHANT: {GLAccount.Type.EXPENSE, GLAccount.Type.ASSET},
    GLMapping.Kind.CATEGORY: {GLAccount.Type.EXPENSE},
    GLMapping.Kind.DEPARTMENT: {GLAccount.Type.EXPENSE},
    GLMapping.Kind.LEDGER_ACCOUNT: {GLAccount.Type.ASSET, GLAccount.Type.LIABILITY},
}
# Each kind's own field; every other target field must be left empty.
TARGET_FIELD = {
    GLMapping.Kind.MERCHANT: "merchant",
    GLMapping.Kind.CATEGORY: "category",
    GLMapping.Kind.DEPARTMENT: "department_id",
    GLMapping.Kind.LEDGER_ACCOUNT: "ledger_account_kind",
}


def _refuse(field: str, problem: str) -> InvalidInput:
    return InvalidInput(problem, fields={field: [problem]})


def _code(value: str, *, field: str, required: bool) -> str:
    code = value.strip()
    if not code:
        if required:
            raise _refuse(field, "This field is required.")
        return ""
    if len(code) > CODE_MAX_LENGTH or not re.fullmatch(CODE_PATTERN, code):
        raise _refuse(
            field,
            f"At most {CODE_MAX_LENGTH} letters, digits, '.', '-' or '_', beginning with a letter or a digit.",
        )
    return code


@dataclass(frozen=True)
class AccountFields:
    code: str
    name: str
    type: str
    is_active: bool


def gl_account_check(*, organization: Organization, fields: AccountFields, account: GLAccount | None) -> AccountFields:
    """The fields cleaned, or InvalidInput. `account` is the one being changed, None for a new one."""
    code = _code(fields.code, field="code", required=True)
    name = fields.name.strip()
    if not name or len(name) > 200:
        raise _refuse("name", "A name of 1 to 200 characters.")
    if fields.type not in GLAccount.Type.values:
        raise _refuse("type", f"One of: {', '.join(GLAccount.Type.values)}.")
    others = GLAccount.objects.of(organization).filter(code=code)
    if account is not None:
        others = others.exclude(id=account.id)
    if others.exists():
        raise _refuse("code", f"The chart already has an account {code}.")
    if account is not None:
        mappings = list(account.mappings.all())
        is_default = ChartOfAccounts.objects.filter(default_expense_account=account).exists()
        if not fields.is_active and (mappings or is_default):
            raise _refuse("is_active", "Mapped accounts stay active: map their rules to another account first.")
        needing = {kind for kind in (m.kind for m in mappings) if fields.type not in ALLOWED_TYPES[kind]}
        if needing or (is_default and fields.type != GLAccount.Type.EXPENSE):
            raise _refuse("type", "Rules or the chart's default point at this account and need its present type.")
    return AccountFields(code=code, name=name, type=fields.type, is_active=fields.is_active)


@transaction.atomic
def gl_account_save(*, organization: Organization, fields: AccountFields, account: GLAccount | None) -> GLAccount:
    """Add a GL account to the organization's chart (the default one first, if it has none), or change `account`."""
    chart_ensure(organization=organization)
    cleaned = gl_account_check(organization=organization, fields=fields, account=account)
    account = account or GLAccount(organization=organization)
    for name in ("code", "name", "type", "is_active"):
        setattr(account, name, getattr(cleaned, name))
    account.save()
    return account


@dataclass(frozen=True)
class MappingFields:
    kind: str
    gl_account_id: uuid.UUID | None  # None only as a form may give it: refused
    merchant: str = ""
    category: str = ""
    department_id: uuid.UUID | None = None
    ledger_account_kind: str = ""
    cost_centre: str = ""


def gl_mapping_check(*, organization: Organization, fields: MappingFields, mapping: GLMapping | None) -> MappingFields:
    """The fields cleaned (a category in lower case), or InvalidInput. `mapping` is the rule being changed."""
    kind = fields.kind
    if kind not in GLMapping.Kind.values:
        raise _refuse("kind", f"One of: {', '.join(GLMapping.Kind.values)}.")
    if mapping is not None and kind != mapping.kind:
        raise _refuse("kind", "A rule keeps its kind: add a rule of the other kind instead.")
    cleaned = MappingFields(
        kind=kind,
        gl_account_id=fields.gl_account_id,
        merchant=fields.merchant.strip(),
        category=fields.category.strip().lower(),
        department_id=fields.department_id,
        ledger_account_kind=fields.ledger_account_kind,
        cost_centre=_code(fields.cost_centre, field="cost_centre", required=False),
    )
    for name in TARGET_FIELD.values():
        given = getattr(cleaned, name)
        if name == TARGET_FIELD[kind] and not given:
            raise _refuse(name.removesuffix("_id"), f"A {GLMapping.Kind(kind).label.lower()} rule names one.")
        if name != TARGET_FIELD[kind] and given:
            raise _refuse(name.removesuffix("_id"), f"Not part of a {GLMapping.Kind(kind).label.lower()} rule.")
    if len(cleaned.merchant) > 200 or len(cleaned.category) > 64:
        raise _refuse(TARGET_FIELD[kind], "Too long.")
    if cleaned.cost_centre and kind != GLMapping.Kind.DEPARTMENT:
        raise _refuse("cost_centre", "Only a department rule gives a cost centre.")
    if kind == GLMapping.Kind.LEDGER_ACCOUNT and cleaned.ledger_account_kind not in GLMapping.LedgerAccountKind.values:
        raise _refuse("ledger_account_kind", f"One of: {', '.join(GLMapping.LedgerAccountKind.values)}.")
    if (
        mapping is not None
        and kind == GLMapping.Kind.LEDGER_ACCOUNT
        and cleaned.ledger_account_kind != mapping.ledger_account_kind
    ):
        raise _refuse("ledger_account_kind", "Every ledger account kind keeps its rule: change its GL account.")
    if (
        kind == GLMapping.Kind.DEPARTMENT
        and not Department.objects.of(organization).filter(id=cleaned.department_id).exists()
    ):
        raise _refuse("department", "No such department in this organization.")
    _gl_account_check(organization, cleaned)
    _one_rule_per_target(organization, cleaned, mapping)
    return cleaned


def _gl_account_check(organization: Organization, fields: MappingFields) -> None:
    if fields.gl_account_id is None:
        raise _refuse("gl_account", "This field is required.")
    account = GLAccount.objects.of(organization).filter(id=fields.gl_account_id).first()
    if account is None or not account.is_active:
        raise _refuse("gl_account", "An active GL account of this organization's chart.")
    allowed = ALLOWED_TYPES[GLMapping.Kind(fields.kind)]
    if account.type not in allowed:
        raise _refuse(
            "gl_account", f"A {fields.kind.replace('_', ' ')} rule points at an account of type {' or '.join(allowed)}."
        )


def _one_rule_per_target(organization: Organization, fields: MappingFields, mapping: GLMapping | None) -> None:
    rules = GLMapping.objects.of(organization).filter(kind=fields.kind)
    if fields.kind == GLMapping.Kind.MERCHANT:
        rules = rules.alias(merchant_lower=Lower("merchant")).filter(merchant_lower=fields.merchant.lower())
    else:
        name = TARGET_FIELD[fields.kind]
        rules = rules.filter(**{name: getattr(fields, name)})
    if mapping is not None:
        rules = rules.exclude(id=mapping.id)
    if rules.exists():
        raise _refuse(TARGET_FIELD[fields.kind].removesuffix("_id"), "The chart already has a rule for it.")


@transaction.atomic
def gl_mapping_save(*, organization: Organization, fields: MappingFields, mapping: GLMapping | None) -> GLMapping:
    """Add a rule to the organization's chart (the default one first, if it has none), or change `mapping`."""
    chart_ensure(organization=organization)
    cleaned = gl_mapping_check(organization=organization, fields=fields, mapping=mapping)
    mapping = mapping or GLMapping(organization=organization, kind=cleaned.kind)
    for name in ("gl_account_id", "merchant", "category", "department_id", "ledger_account_kind", "cost_centre"):
        setattr(mapping, name, getattr(cleaned, name))
    mapping.save()
    return mapping


def gl_mapping_deletable(mapping: GLMapping) -> bool:
    """Every ledger account kind keeps its rule (a posting needs it); any other rule may go."""
    return mapping.kind != GLMapping.Kind.LEDGER_ACCOUNT


@transaction.atomic
def gl_mapping_delete(*, mapping: GLMapping) -> None:
    if not gl_mapping_deletable(mapping):
        raise _refuse("kind", "Every ledger account kind keeps its rule: change its GL account instead.")
    mapping.delete()


def chart_default_check(*, organization: Organization, account_id: uuid.UUID | None) -> None:
    account = GLAccount.objects.of(organization).filter(id=account_id).first()
    if account is None or not account.is_active or account.type != GLAccount.Type.EXPENSE:
        raise _refuse("default_expense_account", "An active expense account of this organization's chart.")


@transaction.atomic
def chart_default_set(*, organization: Organization, account_id: uuid.UUID) -> ChartOfAccounts:
    """Make `account_id` the expense account of the spends no rule maps."""
    chart_ensure(organization=organization)
    chart_default_check(organization=organization, account_id=account_id)
    chart = ChartOfAccounts.objects.select_for_update().get(organization=organization)
    chart.default_expense_account_id = account_id
    chart.save(update_fields=["default_expense_account"])
    return chart
