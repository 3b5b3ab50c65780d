"""Every table's place under distribution by organization (docs/scaling.md), read from pg_catalog after
the migrations, and checked against Citus's rules:

- distributed (by `organization_id`, all co-located): the column is NOT NULL; the primary key and
  every unique index include it; every foreign key to another distributed table pairs it with the
  target's `organization_id`, so a row can reference only its own organization's rows;
- reference (a copy on every node): its foreign keys point at reference tables only;
- local (on the coordinator alone): its foreign keys point at reference or local tables only.

A table without a place fails, so a new table needs a decision. docs/scaling.md carries the
distribution DDL this schema gives, checked here.
"""

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.db.models import Count

from apps.budgets.models import BudgetPeriod
from apps.webhooks.models import Delivery, EventType, OutboxEvent, WebhookEndpoint

ORGANIZATION = "organization_id"
SCALING_DOC = Path(__file__).resolve().parent.parent / "docs" / "scaling.md"

DISTRIBUTED = {
    "approvals_approvaldecision",
    "approvals_approvalpolicy",
    "approvals_approvalrequest",
    "audit_auditchange",
    "audit_auditchangeseal",
    "audit_auditcheckpoint",
    "audit_auditevent",
    "budgets_budgetperiod",
    "controls_spendpolicyversion",
    "controls_spendrule",
    "controls_spendtally",
    "fraud_fraudalert",
    "fraud_fraudsettings",
    "fraud_spendstatistic",
    "fraud_transactionrisk",
    "fx_fxrate",
    "ledger_account",
    "ledger_balancecheckpoint",
    "ledger_chaincheckpoint",
    "ledger_chartofaccounts",
    "ledger_entry",
    "ledger_entryseal",
    "ledger_glaccount",
    "ledger_glmapping",
    "ledger_monthclose",
    "ledger_transaction",
    "payables_bill",
    "payables_billline",
    "payables_payingaccount",
    "payables_paymentline",
    "payables_paymentrun",
    "payables_returnfile",
    "payables_vendor",
    "payables_vendorbankchange",
    "push_pushsubscription",
    "receipts_receipt",
    "receipts_receiptreminder",
    "reconciliation_statementimport",
    "reconciliation_statementline",
    "reconciliation_statementmatch",
    "reconciliation_statementsource",
    "reimbursements_payoutbatch",
    "reimbursements_payoutline",
    "reports_accessreviewsignoff",
    "reports_reportrun",
    "retention_retentionarchive",
    "scim_scimgroup",
    "scim_scimgroupmapping",
    "scim_scimgroupmember",
    "scim_scimuser",
    "spending_spendbatch",
    "tenancy_invitation",
    "webhooks_delivery",
    "webhooks_outboxevent",
    "webhooks_webhookendpoint",
}
# Read before the organization is known (sign-in by e-mail, an SSO domain, a bearer token), or global by
# nature, or both; small next to the ledger, and written seldom, which a copy on every node makes dear.
REFERENCE = {
    "tenancy_organization": "the tenants; a slug unique across them; referenced by users",
    "tenancy_user": "signs in by an e-mail unique across organizations; system admins have none",
    "tenancy_department": "a user's department, so a reference table as users are; small",
    "tenancy_apitoken": "found by its key before the organization is known",
    "tenancy_user_groups": "Django's, of users",
    "tenancy_user_user_permissions": "Django's, of users",
    "auth_group": "Django's",
    "auth_group_permissions": "Django's",
    "auth_permission": "Django's",
    "django_content_type": "Django's",
    "guardian_groupobjectpermission": "django-guardian's, of groups",
    "guardian_userobjectpermission": "django-guardian's, of users",
    "otp_static_staticdevice": "django-otp's, of users, read at sign-in",
    "otp_static_statictoken": "django-otp's",
    "otp_totp_totpdevice": "django-otp's, of users, read at sign-in",
    "django_otp_webauthn_webauthncredential": "django-otp-webauthn's, of users, read at sign-in",
    "django_otp_webauthn_webauthnattestation": "django-otp-webauthn's",
    "django_otp_webauthn_webauthnuserhandle": "django-otp-webauthn's, of users",
    "scim_scimtoken": "found by its key before the organization is known",
    "sso_ssoconfiguration": "found through its domain before the organization is known",
    "sso_ssodomain": "an e-mail domain unique across organizations, read at sign-in",
    "sso_ssorolerule": "read with its configuration at sign-in",
    "sso_ssoassertionuse": "an assertion's replay guard, checked with its configuration at sign-in",
}
# Never joined with tenant data: they stay on the coordinator.
LOCAL = {
    "django_migrations": "the schema's own history",
    "django_session": "read and written by its key alone",
    "django_admin_log": "the admin site's log",
    "tenancy_loginthrottle": "failed sign-ins by key, written on every failure",
    "ledger_verifiedpoint": "the verifier's own record; a row's xmin is a node's own, so the points are too",
}
# Not yet distributable, each with the columns that break a rule. Each entry must still break a rule, and
# each listed column still be part of a broken one (a ratchet): whoever makes a table distributable removes
# its entry.
EVERY_COLUMN = "*"
NOT_YET: dict[str, tuple[str | set[str], str]] = {}


