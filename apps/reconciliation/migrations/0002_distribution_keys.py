"""Reconciliation tables keyed by organization, for distribution (docs/scaling.md): primary keys (id, organization_id),
composite keys between sources, imports, lines and matches, their unique keys per organization. A
match's spend is keyed by the ledger's partitioning (branch `partition`)."""

import django.db.models.deletion
from django.db import migrations, models

from ledgerx.tenant_keys import CompositeForeignKey, TenantPrimaryKey, UniqueInOrganization


class Migration(migrations.Migration):

    dependencies = [
        ('reconciliation', '0001_initial'),
        ('tenancy', '0006_invitation'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='statementline',
            name='statement_line_position_per_import',
        ),
        migrations.RemoveConstraint(
            model_name='statementline',
            name='statement_line_external_id_per_source',
        ),
        migrations.AlterField(
            model_name='statementimport',
            name='source',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='imports', to='reconciliation.statementsource'),
        ),
        migrations.AlterField(
            model_name='statementline',
            name='source',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='reconciliation.statementsource'),
        ),
        migrations.AlterField(
            model_name='statementline',
            name='statement_import',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='lines', to='reconciliation.statementimport'),
        ),
        migrations.AlterField(
            model_name='statementmatch',
            name='line',
            field=models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='match', to='reconciliation.statementline'),
        ),
        migrations.AddConstraint(
            model_name='statementline',
            constraint=models.UniqueConstraint(fields=('statement_import', 'position', 'organization'), name='statement_line_position_per_import'),
        ),
        migrations.AddConstraint(
            model_name='statementline',
            constraint=models.UniqueConstraint(condition=models.Q(('external_id', ''), _negated=True), fields=('source', 'external_id', 'organization'), name='statement_line_external_id_per_source'),
        ),
        TenantPrimaryKey("reconciliation.statementsource"),
        TenantPrimaryKey("reconciliation.statementimport"),
        TenantPrimaryKey("reconciliation.statementline"),
        TenantPrimaryKey("reconciliation.statementmatch"),
        CompositeForeignKey("reconciliation.statementimport", "source"),
        CompositeForeignKey("reconciliation.statementline", "statement_import"),
        CompositeForeignKey("reconciliation.statementline", "source"),
        CompositeForeignKey("reconciliation.statementmatch", "line"),
        UniqueInOrganization("reconciliation.statementmatch", "line"),
    ]
