"""Single sign-on per organization: its identity provider (SAML 2.0 or OpenID Connect), the email
domains that find it, whether password sign-in is off, and the rules that give a new user a role and
department from the provider's groups."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.tenancy.models import Department, Organization, Role


class SsoConfiguration(models.Model):
    class Protocol(models.TextChoices):
        SAML = "saml", "SAML 2.0"
        OIDC = "oidc", "OpenID Connect"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.OneToOneField(Organization, on_delete=models.PROTECT, related_name="sso_configuration")
    protocol = models.CharField(max_length=4, choices=Protocol.choices)
    enabled = models.BooleanField(default=False)
    # Password sign-in off for the organization's users; org admins keep it as the break-glass path.
    sso_required = models.BooleanField(default=False)

    # SAML: the IdP's metadata (fetched from the URL when one is given, or uploaded), or its entity id,
    # single sign-on URL and signing certificate, from which metadata is written.
    saml_metadata_url = models.URLField(blank=True, default="")
    saml_metadata_xml = models.TextField(blank=True, default="")
    saml_idp_entity_id = models.CharField(max_length=500, blank=True, default="")
    saml_idp_sso_url = models.URLField(blank=True, default="")
    saml_idp_certificate = models.TextField(blank=True, default="")

    # OpenID Connect: the issuer, whose discovery document gives the endpoints, and the client.
    oidc_issuer = models.URLField(blank=True, default="")
    oidc_client_id = models.CharField(max_length=255, blank=True, default="")
    oidc_client_secret = models.CharField(max_length=500, blank=True, default="")
    oidc_authorization_endpoint = models.URLField(blank=True, default="")
    oidc_token_endpoint = models.URLField(blank=True, default="")
    oidc_userinfo_endpoint = models.URLField(blank=True, default="")
    oidc_jwks_uri = models.URLField(blank=True, default="")

    # Just-in-time provisioning: the attribute (SAML) or claim (OIDC) that lists the user's groups, and
    # the role and department of a new user no rule matches.
    groups_attribute = models.CharField(max_length=255, blank=True, default="groups")
    default_role = models.CharField(max_length=20, choices=Role.choices, default=Role.EMPLOYEE)
    default_department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "SSO configuration"
        constraints = [
            models.CheckConstraint(
                condition=~Q(default_role=Role.SYSTEM_ADMIN), name="sso_default_role_in_organization"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} ({self.get_protocol_display()})"


class SsoDomain(models.Model):
    """An email domain whose users sign in through one organization's provider: one organization each."""

    id = models.BigAutoField(primary_key=True)
    configuration = models.ForeignKey(SsoConfiguration, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253, unique=True)

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain


class SsoRoleRule(models.Model):
    """A new user in this provider group gets this role (and department, when set). The lowest position
    that matches wins; none matching, the configuration's defaults."""

    id = models.BigAutoField(primary_key=True)
    configuration = models.ForeignKey(SsoConfiguration, on_delete=models.CASCADE, related_name="rules")
    position = models.PositiveIntegerField(default=0)
    group = models.CharField(max_length=255)
    role = models.CharField(max_length=20, choices=Role.choices)
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(role=Role.SYSTEM_ADMIN), name="sso_rule_role_in_organization"),
        ]

    def __str__(self) -> str:
        return f"{self.group} → {self.role}"


class SsoAssertionUse(models.Model):
    """A SAML assertion accepted once: a second use of its id is a replay, refused by the constraint."""

    id = models.BigAutoField(primary_key=True)
    configuration = models.ForeignKey(SsoConfiguration, on_delete=models.CASCADE, related_name="+")
    assertion_id = models.CharField(max_length=255)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["configuration", "assertion_id"], name="sso_assertion_used_once"),
        ]

    def __str__(self) -> str:
        return self.assertion_id
