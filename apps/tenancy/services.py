import logging
import secrets
import uuid
import zoneinfo

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from guardian.shortcuts import assign_perm, remove_perm

from ledgerx.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from ledgerx.money import CURRENCY_EXPONENTS

from . import login_guard, mfa_services, selectors, token_cache

# Freezing a user's spending has a module of its own; its writes are named here with the others.
from .freezes import user_freeze, user_unfreeze  # noqa: F401
from .locks import lock_department_tree
from .models import ApiToken, Department, Organization, Role, User
from .provisioning import user_role_write

# Ending a user's sessions and tokens has a module of its own (provisioning's deactivation uses it too).
from .revocation import user_sign_out_everywhere, user_tokens_forget  # noqa: F401
from .signals import administration_changed

logger = logging.getLogger(__name__)


def _administration_changed(
    *, actor: User | None, action: str, target: Department | User, before: dict | None = None, after: dict | None = None
) -> None:
    """Tell the audit log, in this transaction (see signals.py)."""
    administration_changed.send(
        sender=type(target), actor=actor, action=action, target=target, before=before, after=after
    )


def _validate_timezone(name: str) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"Unknown timezone '{name}'.", fields={"timezone": ["Unknown timezone."]}) from None


@transaction.atomic
def organization_create(*, name: str, currency: str, timezone_name: str = "UTC") -> Organization:
    name = name.strip()
    if not name:
        raise InvalidInput("An organization needs a name.", fields={"name": ["This field may not be blank."]})
    if currency not in CURRENCY_EXPONENTS:
        raise InvalidInput(f"Unknown currency '{currency}'.", fields={"currency": ["Unknown currency."]})
    _validate_timezone(timezone_name)
    base_slug = slugify(name)[:70] or "org"
    slug = base_slug
    while Organization.objects.filter(slug=slug).exists():
        slug = f"{base_slug}-{secrets.token_hex(3)}"
    organization = Organization.objects.create(name=name, slug=slug, currency=currency, timezone=timezone_name)
    return organization


def _check_parent(*, organization: Organization, parent_id: uuid.UUID | None) -> Department | None:
    if parent_id is None:
        return None
    parent = Department.objects.of(organization).filter(id=parent_id).first()
    if parent is None:
        raise NotFound("Parent department not found.")
    return parent


def _department_state(department: Department) -> dict:
    return {
        "name": department.name,
        "parent": str(department.parent_id) if department.parent_id else None,
        "head": str(department.head_id) if department.head_id else None,
        "monthly_limit_minor": department.monthly_limit_minor,
    }


@transaction.atomic
def department_create(
    *,
    organization: Organization,
    name: str,
    monthly_limit_minor: int,
    parent_id: uuid.UUID | None = None,
    actor: User | None,
) -> Department:
    name = name.strip()
    if not name:
        raise InvalidInput("A department needs a name.", fields={"name": ["This field may not be blank."]})
    parent = _check_parent(organization=organization, parent_id=parent_id)
    if Department.objects.of(organization).filter(parent=parent, name=name).exists():
        raise InvalidInput(
            f"A department named '{name}' already exists there.", fields={"name": ["Must be unique among siblings."]}
        )
    try:
        with transaction.atomic():
            department = Department.objects.create(
                organization=organization, parent=parent, name=name, monthly_limit_minor=monthly_limit_minor
            )
    except IntegrityError:
        # A concurrent create of the same name committed first.
        raise InvalidInput(
            f"A department named '{name}' already exists there.", fields={"name": ["Must be unique among siblings."]}
        ) from None
    _administration_changed(
        actor=actor, action="department.created", target=department, after=_department_state(department)
    )
    return department