@dataclass(frozen=True)
class ForeignKey:
    name: str
    table: str
    columns: tuple[str, ...]
    target: str
    target_columns: tuple[str, ...]


@dataclass(frozen=True)
class Violation:
    table: str
    columns: frozenset[str]
    rule: str

    def __str__(self) -> str:
        return f"{self.table}: {self.rule}"


@dataclass
class Schema:
    tables: set[str]
    nullable_organization: dict[str, bool]  # tables with the column, and whether it may be NULL
    unique_keys: list[tuple[str, str, tuple[str, ...]]]  # (table, index, key columns; '' for an expression)
    foreign_keys: list[ForeignKey]


def _read_schema() -> Schema:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace"
            " AND relkind IN ('r', 'p') AND NOT relispartition"
        )
        tables = {name for (name,) in cursor.fetchall()}
        cursor.execute(
            "SELECT c.relname, NOT a.attnotnull FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
            " WHERE c.relnamespace = 'public'::regnamespace AND a.attname = %s AND NOT a.attisdropped",
            [ORGANIZATION],
        )
        nullable_organization = dict(cursor.fetchall())
        cursor.execute(
            "SELECT c.relname, i.indexrelid::regclass::text,"
            " ARRAY(SELECT coalesce(a.attname, '') FROM unnest(i.indkey[0:i.indnkeyatts - 1]) AS k(attnum)"
            "       LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum)"
            " FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid"
            " WHERE c.relnamespace = 'public'::regnamespace AND i.indisunique"
        )
        unique_keys = [(table, index, tuple(columns)) for table, index, columns in cursor.fetchall()]
        cursor.execute(
            "SELECT k.conname, c.relname,"
            " ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY AS u(attnum, n)"
            "       JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum ORDER BY u.n),"
            " t.relname,"
            " ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY AS u(attnum, n)"
            "       JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.attnum ORDER BY u.n)"
            " FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class t ON t.oid = k.confrelid"
            " WHERE k.contype = 'f' AND k.connamespace = 'public'::regnamespace AND NOT c.relispartition"
        )
        foreign_keys = [
            ForeignKey(name, table, tuple(columns), target, tuple(target_columns))
            for name, table, columns, target, target_columns in cursor.fetchall()
        ]
    return Schema(tables, nullable_organization, unique_keys, foreign_keys)


def _place(table: str) -> str | None:
    for place, tables in (("distributed", DISTRIBUTED), ("reference", REFERENCE), ("local", LOCAL)):
        if table in tables:
            return place
    return None


