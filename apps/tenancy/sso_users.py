"""Users made by an organization's identity provider at their first sign-in (apps/sso's
just-in-time provisioning). Tenancy stays the one writer of users; the rules that choose the role and
department are the SSO app's."""

from django.db import IntegrityError, transaction

from ledgerx.errors import InvalidInput, NotFound

from .models import Department, Organization, Role, User
from .signals import administration_changed

PROVISIONED_ROLES = (Role.EMPLOYEE, Role.FINANCE_MANAGER, Role.ORG_ADMIN)


@transaction.atomic
def user_provision(
    *, organization: Organization, email: str, role: str, department: Department | None, source: str
) -> User:
    """A user with no usable password, so they sign in only through their identity provider. Audited as
    `user.created` with no actor and the source (`saml`, `oidc`) in its record."""
    if role not in PROVISIONED_ROLES:
        raise InvalidInput(f"Unknown role '{role}'.", fields={"role": ["Unknown role."]})
    if department is not None and department.organization_id != organization.id:
        raise NotFound("Department not found.")
    if role == Role.EMPLOYEE and department is None:
        raise InvalidInput("An employee needs a department.", fields={"department": ["This field is required."]})
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email.strip().lower(), None, role=role, organization=organization, department=department
            )
    except IntegrityError:
        raise InvalidInput("A user with that email already exists.", fields={"email": ["Already in use."]}) from None
    after = {
        "email": user.email,
        "role": user.role,
        "department": str(user.department_id) if user.department_id else None,
        "source": source,
    }
    administration_changed.send(sender=User, actor=None, action="user.created", target=user, before=None, after=after)
    return user
