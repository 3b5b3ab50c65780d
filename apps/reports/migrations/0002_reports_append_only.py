"""Report runs and access-review sign-offs are append-only in the database itself: evidence is never edited."""

from django.db import migrations

INSTALL = r"""
CREATE FUNCTION reports_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER report_run_immutable
    BEFORE UPDATE OR DELETE ON reports_reportrun
    FOR EACH ROW EXECUTE FUNCTION reports_refuse_change();

CREATE TRIGGER report_run_no_truncate
    BEFORE TRUNCATE ON reports_reportrun
    FOR EACH STATEMENT EXECUTE FUNCTION reports_refuse_change();

CREATE TRIGGER access_review_sign_off_immutable
    BEFORE UPDATE OR DELETE ON reports_accessreviewsignoff
    FOR EACH ROW EXECUTE FUNCTION reports_refuse_change();

CREATE TRIGGER access_review_sign_off_no_truncate
    BEFORE TRUNCATE ON reports_accessreviewsignoff
    FOR EACH STATEMENT EXECUTE FUNCTION reports_refuse_change();
"""

REMOVE = r"""
DROP TRIGGER IF EXISTS access_review_sign_off_no_truncate ON reports_accessreviewsignoff;
DROP TRIGGER IF EXISTS access_review_sign_off_immutable ON reports_accessreviewsignoff;
DROP TRIGGER IF EXISTS report_run_no_truncate ON reports_reportrun;
DROP TRIGGER IF EXISTS report_run_immutable ON reports_reportrun;
DROP FUNCTION IF EXISTS reports_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial")]

    operations = [migrations.RunSQL(INSTALL, REMOVE)]
