from apps.tenancy.models import Department, Role, User

from .models import SsoConfiguration, SsoDomain


def email_domain(email: str) -> str:
    return email.strip().lower().rpartition("@")[2]


def configuration_for_email(email: str) -> SsoConfiguration | None:
    """The enabled configuration whose domains include the email's: how sign-in finds the organization."""
    domain = email_domain(email)
    if not domain:
        return None
    found = (
        SsoDomain.objects.filter(domain=domain, configuration__enabled=True)
        .select_related("configuration__organization")
        .first()
    )
    return found.configuration if found else None


def configuration_for_slug(slug: str, *, protocol: str) -> SsoConfiguration | None:
    return (
        SsoConfiguration.objects.filter(organization__slug=slug, protocol=protocol, enabled=True)
        .select_related("organization")
        .first()
    )


def sso_required_for(user: User) -> bool:
    """Whether the user's organization has turned password sign-in off."""
    if user.organization_id is None:
        return False
    return SsoConfiguration.objects.filter(
        organization_id=user.organization_id, enabled=True, sso_required=True
    ).exists()


def password_sign_in_allowed(user: User) -> bool:
    """Everyone signs in with a password unless their organization requires SSO; then only its org
    admins do, as the break-glass way in when the identity provider is down or misconfigured."""
    return user.role in (Role.ORG_ADMIN, Role.SYSTEM_ADMIN) or not sso_required_for(user)


def role_for_groups(configuration: SsoConfiguration, groups: list[str]) -> tuple[str, Department | None]:
    """A new user's role and department: the first rule (by position) whose group they are in, else
    the configuration's defaults. A rule without a department keeps the default department."""
    member_of = set(groups)
    for rule in configuration.rules.select_related("department"):
        if rule.group in member_of:
            return rule.role, rule.department or configuration.default_department
    return configuration.default_role, configuration.default_department
