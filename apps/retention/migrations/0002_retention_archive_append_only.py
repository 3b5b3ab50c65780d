"""The record of archives is append-only in the database itself, like the ledger it archives."""

from django.db import migrations

INSTALL = r"""
CREATE FUNCTION retention_retentionarchive_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'retention archives are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER retention_retentionarchive_immutable
    BEFORE UPDATE OR DELETE ON retention_retentionarchive
    FOR EACH ROW EXECUTE FUNCTION retention_retentionarchive_refuse_change();

CREATE TRIGGER retention_retentionarchive_no_truncate
    BEFORE TRUNCATE ON retention_retentionarchive
    FOR EACH STATEMENT EXECUTE FUNCTION retention_retentionarchive_refuse_change();
"""

REMOVE = r"""
DROP TRIGGER IF EXISTS retention_retentionarchive_no_truncate ON retention_retentionarchive;
DROP TRIGGER IF EXISTS retention_retentionarchive_immutable ON retention_retentionarchive;
DROP FUNCTION IF EXISTS retention_retentionarchive_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("retention", "0001_initial")]

    operations = [migrations.RunSQL(INSTALL, REMOVE)]
