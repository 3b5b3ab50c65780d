"""Month-end close in the database itself: no entry is dated into a closed month, no budget of a closed
month changes, and the history of closes is append-only.

The entry check is one statement-level trigger with a transition table: settlement inserts a batch's
entries in one statement, and pays one lookup per organization and moment in it, not one per entry.
It first takes the organization's month-close lock shared (a close or reopen in progress holds it
exclusively: apps/ledger/closing.py), so that it reads the outcome of a close that was under way.

The budget check lives here, beside the closes it reads: the budgets app sits on the ledger's layer and
does not know of closes, and a trigger holds for every writer of a budget period.
"""

from django.db import migrations

INSTALL = r"""
CREATE FUNCTION ledger_monthclose_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'month closes are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Reopen a closed month with a new act, which the history keeps.';
END $$;

CREATE TRIGGER ledger_monthclose_immutable
    BEFORE UPDATE OR DELETE ON ledger_monthclose
    FOR EACH ROW EXECUTE FUNCTION ledger_monthclose_refuse_change();

CREATE TRIGGER ledger_monthclose_no_truncate
    BEFORE TRUNCATE ON ledger_monthclose
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_monthclose_refuse_change();

CREATE FUNCTION ledger_entry_refuse_closed_month() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    organization uuid;
    closed record;
BEGIN
    FOR organization IN SELECT DISTINCT organization_id FROM new_entries ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock_shared(23, hashtext(organization::text));
    END LOOP;
    SELECT moment.organization_id, moment.month INTO closed
    FROM (
        SELECT DISTINCT n.organization_id, date_trunc('month', n.created_at AT TIME ZONE o.timezone)::date AS month
        FROM (SELECT DISTINCT organization_id, created_at FROM new_entries) n
        JOIN tenancy_organization o ON o.id = n.organization_id
    ) moment
    WHERE (
        SELECT c.act FROM ledger_monthclose c
        WHERE c.organization_id = moment.organization_id AND c.month = moment.month
        ORDER BY c.id DESC LIMIT 1
    ) = 'closed'
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'month % of organization % is closed: no entry is dated into it',
            to_char(closed.month, 'YYYY-MM'), closed.organization_id
            USING ERRCODE = 'LXC01',
                  HINT = 'Post into the open month; an org admin may reopen a closed month.';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER ledger_entry_month_open
    AFTER INSERT ON ledger_entry
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_entry_refuse_closed_month();

CREATE FUNCTION budget_period_refuse_closed_month() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (NEW.organization_id, NEW.department_id, NEW.month, NEW.limit_minor, NEW.spent_minor,
                             NEW.held_minor, NEW.spent_at_limit_change_minor)
        IS NOT DISTINCT FROM (OLD.organization_id, OLD.department_id, OLD.month, OLD.limit_minor, OLD.spent_minor,
                              OLD.held_minor, OLD.spent_at_limit_change_minor) THEN
        RETURN NEW;
    END IF;
    IF (
        SELECT c.act FROM ledger_monthclose c
        WHERE c.organization_id = OLD.organization_id AND c.month = OLD.month
        ORDER BY c.id DESC LIMIT 1
    ) = 'closed' THEN
        RAISE EXCEPTION 'month % is closed: its budgets do not change', to_char(OLD.month, 'YYYY-MM')
            USING ERRCODE = 'LXC01',
                  HINT = 'An org admin may reopen the month.';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE TRIGGER budget_period_month_open
    BEFORE UPDATE OR DELETE ON budgets_budgetperiod
    FOR EACH ROW EXECUTE FUNCTION budget_period_refuse_closed_month();
"""

REMOVE = r"""
DROP TRIGGER IF EXISTS budget_period_month_open ON budgets_budgetperiod;
DROP TRIGGER IF EXISTS ledger_entry_month_open ON ledger_entry;
DROP TRIGGER IF EXISTS ledger_monthclose_no_truncate ON ledger_monthclose;
DROP TRIGGER IF EXISTS ledger_monthclose_immutable ON ledger_monthclose;
DROP FUNCTION IF EXISTS budget_period_refuse_closed_month();
DROP FUNCTION IF EXISTS ledger_entry_refuse_closed_month();
DROP FUNCTION IF EXISTS ledger_monthclose_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0022_month_close"), ("budgets", "0007_spent_net_of_reversals")]

    operations = [migrations.RunSQL(INSTALL, REMOVE)]
