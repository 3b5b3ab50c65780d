"""Signing in through an organization's identity provider, and the org admin's changes to its setup."""

import json
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.tenancy.models import Organization, Role, User
from apps.tenancy.provisioning import user_provision
from ledgerx.errors import Forbidden, InvalidInput, LedgerXError, NotFound

from . import saml, selectors
from .fetching import fetch_document
from .models import SsoAssertionUse, SsoConfiguration, SsoDomain, SsoRoleRule


class SsoRefused(Exception):
    """A sign-in the identity provider vouched for that LedgerX still refuses, with the reason to show."""


def sso_sign_in(*, configuration: SsoConfiguration, email: str, groups: list[str], source: str) -> User:
    """The user the organization's provider signed in: existing, or made now from the role rules.

    The email must be in one of the organization's domains, so one organization's provider cannot
    sign anyone into another; an existing user of another organization, or a deactivated one, is refused.
    """
    email = email.strip().lower()
    if not email or "@" not in email:
        raise SsoRefused("The identity provider sent no email address.")
    domains = set(configuration.domains.values_list("domain", flat=True))
    if selectors.email_domain(email) not in domains:
        raise SsoRefused(f"{email} is not in a domain of {configuration.organization.name}.")
    user = User.objects.filter(email=email).first()
    if user is not None:
        if user.organization_id != configuration.organization_id:
            raise SsoRefused(f"{email} belongs to another organization.")
        if not user.is_active:
            raise SsoRefused(f"{email} is deactivated.")
        return user
    role, department = selectors.role_for_groups(configuration, groups)
    try:
        return user_provision(
            organization=configuration.organization,
            email=email,
            role=role,
            department=department,
            actor_label=f"sso:{source}",
        )
    except LedgerXError as error:
        raise SsoRefused(f"{email} could not be provisioned: {error.message}") from None


def assertion_use_record(*, configuration: SsoConfiguration, assertion_id: str, expires_at: datetime) -> None:
    """Accept a SAML assertion once: its id is kept until it expires, and a second use is refused."""
    now = timezone.now()
    try:
        with transaction.atomic():
            SsoAssertionUse.objects.filter(configuration=configuration, expires_at__lt=now).delete()
            SsoAssertionUse.objects.create(
                configuration=configuration, assertion_id=assertion_id, expires_at=max(expires_at, now)
            )
    except IntegrityError:
        raise SsoRefused("This assertion was already used.") from None


def break_glass_sign_in_record(*, user: User) -> None:
    """An org admin signed in with their password although their organization requires SSO."""
    configuration = SsoConfiguration.objects.get(organization_id=user.organization_id)
    with transaction.atomic():
        audit_record(actor=user, action="sso.break_glass_sign_in", target=configuration)


def _state(configuration: SsoConfiguration) -> dict:
    """What the audit log keeps of a configuration: everything but the client secret, of which it keeps
    only whether one is set."""
    return {
        "protocol": configuration.protocol,
        "enabled": configuration.enabled,
        "sso_required": configuration.sso_required,
        "domains": sorted(configuration.domains.values_list("domain", flat=True)),
        "saml_metadata_url": configuration.saml_metadata_url,
        "saml_idp_entity_id": configuration.saml_idp_entity_id,
        "saml_idp_sso_url": configuration.saml_idp_sso_url,
        "saml_metadata_set": bool(configuration.saml_metadata_xml),
        "oidc_issuer": configuration.oidc_issuer,
        "oidc_client_id": configuration.oidc_client_id,
        "oidc_client_secret_set": bool(configuration.oidc_client_secret),
        "groups_attribute": configuration.groups_attribute,
        "default_role": configuration.default_role,
        "default_department": str(configuration.default_department_id or ""),
        "rules": [
            {"group": rule.group, "role": rule.role, "department": str(rule.department_id or "")}
            for rule in configuration.rules.all()
        ],
    }


def _check_actor(actor: User, organization: Organization) -> None:
    if actor.role == Role.SYSTEM_ADMIN:
        return
    if actor.role != Role.ORG_ADMIN:
        raise Forbidden("Only an org admin configures single sign-on.")
    if actor.organization_id != organization.id:
        raise NotFound("Organization not found.")


def _clean_domains(domains: list[str], configuration: SsoConfiguration) -> list[str]:
    cleaned = sorted({domain.strip().lower().lstrip("@") for domain in domains if domain.strip()})
    for domain in cleaned:
        if "." not in domain or any(not part or not part.replace("-", "").isalnum() for part in domain.split(".")):
            raise InvalidInput(
                f"'{domain}' is not a domain.", fields={"email_domains": [f"'{domain}' is not a domain."]}
            )
    taken = SsoDomain.objects.filter(domain__in=cleaned).exclude(configuration_id=configuration.pk)
    if taken.exists():
        message = f"'{taken.first().domain}' already signs in through another organization."
        raise InvalidInput(message, fields={"email_domains": [message]})
    return cleaned


