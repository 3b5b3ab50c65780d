"""Changes to the audited tables are written to audit_auditchange by the database itself, and the
change log, its seals and its checkpoints are append-only like the ledger.

One statement-level trigger per table and operation, with transition tables: a statement that
changes many rows adds one INSERT ... SELECT, not one per row. The actor and origin come from the
transaction-local setting `ledgerx.audit_context` that ledgerx/audit_context.py sets before each
write to an audited table; without it the change is the database role's.
"""

from django.db import migrations

# The audited tables and the operations captured on each. A transaction's INSERT is not: intake
# writes it on the hot path, its creator is its employee, and its money is in the hash-chained
# ledger. Its changes and deletion are, but for settlement's decision on a pending spend (below).
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
# Row-level there: settlement updates thousands of spends a second from pending to decided, and a
# statement trigger's transition tables copy every one of them (measured: about as much again as
# the UPDATE itself) where a row trigger that returns at once for them costs little. That decision
# is recorded on each spend (status, processed_at, policy_version) and in the hash-chained ledger.
ROW_LEVEL = ("ledger_transaction",)
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
    pairs jsonb;  -- [{"old": row, "new": row}], a side absent on INSERT or DELETE
BEGIN
    IF TG_LEVEL = 'ROW' THEN
        -- Settlement deciding a pending spend (ROW_LEVEL in the migration).
        IF TG_OP = 'UPDATE' AND OLD.status = 'pending' AND NEW.status <> 'pending' THEN
            RETURN NULL;
        END IF;
        pairs := jsonb_build_array(CASE TG_OP
            WHEN 'INSERT' THEN jsonb_build_object('new', to_jsonb(NEW))
            WHEN 'DELETE' THEN jsonb_build_object('old', to_jsonb(OLD))
            ELSE jsonb_build_object('old', to_jsonb(OLD), 'new', to_jsonb(NEW)) END);
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT jsonb_agg(jsonb_build_object('old', to_jsonb(o), 'new', to_jsonb(n)))
        INTO pairs FROM old_rows o JOIN new_rows n ON n.id = o.id;
    ELSIF TG_OP = 'INSERT' THEN
        SELECT jsonb_agg(jsonb_build_object('new', to_jsonb(n))) INTO pairs FROM new_rows n;
    ELSE
        SELECT jsonb_agg(jsonb_build_object('old', to_jsonb(o))) INTO pairs FROM old_rows o;
    END IF;
    IF context IS NULL THEN
        context := jsonb_build_object(
            'actor', 'database:' || session_user || '/'
                || coalesce(nullif(current_setting('application_name', true), ''), 'unnamed'),
            'origin', jsonb_strip_nulls(jsonb_build_object('address', host(inet_client_addr()), 'pid', pg_backend_pid())));
    END IF;
    INSERT INTO audit_auditchange
        (organization_id, table_name, row_id, operation, before, after, actor, actor_user_id, origin, context_id, changed_at)
    SELECT coalesce((r.row ->> 'organization_id')::uuid,
                    CASE TG_TABLE_NAME WHEN 'tenancy_organization' THEN (r.row ->> 'id')::uuid
                        WHEN 'tenancy_apitoken' THEN (SELECT u.organization_id FROM tenancy_user u WHERE u.id = (r.row ->> 'user_id')::uuid)
                    END, '00000000-0000-0000-0000-000000000000'),
           TG_TABLE_NAME, r.row ->> 'id', TG_OP, d.before, d.after, context ->> 'actor', (context ->> 'user_id')::uuid,
           coalesce(context -> 'origin', '{}'), coalesce(context ->> 'id', ''), statement_timestamp()
    FROM jsonb_array_elements(coalesce(pairs, '[]')) AS p(pair)
    CROSS JOIN LATERAL (SELECT p.pair -> 'old' AS old, p.pair -> 'new' AS new, coalesce(p.pair -> 'new', p.pair -> 'old') AS row) r
    -- On UPDATE the columns that changed, but the ignored ones; on INSERT and DELETE the whole row.
    CROSS JOIN LATERAL (
        SELECT jsonb_object_agg(c.key, CASE WHEN c.key = ANY(secret) THEN '"[secret]"' ELSE r.old -> c.key END)
                   FILTER (WHERE TG_OP <> 'INSERT') AS before,
               jsonb_object_agg(c.key, CASE WHEN c.key = ANY(secret) THEN '"[secret]"' ELSE c.value END)
                   FILTER (WHERE TG_OP <> 'DELETE') AS after
        FROM jsonb_each(r.row) c
        WHERE TG_OP <> 'UPDATE' OR (NOT c.key = ANY(ignored) AND c.value IS DISTINCT FROM r.old -> c.key)
    ) d
    WHERE TG_OP <> 'UPDATE' OR d.after IS NOT NULL;
    RETURN NULL;
END $$;
"""


def _capture_triggers() -> str:
    return "\n".join(
        f"CREATE TRIGGER {capture_trigger_name(table, operation)}\n"
        + (
            f"    AFTER {operation} ON {table}\n    FOR EACH ROW EXECUTE FUNCTION audit_change_capture();\n"
            if table in ROW_LEVEL
            else f"    AFTER {operation} ON {table} {REFERENCING[operation]}\n"
            "    FOR EACH STATEMENT EXECUTE FUNCTION audit_change_capture();\n"
        )
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
        ("audit", "0006_audit_change_log"),
        ("tenancy", "0005_user_frozen"),
        ("budgets", "0006_budget_period_limit_set_at"),
        ("approvals", "0002_spender_step_and_routing"),
        ("controls", "0002_spend_tally"),
        ("webhooks", "0002_delivery_lease_paused_slow_receivers"),
        ("ledger", "0013_transaction_policy_version"),
    ]

    operations = [migrations.RunSQL(INSTALL, REMOVE)]
