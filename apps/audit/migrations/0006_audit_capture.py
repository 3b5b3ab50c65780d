"""Changes to the audited tables are written to audit_auditchange by the database itself, and the
change log, its seals and its checkpoints are append-only like the ledger.

One statement-level trigger per table and operation, with transition tables: a statement that
changes many rows (a settlement batch) adds one INSERT ... SELECT, not one per row. The actor and
origin come from the transaction-local setting `ledgerx.audit_context` that ledgerx/audit_context.py
sets before each write to an audited table; without it the change is the database role's.
"""

from django.db import migrations

# The audited tables and the operations captured on each. A transaction's INSERT is not: intake
# writes it on the hot path, its creator is its employee, and its money is in the hash-chained
# ledger; its status changes (settlement, reversal, approval) and any deletion are.
CAPTURED = {
    "tenancy_organization": ("INSERT", "UPDATE", "DELETE"),
    "tenancy_department": ("INSERT", "UPDATE", "DELETE"),
    "tenancy_user": ("INSERT", "UPDATE", "DELETE"),
    "tenancy_apitoken": ("INSERT", "UPDATE", "DELETE"),
    "budgets_budgetperiod": ("INSERT", "UPDATE", "DELETE"),
    "approvals_approvalpolicy": ("INSERT", "UPDATE", "DELETE"),
    "controls_spendrule": ("INSERT", "UPDATE", "DELETE"),
    "webhooks_webhookendpoint": ("INSERT", "UPDATE", "DELETE"),
    "ledger_transaction": ("UPDATE", "DELETE"),
    "audit_auditevent": ("INSERT",),
}
REFERENCING = {
    "INSERT": "REFERENCING NEW TABLE AS new_rows",
    "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "DELETE": "REFERENCING OLD TABLE AS old_rows",
}
APPEND_ONLY = ("audit_auditchange", "audit_auditchangeseal", "audit_auditcheckpoint")


def capture_trigger_name(table: str, operation: str) -> str:
    return f"{table}_audit_{operation.lower()}"


FUNCTIONS = r"""
CREATE FUNCTION audit_change_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE FUNCTION audit_change_capture() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    context jsonb := nullif(current_setting('ledgerx.audit_context', true), '')::jsonb;
    -- Bookkeeping that changes with every spend or delivery: an UPDATE of these alone is not recorded.
    ignored text[] := CASE TG_TABLE_NAME
        WHEN 'tenancy_user' THEN ARRAY['last_login']
        WHEN 'budgets_budgetperiod' THEN ARRAY['spent_minor', 'held_minor', 'updated_at']
        WHEN 'webhooks_webhookendpoint' THEN ARRAY[
            'consecutive_failures', 'recent_latencies_ms', 'latency_p95_ms', 'slow_since', 'next_send_at', 'updated_at']
        ELSE ARRAY[]::text[] END;
    -- Recorded as "[secret]": that they changed shows, their values never.
    secret text[] := CASE TG_TABLE_NAME
        WHEN 'tenancy_user' THEN ARRAY['password']
        WHEN 'tenancy_apitoken' THEN ARRAY['key_hash']
        WHEN 'webhooks_webhookendpoint' THEN ARRAY['secret']
        ELSE ARRAY[]::text[] END;
    affected jsonb;
BEGIN
    IF context IS NULL THEN
        context := jsonb_build_object(
            'actor', 'database:' || session_user || '/'
                || coalesce(nullif(current_setting('application_name', true), ''), 'unnamed'),
            'origin', jsonb_strip_nulls(jsonb_build_object('address', host(inet_client_addr()), 'pid', pg_backend_pid())));
    END IF;
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO audit_auditchange
            (organization_id, table_name, row_id, operation, before, after, actor, actor_user_id, origin, context_id, changed_at)
        SELECT coalesce((r.new ->> 'organization_id')::uuid,
                        CASE TG_TABLE_NAME WHEN 'tenancy_organization' THEN (r.new ->> 'id')::uuid
                            WHEN 'tenancy_apitoken' THEN (SELECT u.organization_id FROM tenancy_user u WHERE u.id = (r.new ->> 'user_id')::uuid)
                        END, '00000000-0000-0000-0000-000000000000'),
               TG_TABLE_NAME, r.new ->> 'id', TG_OP, d.before, d.after, context ->> 'actor',
               (context ->> 'user_id')::uuid, coalesce(context -> 'origin', '{}'), coalesce(context ->> 'id', ''),
               statement_timestamp()
        FROM (SELECT to_jsonb(o) AS old, to_jsonb(n) AS new FROM old_rows o JOIN new_rows n ON n.id = o.id) r
        CROSS JOIN LATERAL (
            SELECT jsonb_object_agg(c.key, CASE WHEN c.key = ANY(secret) THEN '"[secret]"' ELSE r.old -> c.key END) AS before,
                   jsonb_object_agg(c.key, CASE WHEN c.key = ANY(secret) THEN '"[secret]"' ELSE c.value END) AS after
            FROM jsonb_each(r.new) c
            WHERE NOT c.key = ANY(ignored) AND c.value IS DISTINCT FROM r.old -> c.key
        ) d
        WHERE d.after IS NOT NULL;
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        SELECT jsonb_agg(to_jsonb(n)) INTO affected FROM new_rows n;
    ELSE
        SELECT jsonb_agg(to_jsonb(o)) INTO affected FROM old_rows o;
    END IF;
    INSERT INTO audit_auditchange
        (organization_id, table_name, row_id, operation, before, after, actor, actor_user_id, origin, context_id, changed_at)
    SELECT coalesce((r.row ->> 'organization_id')::uuid,
                    CASE TG_TABLE_NAME WHEN 'tenancy_organization' THEN (r.row ->> 'id')::uuid
                        WHEN 'tenancy_apitoken' THEN (SELECT u.organization_id FROM tenancy_user u WHERE u.id = (r.row ->> 'user_id')::uuid)
                    END, '00000000-0000-0000-0000-000000000000'),
           TG_TABLE_NAME, r.row ->> 'id', TG_OP,
           CASE TG_OP WHEN 'DELETE' THEN v.redacted END, CASE TG_OP WHEN 'INSERT' THEN v.redacted END,
           context ->> 'actor', (context ->> 'user_id')::uuid, coalesce(context -> 'origin', '{}'),
           coalesce(context ->> 'id', ''), statement_timestamp()
    FROM jsonb_array_elements(coalesce(affected, '[]')) AS r(row)
    CROSS JOIN LATERAL (
        SELECT jsonb_object_agg(c.key, CASE WHEN c.key = ANY(secret) THEN '"[secret]"' ELSE c.value END) AS redacted
        FROM jsonb_each(r.row) c
    ) v;
    RETURN NULL;
END $$;
"""


