"""The database itself guards the ledger: entries are append-only, and every journal balances.

Both are PL/pgSQL triggers, so no code path — not the ORM, not raw SQL — can break them.
"""

from django.db import migrations

INSTALL = r"""
CREATE FUNCTION ledger_entry_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Correct a posted spend with a reversal, which adds compensating entries.';
END $$;

CREATE TRIGGER ledger_entry_immutable
    BEFORE UPDATE OR DELETE ON ledger_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_refuse_change();

CREATE TRIGGER ledger_entry_no_truncate
    BEFORE TRUNCATE ON ledger_entry
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_entry_refuse_change();

CREATE FUNCTION ledger_journal_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    journal_total bigint;
    journal_entries integer;
BEGIN
    SELECT coalesce(sum(amount_minor), 0), count(*) INTO journal_total, journal_entries
    FROM ledger_entry WHERE transaction_id = NEW.transaction_id;
    IF journal_total <> 0 OR journal_entries < 2 THEN
        RAISE EXCEPTION 'journal of transaction % does not balance: % entries summing to %',
            NEW.transaction_id, journal_entries, journal_total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER ledger_entry_balanced
    AFTER INSERT ON ledger_entry
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_journal_check_balanced();
"""

REMOVE = r"""
DROP TRIGGER IF EXISTS ledger_entry_balanced ON ledger_entry;
DROP TRIGGER IF EXISTS ledger_entry_no_truncate ON ledger_entry;
DROP TRIGGER IF EXISTS ledger_entry_immutable ON ledger_entry;
DROP FUNCTION IF EXISTS ledger_journal_check_balanced();
DROP FUNCTION IF EXISTS ledger_entry_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_initial")]

    operations = [migrations.RunSQL(INSTALL, REMOVE)]
