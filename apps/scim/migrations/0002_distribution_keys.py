"""SCIM tables keyed by organization, for distribution (docs/scaling.md): a group member gets its group's
organization; primary keys (id, organization_id); a member's group and a SCIM user's user by composite
keys, the SCIM user unique per user and organization. Tokens are a reference table: no change."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from ledgerx.tenant_keys import CompositeForeignKey, OrganizationFromParent, TenantPrimaryKey, UniqueInOrganization


class Migration(migrations.Migration):

    dependencies = [
        ('scim', '0001_initial'),
        ('tenancy', '0006_invitation'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='scimgroupmember',
            name='scim_group_member_once',
        ),
        migrations.AddField(
            model_name='scimgroupmember',
            name='organization',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenancy.organization'),
        ),
        OrganizationFromParent("scim.scimgroupmember", via="group"),
        migrations.AlterField(
            model_name='scimgroupmember',
            name='organization',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tenancy.organization'),
        ),
        migrations.AlterField(
            model_name='scimgroupmember',
            name='group',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, to='scim.scimgroup'),
        ),
        migrations.AlterField(
            model_name='scimuser',
            name='user',
            field=models.OneToOneField(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='scim', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddConstraint(
            model_name='scimgroupmember',
            constraint=models.UniqueConstraint(fields=('group', 'user', 'organization'), name='scim_group_member_once'),
        ),
        TenantPrimaryKey("scim.scimgroup"),
        TenantPrimaryKey("scim.scimgroupmapping"),
        TenantPrimaryKey("scim.scimgroupmember"),
        TenantPrimaryKey("scim.scimuser"),
        CompositeForeignKey("scim.scimgroupmember", "group"),
        CompositeForeignKey("scim.scimuser", "user"),
        UniqueInOrganization("scim.scimuser", "user"),
    ]