def _violations(schema: Schema) -> list[Violation]:
    found = []
    for table in sorted(schema.tables & DISTRIBUTED):
        if table not in schema.nullable_organization:
            found.append(Violation(table, frozenset({ORGANIZATION}), f"has no {ORGANIZATION}"))
        elif schema.nullable_organization[table]:
            found.append(Violation(table, frozenset({ORGANIZATION}), f"{ORGANIZATION} may be NULL"))
    for table, index, columns in schema.unique_keys:
        if table in DISTRIBUTED and ORGANIZATION not in columns:
            found.append(
                Violation(table, frozenset(columns), f"unique key {index} ({', '.join(columns)}) lacks {ORGANIZATION}")
            )
    for key in schema.foreign_keys:
        source, target = _place(key.table), _place(key.target)
        pairs = set(zip(key.columns, key.target_columns, strict=True))
        columns = frozenset(key.columns) - {ORGANIZATION} or frozenset(key.columns)
        described = f"foreign key {key.name} ({', '.join(key.columns)}) -> {key.target}"
        if source == "distributed" and target == "distributed" and (ORGANIZATION, ORGANIZATION) not in pairs:
            found.append(Violation(key.table, columns, f"{described} does not pair {ORGANIZATION} with its own"))
        elif source == "distributed" and target == "local":
            found.append(Violation(key.table, columns, f"{described}: a local table"))
        elif source == "reference" and target != "reference":
            found.append(Violation(key.table, columns, f"{described}: a reference table references a {target} one"))
        elif source == "local" and target == "distributed":
            found.append(Violation(key.table, columns, f"{described}: a local table references a distributed one"))
    return found


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker) -> Schema:
    with django_db_blocker.unblock():
        return _read_schema()


def test_every_table_has_one_place(schema):
    places = [DISTRIBUTED, set(REFERENCE), set(LOCAL)]
    twice = {table for i, tables in enumerate(places) for other in places[i + 1 :] for table in tables & other}
    assert twice == set()
    assert sorted(schema.tables - DISTRIBUTED - set(REFERENCE) - set(LOCAL)) == [], "tables without a place"
    assert sorted((DISTRIBUTED | set(REFERENCE) | set(LOCAL)) - schema.tables) == [], "places of no table"


def test_every_table_follows_the_rules_of_its_place(schema):
    def excused(violation: Violation) -> bool:
        columns, _why = NOT_YET.get(violation.table, (set(), ""))
        return columns == EVERY_COLUMN or bool(violation.columns & columns)

    assert [str(violation) for violation in _violations(schema) if not excused(violation)] == []


def test_the_not_yet_tables_still_break_a_rule(schema):
    """The ratchet: a table made distributable leaves NOT_YET, so the list only shrinks."""
    violations = _violations(schema)
    broken = {(v.table, column) for v in violations for column in [*v.columns, EVERY_COLUMN]}
    compliant = [
        f"{table} ({column})"
        for table, (columns, _why) in NOT_YET.items()
        for column in ([EVERY_COLUMN] if columns == EVERY_COLUMN else sorted(columns))
        if (table, column) not in broken
    ]
    assert compliant == [], "now distributable: remove from NOT_YET"


def _dependency_order(tables: set[str], foreign_keys: list[ForeignKey]) -> tuple[list[str], list[ForeignKey]]:
    """Referenced tables first; where keys form a cycle, the keys that point forwards, to add back after."""
    targets = {table: set() for table in tables}
    for key in foreign_keys:
        if key.table in tables and key.target in tables and key.target != key.table:
            targets[key.table].add(key.target)

    def on_a_cycle(table: str, waiting: set[str]) -> bool:
        seen, frontier = set(), targets[table] & waiting
        while frontier:
            seen |= frontier
            frontier = set().union(*(targets[other] & waiting for other in frontier)) - seen
        return table in seen

    order: list[str] = []
    while len(order) < len(tables):
        waiting = tables - set(order)
        ready = sorted(table for table in waiting if not targets[table] & waiting)
        order.extend(ready or [min(table for table in waiting if on_a_cycle(table, waiting))])
    position = {table: i for i, table in enumerate(order)}
    forward = [
        key
        for key in foreign_keys
        if key.table in tables and key.target in tables and position[key.target] > position[key.table]
    ]
    return order, sorted(forward, key=lambda key: key.name)