@transaction.atomic
def department_update(
    *,
    department: Department,
    name: str | None = None,
    parent_id: uuid.UUID | None = None,
    move: bool = False,
    actor: User | None,
) -> Department:
    """Rename a department, or move it under another parent (`move=True`, `parent_id=None` for the root).

    The tree's writer only: a move changes which budgets the subtree's spend counts in, so callers
    move through `apps.budgets.department_moves.department_change`, which moves that money in the same
    transaction under the settlement lock. Moves within one organization are serialized, so two
    concurrent moves cannot together make a cycle that neither would make alone.
    """
    before = _department_state(department)
    if name is not None:
        name = name.strip()
        if not name:
            raise InvalidInput("A department needs a name.", fields={"name": ["This field may not be blank."]})
        department.name = name
    if move:
        lock_department_tree(organization_id=department.organization_id)
        parent = _check_parent(organization=department.organization, parent_id=parent_id)
        subtree_ids = selectors.department_subtree_ids(department_id=department.id)
        if parent is not None and parent.id in subtree_ids:
            raise InvalidInput(
                "A department cannot be moved under itself or one of its own sub-departments.",
                fields={"parent": ["Would create a cycle."]},
            )
        department.parent = parent
    try:
        with transaction.atomic():
            department.save()
    except IntegrityError:
        raise InvalidInput(
            "A department with that name already exists there.", fields={"name": ["Must be unique among siblings."]}
        ) from None
    after = _department_state(department)
    if after != before:
        _administration_changed(actor=actor, action="department.updated", target=department, before=before, after=after)
    return department


@transaction.atomic
def department_set_standing_limit(*, department: Department, limit_minor: int, actor: User | None) -> Department:
    """Set the monthly limit each new budget period of the department opens with.

    Periods already open keep theirs: the current month's limit changes through
    budgets.services.budget_period_set_limit (PUT /departments/{id}/budget), which checks it against the spend.
    """
    department = Department.objects.select_for_update().get(id=department.id)
    before = _department_state(department)
    department.monthly_limit_minor = limit_minor
    department.save(update_fields=["monthly_limit_minor"])
    after = _department_state(department)
    if after != before:
        _administration_changed(actor=actor, action="department.updated", target=department, before=before, after=after)
    return department


def department_grant_spend_view(*, department: Department, user: User) -> None:
    """Let one user (a department head) see a department's spend beyond what their role allows."""
    if user.organization_id != department.organization_id:
        raise NotFound("User not found.")
    assign_perm("tenancy.view_department_spend", user, department)


@transaction.atomic
def department_set_head(*, department: Department, head: User, actor: User | None) -> Department:
    """Make `head` the head, who sees the department's spend; a replaced head stops seeing it."""
    before = _department_state(department)
    department_grant_spend_view(department=department, user=head)
    if department.head is not None and department.head != head:
        remove_perm("tenancy.view_department_spend", department.head, department)
    department.head = head
    department.save(update_fields=["head"])
    _administration_changed(
        actor=actor,
        action="department.head_set",
        target=department,
        before=before,
        after=_department_state(department),
    )
    return department


def _user_state(user: User) -> dict:
    return {
        "email": user.email,
        "role": user.role,
        "department": str(user.department_id) if user.department_id else None,
    }


@transaction.atomic
def user_create(
    *,
    actor: User,
    email: str,
    password: str,
    role: str,
    organization: Organization | None,
    department_id: uuid.UUID | None = None,
) -> User:
    if role not in Role.values:
        raise InvalidInput(f"Unknown role '{role}'.", fields={"role": ["Unknown role."]})
    if actor.role != Role.SYSTEM_ADMIN:
        if role == Role.SYSTEM_ADMIN:
            raise Forbidden("Only a system admin may create system admins.")
        if organization is not None and organization.id != actor.organization_id:
            raise NotFound("Organization not found.")
        organization = actor.organization
    if role == Role.SYSTEM_ADMIN:
        organization = None
    elif organization is None:
        raise InvalidInput("A user needs an organization.", fields={"organization": ["This field is required."]})
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput("Enter a valid email address.", fields={"email": ["Enter a valid email address."]}) from None
    try:
        validate_password(password)
    except ValidationError as error:
        raise InvalidInput("The password is too weak.", fields={"password": list(error.messages)}) from None
    department = None
    if department_id is not None:
        department = Department.objects.of(organization).filter(id=department_id).first()
        if department is None:
            raise NotFound("Department not found.")
    if role == Role.EMPLOYEE and department is None:
        raise InvalidInput("An employee needs a department.", fields={"department": ["This field is required."]})
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email,
                password,
                role=role,
                organization=organization,
                department=department,
                is_superuser=role == Role.SYSTEM_ADMIN,
            )
    except IntegrityError:
        raise InvalidInput("A user with that email already exists.", fields={"email": ["Already in use."]}) from None
    _administration_changed(actor=actor, action="user.created", target=user, after=_user_state(user))
    return user


