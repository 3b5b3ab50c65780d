"""Balance checkpoints are append-only in the database itself, like the entries they sum."""

from django.db import migrations

INSTALL = r"""
CREATE FUNCTION ledger_balancecheckpoint_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'balance checkpoints are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER ledger_balancecheckpoint_immutable
    BEFORE UPDATE OR DELETE ON ledger_balancecheckpoint
    FOR EACH ROW EXECUTE FUNCTION ledger_balancecheckpoint_refuse_change();

CREATE TRIGGER ledger_balancecheckpoint_no_truncate
    BEFORE TRUNCATE ON ledger_balancecheckpoint
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_balancecheckpoint_refuse_change();
"""

REMOVE = r"""
DROP TRIGGER IF EXISTS ledger_balancecheckpoint_no_truncate ON ledger_balancecheckpoint;
DROP TRIGGER IF EXISTS ledger_balancecheckpoint_immutable ON ledger_balancecheckpoint;
DROP FUNCTION IF EXISTS ledger_balancecheckpoint_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0018_balance_checkpoint")]

    operations = [migrations.RunSQL(INSTALL, REMOVE)]