def _saml_metadata(configuration: SsoConfiguration) -> None:
    """Fill the metadata: fetched from its URL, else as uploaded, else written from the hand-entered fields."""
    if configuration.saml_metadata_url:
        configuration.saml_metadata_xml = fetch_document(
            configuration.saml_metadata_url, field="saml_metadata_url"
        ).decode("utf-8", "replace")
    elif not configuration.saml_metadata_xml:
        if not (
            configuration.saml_idp_entity_id and configuration.saml_idp_sso_url and configuration.saml_idp_certificate
        ):
            message = "Give the IdP's metadata (URL or file), or its entity id, sign-on URL and certificate."
            raise InvalidInput(message, fields={"saml_metadata_xml": [message]})
        configuration.saml_metadata_xml = saml.metadata_from_fields(
            entity_id=configuration.saml_idp_entity_id,
            sso_url=configuration.saml_idp_sso_url,
            certificate_pem=configuration.saml_idp_certificate,
        )
    try:
        entity_ids = saml.idp_entity_ids(configuration.saml_metadata_xml)
    except ValueError as error:
        raise InvalidInput(str(error), fields={"saml_metadata_xml": [str(error)]}) from None
    if len(entity_ids) != 1:
        message = f"The metadata must describe one identity provider; it describes {len(entity_ids)}."
        raise InvalidInput(message, fields={"saml_metadata_xml": [message]})
    if configuration.saml_idp_entity_id and configuration.saml_idp_entity_id != entity_ids[0]:
        message = f"The metadata is of '{entity_ids[0]}', not '{configuration.saml_idp_entity_id}'."
        raise InvalidInput(message, fields={"saml_idp_entity_id": [message]})
    configuration.saml_idp_entity_id = entity_ids[0]


def _oidc_discovery(configuration: SsoConfiguration) -> None:
    """Read the issuer's discovery document; it must name the same issuer."""
    if not (configuration.oidc_issuer and configuration.oidc_client_id and configuration.oidc_client_secret):
        message = "OpenID Connect needs the issuer, the client id and the client secret."
        raise InvalidInput(message, fields={"oidc_issuer": [message]})
    url = configuration.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        document = json.loads(fetch_document(url, field="oidc_issuer"))
    except ValueError:
        raise InvalidInput(
            "The issuer's discovery document is not JSON.", fields={"oidc_issuer": ["Not JSON."]}
        ) from None
    if not isinstance(document, dict) or document.get("issuer") != configuration.oidc_issuer:
        message = "The discovery document names another issuer."
        raise InvalidInput(message, fields={"oidc_issuer": [message]})
    try:
        configuration.oidc_authorization_endpoint = document["authorization_endpoint"]
        configuration.oidc_token_endpoint = document["token_endpoint"]
        configuration.oidc_userinfo_endpoint = document.get("userinfo_endpoint", "")
        configuration.oidc_jwks_uri = document["jwks_uri"]
    except KeyError as missing:
        message = f"The discovery document has no {missing.args[0]}."
        raise InvalidInput(message, fields={"oidc_issuer": [message]}) from None


@transaction.atomic
def configuration_save(
    *,
    actor: User,
    configuration: SsoConfiguration,
    domains: list[str],
    rules: list[dict] | None = None,
) -> SsoConfiguration:
    """Create or change an organization's sign-on, as the org admin (or a system admin) set it.

    SAML metadata is fetched or checked, OIDC discovery read, the domains must be free, departments of
    the organization; then the row, its domains and its rules (when given: group, role, department)
    are written and audited with the state before and after.
    """
    organization = configuration.organization
    _check_actor(actor, organization)
    existing = SsoConfiguration.objects.select_for_update().filter(pk=configuration.pk).first()
    before = _state(existing) if existing is not None else None
    for department in [configuration.default_department, *[rule.get("department") for rule in rules or []]]:
        if department is not None and department.organization_id != organization.id:
            raise NotFound("Department not found.")
    for role in [configuration.default_role, *[rule["role"] for rule in rules or []]]:
        if role not in (Role.EMPLOYEE, Role.FINANCE_MANAGER, Role.ORG_ADMIN):
            raise InvalidInput(f"Role '{role}' cannot be given by sign-on.", fields={"role": ["Not allowed."]})
    cleaned_domains = _clean_domains(domains, configuration)
    if configuration.enabled and not cleaned_domains:
        message = "Name at least one email domain whose users sign in this way."
        raise InvalidInput(message, fields={"email_domains": [message]})
    if configuration.protocol == SsoConfiguration.Protocol.SAML:
        _saml_metadata(configuration)
    elif configuration.protocol == SsoConfiguration.Protocol.OIDC:
        _oidc_discovery(configuration)
    else:
        raise InvalidInput("Choose SAML or OpenID Connect.", fields={"protocol": ["Unknown protocol."]})
    configuration.updated_at = timezone.now()
    configuration.save()
    configuration.domains.exclude(domain__in=cleaned_domains).delete()
    for domain in cleaned_domains:
        SsoDomain.objects.get_or_create(configuration=configuration, domain=domain)
    if rules is not None:
        configuration.rules.all().delete()
        SsoRoleRule.objects.bulk_create(
            SsoRoleRule(configuration=configuration, position=position, **rule) for position, rule in enumerate(rules)
        )
    audit_record(actor=actor, action="sso.configured", target=configuration, before=before, after=_state(configuration))
    return configuration