def _distribution_ddl(schema: Schema) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE contype = 'f' AND connamespace = 'public'::regnamespace"
        )
        definitions = dict(cursor.fetchall())
    reference_order, forward = _dependency_order(set(REFERENCE), schema.foreign_keys)
    distributed_order, distributed_forward = _dependency_order(DISTRIBUTED, schema.foreign_keys)
    assert distributed_forward == [], "distributed tables whose keys form a cycle"
    lines = [f"ALTER TABLE {key.table} DROP CONSTRAINT {key.name};" for key in forward]
    lines += [f"SELECT create_reference_table('{table}');" for table in reference_order]
    lines += [f"ALTER TABLE {key.table} ADD CONSTRAINT {key.name} {definitions[key.name]};" for key in forward]
    # The co-location group is named after the ledger's accounts, which every organization has from its first day.
    root = "ledger_account"
    assert not {key.target for key in schema.foreign_keys if key.table == root} & DISTRIBUTED - {root}
    lines.append(f"SELECT create_distributed_table('{root}', '{ORGANIZATION}');")
    lines += [
        f"SELECT create_distributed_table('{table}', '{ORGANIZATION}', colocate_with => '{root}');"
        for table in distributed_order
        if table != root
    ]
    return "\n".join(lines)


@pytest.mark.django_db
def test_the_scaling_doc_carries_this_schemas_distribution_ddl(schema):
    block = re.search(r"```sql distribution\n(.*?)\n```", SCALING_DOC.read_text(), re.DOTALL)
    expected = _distribution_ddl(schema)
    assert block is not None, f"docs/scaling.md needs a ```sql distribution block:\n{expected}"
    assert block.group(1) == expected, f"docs/scaling.md's distribution DDL is out of date; this schema's:\n{expected}"


def _refused(constraint: str, create) -> None:
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        create()


def test_a_row_cannot_reference_another_organizations_row(tenant, other_tenant):
    """The composite keys make tenant isolation the database's: a delivery of one organization's event to
    another's endpoint, a budget period of one organization for another's department, are refused by
    PostgreSQL itself, whatever the code above it does."""
    endpoint = WebhookEndpoint.objects.create(
        organization=other_tenant.organization,
        url="https://hooks.example.com/in",
        secret="s" * 32,
        event_types=[EventType.TRANSACTION_POSTED],
    )
    event = OutboxEvent.objects.create(organization=tenant.organization, type=EventType.TRANSACTION_POSTED, payload={})
    _refused(
        "delivery_endpoint_in_organization",
        lambda: Delivery.objects.create(
            organization=tenant.organization, event=event, endpoint=endpoint, attempt_limit=1
        ),
    )
    _refused(
        "budgetperiod_department_in_organization",
        lambda: BudgetPeriod.objects.create(
            organization=tenant.organization, department=other_tenant.department, month=date(2026, 1, 1), limit_minor=1
        ),
    )
    assert not Delivery.objects.filter(event=event).exists()
    assert not BudgetPeriod.objects.filter(
        organization=tenant.organization, department=other_tenant.department
    ).exists()


@pytest.mark.django_db
def test_an_aggregate_over_any_distributed_table_groups_by_what_it_selects():
    """Django would group a model's rows by `id` alone, which determines nothing for PostgreSQL once the
    primary key is (id, organization_id): the backend (ledgerx/postgres) groups by every selected column,
    so an aggregate over a model's rows works on every distributed table."""
    models = [model for model in apps.get_models() if model._meta.managed and model._meta.db_table in DISTRIBUTED]
    assert {model._meta.db_table for model in models} == DISTRIBUTED
    for model in models:
        list(model.objects.annotate(rows=Count("pk")).order_by()[:1])