@transaction.atomic
def user_set_role(*, actor: User, user: User, role: str) -> User:
    """Change a user's role within their organization. System admins are made only by system admins,
    and an organization always keeps at least one org admin (provisioning.user_role_write).
    """
    if role not in Role.values:
        raise InvalidInput(f"Unknown role '{role}'.", fields={"role": ["Unknown role."]})
    if role == Role.SYSTEM_ADMIN or user.role == Role.SYSTEM_ADMIN:
        raise Forbidden("System admins are managed by system admins only.")
    if actor.role != Role.SYSTEM_ADMIN and actor.organization_id != user.organization_id:
        raise NotFound("User not found.")
    user.refresh_from_db(fields=["role", "department"])
    if role == Role.EMPLOYEE and user.role != Role.EMPLOYEE and user.department_id is None:
        raise InvalidInput(
            "An employee needs a department; this user has none.", fields={"role": ["User has no department."]}
        )
    return user_role_write(user=user, role=role, actor=actor)


def token_issue(*, email: str, password: str, client_ip: str, otp_code: str | None = None) -> tuple[str, User]:
    """A new API token for valid credentials. The error never says which part was wrong.

    Asks the sign-in throttle first (429 with Retry-After, before any hashing), whether or not such
    a user exists; the authentication backend counts the failure or records the success. A user with
    a second factor proves it with `otp_code` (mfa_services), a wrong one counting as a failed sign-in;
    a role that must have one and has none gets no token until it enrolls in the browser.
    """
    email = email.strip().lower()
    login_guard.login_throttle_check(email=email, client_ip=client_ip)
    user = authenticate(email=email, password=password, client_ip=client_ip)
    if user is None or not user.is_active:
        raise Unauthenticated("Invalid email or password.")
    try:
        mfa_services.password_login_second_factor(user=user, code=otp_code)
    except mfa_services.SecondFactorRequired:
        if otp_code:
            login_guard.login_failure_record(email=email, client_ip=client_ip)
        raise
    return token_create(user=user), user


def user_password_change(
    *, user: User, current_password: str, new_password: str, client_ip: str, keep_token_key: str | None = None
) -> None:
    """Change one's own password. Every other API token of the user is revoked (User.save) and every
    other session ends (its hash no longer matches); `keep_token_key` is the caller's own token.

    The current password is checked through the sign-in throttle, like any sign-in.
    """
    login_guard.login_throttle_check(email=user.email, client_ip=client_ip)
    if authenticate(email=user.email, password=current_password, client_ip=client_ip) is None:
        raise InvalidInput(
            "The current password is not right.", fields={"current_password": ["Not the current password."]}
        )
    try:
        validate_password(new_password, user)
    except ValidationError as error:
        raise InvalidInput("Choose another password.", fields={"new_password": list(error.messages)}) from None
    user.set_password(new_password)
    user.keep_token_hash = selectors.token_hash(keep_token_key) if keep_token_key else None
    user.save(update_fields=["password"])


def token_create(*, user: User) -> str:
    """A new API token for a user already known to be who they are. Only its hash is stored."""
    key = secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user, key_hash=selectors.token_hash(key), expires_at=timezone.now() + settings.API_TOKEN_TTL
    )
    return key


def token_revoke(*, key: str) -> None:
    key_hash = selectors.token_hash(key)
    ApiToken.objects.filter(key_hash=key_hash, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token_cache.forget([key_hash])
