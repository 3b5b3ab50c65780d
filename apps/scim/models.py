"""What an identity provider's SCIM client keeps here: its tokens, the attributes it sent for each user,
its groups and their members, and the organization's mapping of groups to departments and roles.

The user itself is tenancy's User (the SCIM resource id is the user's id); only what LedgerX has no
column for (name, title, phone numbers, the enterprise extension...) is kept in ScimUser.attributes, so
that what the provider sends is stored and answered back, never silently dropped.
"""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.tenancy.models import Department, Organization, Role, User
from apps.tenancy.scoping import TenantQuerySet


class ScimToken(models.Model):
    """A bearer token of one organization's SCIM client. Only its SHA-256 is stored; the key is shown once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=100, help_text="Which client holds it, e.g. 'okta'.")
    key_hash = models.CharField(max_length=64, unique=True)
    # The key's first characters, to tell tokens apart in the log and the back office.
    key_prefix = models.CharField(max_length=16)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["organization", "name", "-created_at"]
        verbose_name = "SCIM token"

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    @property
    def actor_label(self) -> str:
        """Who a change made with this token is by, in the audit log."""
        return f"scim:{self.name} ({self.key_prefix}…)"


class ScimUser(models.Model):
    """The provider's view of a user: its externalId and the attributes LedgerX has no column for."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="scim", db_constraint=False)
    external_id = models.CharField(max_length=255, null=True, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "external_id"], name="scim_user_external_id_per_org"),
        ]

    def __str__(self) -> str:
        return f"SCIM view of {self.user_id}"


class ScimGroup(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    display_name = models.CharField(max_length=255)
    external_id = models.CharField(max_length=255, null=True, blank=True)
    members = models.ManyToManyField(User, through="ScimGroupMember", related_name="scim_groups")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["display_name"]
        verbose_name = "SCIM group"
        constraints = [
            models.UniqueConstraint(fields=["organization", "display_name"], name="scim_group_name_per_org"),
            models.UniqueConstraint(fields=["organization", "external_id"], name="scim_group_external_id_per_org"),
        ]

    def __str__(self) -> str:
        return self.display_name


class ScimGroupMember(models.Model):
    # Its group's, so that the membership lives on the group's shard (docs/scaling.md).
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    # Its database key pairs it with organization_id (ledgerx/tenant_keys.py).
    group = models.ForeignKey(ScimGroup, on_delete=models.CASCADE, db_constraint=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    # The newest department group a user joined is the department they are placed in.
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "user", "organization"], name="scim_group_member_once")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.group_id}"


class ScimGroupMapping(models.Model):
    """What membership of a provider's group (by its display name) means here: a department or a role.

    Set by the organization's admin; a group without a mapping is kept, with its members, and means nothing.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    group_name = models.CharField(max_length=255)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(
        max_length=20,
        blank=True,
        default="",
        choices=[(Role.EMPLOYEE, "Employee"), (Role.FINANCE_MANAGER, "Finance manager"), (Role.ORG_ADMIN, "Org admin")],
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        ordering = ["group_name"]
        verbose_name = "SCIM group mapping"
        constraints = [
            models.UniqueConstraint(fields=["organization", "group_name"], name="scim_group_mapping_per_org"),
            models.CheckConstraint(
                condition=(Q(department__isnull=False) & Q(role=""))
                | (Q(department__isnull=True) & Q(role__in=[Role.EMPLOYEE, Role.FINANCE_MANAGER, Role.ORG_ADMIN])),
                name="scim_group_mapping_department_or_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group_name} -> {self.department or self.role}"
