"""Checkpoints are append-only in the database itself, like the chain they sign."""

from django.db import migrations

INSTALL = r"""
CREATE FUNCTION ledger_chaincheckpoint_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger checkpoints are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER ledger_chaincheckpoint_immutable
    BEFORE UPDATE OR DELETE ON ledger_chaincheckpoint
    FOR EACH ROW EXECUTE FUNCTION ledger_chaincheckpoint_refuse_change();

CREATE TRIGGER ledger_chaincheckpoint_no_truncate
    BEFORE TRUNCATE ON ledger_chaincheckpoint
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_chaincheckpoint_refuse_change();
"""

REMOVE = r"""
DROP TRIGGER IF EXISTS ledger_chaincheckpoint_no_truncate ON ledger_chaincheckpoint;
DROP TRIGGER IF EXISTS ledger_chaincheckpoint_immutable ON ledger_chaincheckpoint;
DROP FUNCTION IF EXISTS ledger_chaincheckpoint_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0011_chain_checkpoint")]

    operations = [migrations.RunSQL(INSTALL, REMOVE)]
