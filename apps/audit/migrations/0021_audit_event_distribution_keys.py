"""AuditEvent keyed by organization, for distribution (docs/scaling.md), as 0020 keyed the change log: a
platform event carries PLATFORM_CHAIN as its organization id, as its capture in the change log always has
(0007's trigger coalesces a NULL to it), so `organization_id` is a NOT NULL uuid, no longer a foreign key
(PLATFORM_CHAIN is no organization), and the primary key becomes (id, organization_id).

The platform events already written get PLATFORM_CHAIN. Their captures, which the hash chain covers, are
not touched (verify_audit reads a capture's NULL as its chain's PLATFORM_CHAIN), and the capture trigger
records INSERTs of events only, so the rewrite adds nothing to the change log. The append-only guard is
off for that one UPDATE only: DISABLE TRIGGER holds the table's ACCESS EXCLUSIVE lock until the
migration commits, so no other session writes, or sees the table, while it is off.
"""

import django.db.models.deletion
from django.db import migrations, models

from ledgerx.tenant_keys import TenantPrimaryKey

# '00000000-0000-0000-0000-000000000000' is apps.audit.models.PLATFORM_CHAIN, written out: a migration
# keeps its meaning whatever the code becomes.
TO_PLATFORM_CHAIN = """
ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_immutable;
UPDATE audit_auditevent SET organization_id = '00000000-0000-0000-0000-000000000000' WHERE organization_id IS NULL;
ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_immutable;
"""

TO_NULL = """
ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_immutable;
UPDATE audit_auditevent SET organization_id = NULL WHERE organization_id = '00000000-0000-0000-0000-000000000000';
ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_immutable;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0020_distribution_keys"),
    ]

    operations = [
        # The foreign key and its index go from the database (audit_org_newest leads with the column); the
        # state's field becomes the column itself, which the database already has.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterField(
                    model_name="auditevent",
                    name="organization",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenancy.organization",
                    ),
                ),
            ],
            state_operations=[
                migrations.RemoveIndex(model_name="auditevent", name="audit_org_newest"),
                migrations.RemoveField(model_name="auditevent", name="organization"),
                migrations.AddField(model_name="auditevent", name="organization_id", field=models.UUIDField(null=True)),
                migrations.AddIndex(
                    model_name="auditevent",
                    index=models.Index(fields=["organization_id", "-created_at", "-id"], name="audit_org_newest"),
                ),
            ],
        ),
        migrations.RunSQL(TO_PLATFORM_CHAIN, TO_NULL),
        migrations.AlterField(
            model_name="auditevent",
            name="organization_id",
            field=models.UUIDField(),
        ),
        TenantPrimaryKey("audit.auditevent"),
    ]