def _capture_triggers() -> str:
    return "\n".join(
        f"CREATE TRIGGER {capture_trigger_name(table, operation)}\n"
        f"    AFTER {operation} ON {table} {REFERENCING[operation]}\n"
        "    FOR EACH STATEMENT EXECUTE FUNCTION audit_change_capture();\n"
        for table, operations in CAPTURED.items()
        for operation in operations
    )


def _append_only_triggers() -> str:
    return "\n".join(
        f"CREATE TRIGGER {table}_immutable\n"
        f"    BEFORE UPDATE OR DELETE ON {table}\n"
        "    FOR EACH ROW EXECUTE FUNCTION audit_change_refuse_change();\n"
        f"CREATE TRIGGER {table}_no_truncate\n"
        f"    BEFORE TRUNCATE ON {table}\n"
        "    FOR EACH STATEMENT EXECUTE FUNCTION audit_change_refuse_change();\n"
        for table in APPEND_ONLY
    )


INSTALL = FUNCTIONS + _append_only_triggers() + _capture_triggers()

REMOVE = "\n".join(
    [
        *(
            f"DROP TRIGGER IF EXISTS {capture_trigger_name(table, operation)} ON {table};"
            for table, operations in CAPTURED.items()
            for operation in operations
        ),
        *(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table};" for table in APPEND_ONLY),
        *(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};" for table in APPEND_ONLY),
        "DROP FUNCTION IF EXISTS audit_change_capture();",
        "DROP FUNCTION IF EXISTS audit_change_refuse_change();",
    ]
)


class Migration(migrations.Migration):
    # The audited tables as their apps' latest migrations leave them (by name in SQL only: no import).
    dependencies = [
        ("audit", "0005_audit_change_log"),
        ("tenancy", "0005_user_frozen"),
        ("budgets", "0006_budget_period_limit_set_at"),
        ("approvals", "0002_spender_step_and_routing"),
        ("controls", "0002_spend_tally"),
        ("webhooks", "0002_delivery_lease_paused_slow_receivers"),
        ("ledger", "0013_transaction_policy_version"),
    ]

    operations = [migrations.RunSQL(INSTALL, REMOVE)]
