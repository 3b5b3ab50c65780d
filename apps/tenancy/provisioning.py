"""Users made and changed by an identity provider (SCIM, apps/scim) rather than by a person in LedgerX.

The identity provider is the source of truth for who works here: it creates accounts, renames them,
moves them between departments, and deactivates them when someone leaves. Each write is audited through
administration_changed with `actor=None` and `actor_label` naming the client that asked (the SCIM token),
so the log says which connection did it. Provisioned users have no usable password: they sign in through
the organization's single sign-on.

Deactivation is the one thing here that must be immediate: `user_deactivate` ends every session and
revokes every API token in its transaction, through the same channel as "sign out everywhere".
"""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from ledgerx.errors import Conflict, InvalidInput

from .models import Department, Organization, Role, User
from .revocation import user_sign_out_everywhere
from .signals import administration_changed

# Roles an identity provider may give: never a system admin, who belongs to no organization.
PROVISIONED_ROLES = (Role.EMPLOYEE, Role.FINANCE_MANAGER, Role.ORG_ADMIN)


def _state(user: User) -> dict:
    return {
        "email": user.email,
        "role": user.role,
        "department": str(user.department_id) if user.department_id else None,
        "is_active": user.is_active,
    }


def _changed(*, actor: User | None, actor_label: str, action: str, user: User, before: dict | None) -> None:
    administration_changed.send(
        sender=User,
        actor=actor,
        actor_label=actor_label,
        action=action,
        target=user,
        before=before,
        after=_state(user),
    )


def _clean_email(email: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput("Enter a valid email address.", fields={"email": ["Enter a valid email address."]}) from None
    return email


def _email_taken() -> Conflict:
    return Conflict("A user with that email already exists.")


@transaction.atomic
def user_provision(
    *,
    organization: Organization,
    email: str,
    actor_label: str,
    active: bool = True,
    role: str = Role.EMPLOYEE,
    department: Department | None = None,
) -> User:
    """A new user of `organization` with no usable password: an employee in no department unless told.

    SCIM (apps/scim) creates them so, and a group the identity provider puts them in gives the
    department; until then they can sign in and read but not spend (a spend needs a department).
    Single sign-on's first sign-in (apps/sso) gives the role and department its rules chose.
    An email in use anywhere: Conflict.
    """
    email = _clean_email(email)
    if role not in PROVISIONED_ROLES:
        raise InvalidInput(f"Unknown role '{role}'.", fields={"role": ["Unknown role."]})
    if department is not None and department.organization_id != organization.id:
        raise InvalidInput("The department is not of the user's organization.", fields={"department": ["Unknown."]})
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email, None, role=role, organization=organization, department=department, is_active=active
            )
    except IntegrityError:
        raise _email_taken() from None
    _changed(actor=None, actor_label=actor_label, action="user.provisioned", user=user, before=None)
    return user


def _locked(user: User) -> User:
    return User.objects.select_for_update().get(id=user.id)


@transaction.atomic
def user_set_email(*, user: User, email: str, actor_label: str) -> User:
    email = _clean_email(email)
    user = _locked(user)
    if user.email == email:
        return user
    before = _state(user)
    user.email = email
    try:
        with transaction.atomic():
            user.save(update_fields=["email"])
    except IntegrityError:
        raise _email_taken() from None
    _changed(actor=None, actor_label=actor_label, action="user.email_changed", user=user, before=before)
    return user


@transaction.atomic
def user_set_department(*, user: User, department: Department | None, actor_label: str) -> User:
    """Place a user in a department of their organization, or in none (they then cannot spend)."""
    if department is not None and department.organization_id != user.organization_id:
        raise InvalidInput("The department is not of the user's organization.", fields={"department": ["Unknown."]})
    user = _locked(user)
    if user.department_id == (department.id if department else None):
        return user
    before = _state(user)
    user.department = department
    user.save(update_fields=["department"])
    _changed(actor=None, actor_label=actor_label, action="user.department_changed", user=user, before=before)
    return user


@transaction.atomic
def user_role_write(*, user: User, role: str, actor: User | None, actor_label: str = "") -> User:
    """The one writer of a tenant user's role: an organization always keeps at least one org admin (Conflict).

    Callers check who may ask (services.user_set_role for a person, apps/scim for an identity provider).
    """
    if role not in PROVISIONED_ROLES or user.role == Role.SYSTEM_ADMIN:
        raise InvalidInput(f"Unknown role '{role}'.", fields={"role": ["Unknown role."]})
    # Lock the organization's admins in primary-key order, so two admins demoting each other cannot both win.
    admins = list(
        User.objects.filter(organization_id=user.organization_id, role=Role.ORG_ADMIN, is_active=True)
        .select_for_update()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    user = _locked(user)
    if user.role == role:
        return user
    if user.role == Role.ORG_ADMIN and admins == [user.pk]:
        raise Conflict("An organization needs at least one org admin; appoint another first.")
    before = _state(user)
    user.role = role
    user.save(update_fields=["role"])
    _changed(actor=actor, actor_label=actor_label, action="user.role_changed", user=user, before=before)
    return user


@transaction.atomic
def user_deactivate(*, user: User, actor_label: str) -> User:
    """Stop a user at once: no sign-in, every session ended and every API token revoked.

    The last active org admin of an organization is not deactivated (Conflict): someone must be able
    to administer it. The revocation is the user's session generation and their tokens, as
    `revocation.user_sign_out_everywhere`; the token cache is told after commit (apps.py), so the
    next request with any of their tokens answers 401.
    """
    user = _locked(user)
    if not user.is_active:
        return user
    if (
        user.role == Role.ORG_ADMIN
        and not User.objects.filter(organization_id=user.organization_id, role=Role.ORG_ADMIN, is_active=True)
        .exclude(id=user.id)
        .exists()
    ):
        raise Conflict("This is the organization's last active org admin; appoint another first.")
    before = _state(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    user_sign_out_everywhere(user=user)
    user.refresh_from_db(fields=["session_generation"])
    _changed(actor=None, actor_label=actor_label, action="user.deactivated", user=user, before=before)
    return user


@transaction.atomic
def user_reactivate(*, user: User, actor_label: str) -> User:
    """Let a deactivated user sign in again. Their old sessions and tokens stay ended."""
    user = _locked(user)
    if user.is_active:
        return user
    before = _state(user)
    user.is_active = True
    user.save(update_fields=["is_active"])
    _changed(actor=None, actor_label=actor_label, action="user.reactivated", user=user, before=before)
    return user
