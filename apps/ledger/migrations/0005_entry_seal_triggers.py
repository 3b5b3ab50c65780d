"""The hash chain is append-only in the database itself, like the entries it seals."""

from django.db import migrations

INSTALL = r"""
CREATE FUNCTION ledger_entryseal_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger seals are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER ledger_entryseal_immutable
    BEFORE UPDATE OR DELETE ON ledger_entryseal
    FOR EACH ROW EXECUTE FUNCTION ledger_entryseal_refuse_change();

CREATE TRIGGER ledger_entryseal_no_truncate
    BEFORE TRUNCATE ON ledger_entryseal
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_entryseal_refuse_change();
"""

REMOVE = r"""
DROP TRIGGER IF EXISTS ledger_entryseal_no_truncate ON ledger_entryseal;
DROP TRIGGER IF EXISTS ledger_entryseal_immutable ON ledger_entryseal;
DROP FUNCTION IF EXISTS ledger_entryseal_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_entry_seal")]

    operations = [migrations.RunSQL(INSTALL, REMOVE)]
