"""SCIM's writes: the organization's tokens and group mappings (an org admin's), and the users a
provider's client creates and changes (through tenancy's provisioning). Group writes are in groups.py.

Every change is audited: a person's with them as actor, a client's with the token's label
(`ScimToken.actor_label`) as the actor, in the AuditEvent and, through the request's audit context,
in the database's change log.
"""

import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.tenancy import provisioning
from apps.tenancy.models import Department, Organization, Role, User
from ledgerx.errors import Conflict, Forbidden, InvalidInput, NotFound

from . import selectors
from .models import ScimGroupMapping, ScimGroupMember, ScimToken, ScimUser
from .protocol import CORE_USER, ENTERPRISE_USER, ScimError, boolean, invalid_value, patch_apply
from .representations import user_stored_view

KEY_PREFIX = "scim_"
# The roles a group may carry, lowest first: a member of several role groups takes the highest.
ROLE_RANK = [Role.EMPLOYEE, Role.FINANCE_MANAGER, Role.ORG_ADMIN]
# Attributes with a column of their own, or that the provider may not write (RFC 7643: id, meta and a
# user's groups are read-only). The rest of a user's resource is kept as sent.
_USER_MANAGED = {"schemas", "id", "meta", "userName", "active", "externalId", "groups"}


def _check_admin(*, actor: User | None, organization: Organization) -> None:
    """An org admin of the organization, a system admin, or the platform (a command without --as)."""
    if actor is None or actor.role == Role.SYSTEM_ADMIN:
        return
    if actor.organization_id != organization.id:
        raise NotFound("Organization not found.")
    if actor.role != Role.ORG_ADMIN:
        raise Forbidden("Only org admins manage the SCIM connection.")


def _token_state(token: ScimToken) -> dict:
    return {
        "name": token.name,
        "key_prefix": token.key_prefix,
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
    }


@transaction.atomic
def scim_token_issue(*, organization: Organization, name: str, actor: User | None) -> tuple[str, ScimToken]:
    """A new token for the organization's SCIM client. The key is returned once; only its hash is kept."""
    _check_admin(actor=actor, organization=organization)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("Name the client the token is for.", fields={"name": ["1 to 100 characters."]})
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ScimToken.objects.create(
        organization=organization,
        name=name,
        key_hash=selectors.scim_key_hash(key),
        key_prefix=key[: len(KEY_PREFIX) + 6],
        created_by=actor,
    )
    audit_record(actor=actor, action="scim.token_issued", target=token, after=_token_state(token))
    return key, token


@transaction.atomic
def scim_token_revoke(*, token: ScimToken, actor: User | None) -> ScimToken:
    _check_admin(actor=actor, organization=token.organization)
    token = ScimToken.objects.select_for_update().get(id=token.id)
    if token.revoked_at is not None:
        return token
    before = _token_state(token)
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(actor=actor, action="scim.token_revoked", target=token, before=before, after=_token_state(token))
    return token


@transaction.atomic
def scim_token_rotate(*, token: ScimToken, actor: User | None) -> tuple[str, ScimToken]:
    """Revoke a token and issue its successor under the same name, in one transaction."""
    scim_token_revoke(token=token, actor=actor)
    return scim_token_issue(organization=token.organization, name=token.name, actor=actor)


def _mapping_state(mapping: ScimGroupMapping) -> dict:
    return {
        "group_name": mapping.group_name,
        "department": str(mapping.department_id) if mapping.department_id else None,
        "role": mapping.role or None,
    }


@transaction.atomic
def group_mapping_set(
    *,
    organization: Organization,
    group_name: str,
    department: Department | None = None,
    role: str = "",
    actor: User | None,
) -> ScimGroupMapping:
    """Make membership of the provider's group `group_name` place users in `department`, or give them `role`.

    Applies at once to the group's current members.
    """
    _check_admin(actor=actor, organization=organization)
    group_name = (group_name or "").strip()
    if not group_name:
        raise InvalidInput("Name the group.", fields={"group_name": ["This field may not be blank."]})
    if (department is None) == (not role):
        raise InvalidInput("Map a group to a department or a role, not both.", fields={"group_name": ["One target."]})
    if department is not None and department.organization_id != organization.id:
        raise NotFound("Department not found.")
    if role and role not in ROLE_RANK:
        raise InvalidInput(f"Unknown role '{role}'.", fields={"role": ["Unknown role."]})
    mapping = ScimGroupMapping.objects.of(organization).select_for_update().filter(group_name=group_name).first()
    before = _mapping_state(mapping) if mapping else None
    # What the mapping gave until now is taken back from members it no longer applies to.
    withdrawn = (
        ScimGroupMapping(organization=organization, department=mapping.department, role=mapping.role)
        if mapping
        else None
    )
    if mapping is None:
        mapping = ScimGroupMapping(organization=organization, group_name=group_name)
    mapping.department, mapping.role = department, role
    mapping.save()
    audit_record(
        actor=actor, action="scim.group_mapping_set", target=mapping, before=before, after=_mapping_state(mapping)
    )
    _members_place(organization=organization, group_name=group_name, actor=actor, withdrawn=withdrawn)
    return mapping


@transaction.atomic
def group_mapping_remove(*, mapping: ScimGroupMapping, actor: User | None) -> None:
    _check_admin(actor=actor, organization=mapping.organization)
    before = _mapping_state(mapping)
    audit_record(actor=actor, action="scim.group_mapping_removed", target=mapping, before=before)
    # Placement reads the mappings left, so the members lose what this one gave them.
    mapping.delete()
    _members_place(organization=mapping.organization, group_name=before["group_name"], actor=actor, withdrawn=mapping)


def _members_place(
    *, organization: Organization, group_name: str, actor: User | None, withdrawn: ScimGroupMapping | None
) -> None:
    members = User.objects.of(organization).filter(
        id__in=ScimGroupMember.objects.filter(group__organization=organization, group__display_name=group_name).values(
            "user_id"
        )
    )
    label = f"scim-mapping:{actor.email if actor else 'platform'}"
    for user in members.order_by("id"):
        user_place(user=user, actor_label=label, withdrawn=withdrawn)


def user_place(*, user: User, actor_label: str, withdrawn: ScimGroupMapping | None = None) -> User:
    """Set a user's department and role from the mapped groups they are in.

    Department: that of the department group they joined last (a move is a join, then a leave).
    Role: the highest of their role groups. In no group of a kind, a department or role that a mapping
    gave is taken away (back to no department, to employee); one given by a person in LedgerX is left.
    `withdrawn` is a mapping just removed or changed: what it gave counts as given by a mapping.
    Taking the last active org admin's role: Conflict, and nothing changes.
    """
    mappings = list(selectors.group_mappings(organization=user.organization))
    by_name = {mapping.group_name: mapping for mapping in mappings}
    if withdrawn is not None:
        mappings.append(withdrawn)
    joined = (
        ScimGroupMember.objects.filter(user=user, group__organization_id=user.organization_id)
        .select_related("group")
        .order_by("-joined_at", "-id")
    )
    mine = [by_name[membership.group.display_name] for membership in joined if membership.group.display_name in by_name]
    departments = [mapping.department for mapping in mine if mapping.department_id]
    if departments:
        if user.department_id != departments[0].id:
            user = provisioning.user_set_department(user=user, department=departments[0], actor_label=actor_label)
    elif user.department_id in {mapping.department_id for mapping in mappings if mapping.department_id}:
        user = provisioning.user_set_department(user=user, department=None, actor_label=actor_label)
    roles = [mapping.role for mapping in mine if mapping.role]
    if roles:
        role = max(roles, key=ROLE_RANK.index)
    elif user.role in {mapping.role for mapping in mappings if mapping.role}:
        role = Role.EMPLOYEE
    else:
        return user
    if role != user.role:
        user = provisioning.user_role_write(user=user, role=role, actor=None, actor_label=actor_label)
    return user


def _tenancy(write, **kwargs) -> Any:
    """A tenancy write, its refusals told in SCIM's words: a state it cannot move to is a mutability error."""
    try:
        return write(**kwargs)
    except Conflict as conflict:
        raise ScimError(400, conflict.message, "mutability") from None
    except InvalidInput as invalid:
        raise invalid_value(invalid.message) from None


def _user_fields(resource: Any) -> tuple[str, bool, str | None, dict]:
    """userName, active, externalId and the other attributes of a User resource in a POST or PUT."""
    if not isinstance(resource, dict):
        raise ScimError(400, "The body must be a JSON object.", "invalidSyntax")
    if CORE_USER not in (resource.get("schemas") or []):
        raise invalid_value(f"A User resource lists the {CORE_USER} schema.")
    if "password" in resource:
        raise invalid_value("LedgerX takes no passwords: provisioned users sign in through single sign-on.")
    user_name = resource.get("userName")
    if not isinstance(user_name, str) or not user_name.strip():
        raise invalid_value("userName is required: the user's email address.")
    external_id = resource.get("externalId")
    if external_id is not None and (not isinstance(external_id, str) or len(external_id) > 255):
        raise invalid_value("externalId is a string of at most 255 characters.")
    active = boolean(resource.get("active", True), "active")
    extension = resource.get(ENTERPRISE_USER)
    if extension is not None and not isinstance(extension, dict):
        raise invalid_value(f"{ENTERPRISE_USER} is an object.")
    attributes = {name: value for name, value in resource.items() if name not in _USER_MANAGED}
    return user_name.strip().lower(), active, external_id, attributes


def _check_unique(*, organization: Organization, email: str, external_id: str | None, user: User | None) -> None:
    others = User.objects.exclude(id=user.id) if user else User.objects.all()
    if others.filter(email__iexact=email).exists():
        raise ScimError(409, "A user with that userName already exists.", "uniqueness")
    if external_id is not None:
        taken = ScimUser.objects.of(organization).filter(external_id=external_id)
        if user is not None:
            taken = taken.exclude(user=user)
        if taken.exists():
            raise ScimError(409, "A user with that externalId already exists.", "uniqueness")


def _scim_state(scim: ScimUser | None) -> dict:
    return {"external_id": scim.external_id, "attributes": scim.attributes} if scim else {}


def _attributes_store(*, token: ScimToken, user: User, external_id: str | None, attributes: dict) -> None:
    scim = ScimUser.objects.select_for_update().filter(user=user).first()
    before = _scim_state(scim)
    if before == {"external_id": external_id, "attributes": attributes}:
        return
    if scim is None:
        scim = ScimUser(organization_id=user.organization_id, user=user)
    scim.external_id, scim.attributes, scim.updated_at = external_id, attributes, timezone.now()
    try:
        with transaction.atomic():
            scim.save()
    except IntegrityError:
        raise ScimError(409, "A user with that externalId already exists.", "uniqueness") from None
    audit_record(
        actor=None,
        actor_label=token.actor_label,
        action="scim.user_attributes_set",
        target=user,
        before=before or None,
        after=_scim_state(scim),
    )


@transaction.atomic
def scim_user_create(*, token: ScimToken, resource: Any) -> User:
    email, active, external_id, attributes = _user_fields(resource)
    _check_unique(organization=token.organization, email=email, external_id=external_id, user=None)
    try:
        user = provisioning.user_provision(
            organization=token.organization, email=email, active=active, actor_label=token.actor_label
        )
    except Conflict:
        raise ScimError(409, "A user with that userName already exists.", "uniqueness") from None
    except InvalidInput as invalid:
        raise invalid_value(f"userName: {invalid.message}") from None
    _attributes_store(token=token, user=user, external_id=external_id, attributes=attributes)
    return user


@transaction.atomic
def scim_user_replace(*, token: ScimToken, user: User, resource: Any) -> User:
    """PUT: the user becomes the resource sent (RFC 7644 3.5.1); PATCH lands here too."""
    email, active, external_id, attributes = _user_fields(resource)
    _check_unique(organization=token.organization, email=email, external_id=external_id, user=user)
    label = token.actor_label
    if email != user.email:
        try:
            user = provisioning.user_set_email(user=user, email=email, actor_label=label)
        except Conflict:
            raise ScimError(409, "A user with that userName already exists.", "uniqueness") from None
        except InvalidInput as invalid:
            raise invalid_value(f"userName: {invalid.message}") from None
    if active != user.is_active:
        write = provisioning.user_reactivate if active else provisioning.user_deactivate
        user = _tenancy(write, user=user, actor_label=label)
    _attributes_store(token=token, user=user, external_id=external_id, attributes=attributes)
    return User.objects.select_related("scim").get(id=user.id)


@transaction.atomic
def scim_user_patch(*, token: ScimToken, user: User, operations: list[dict]) -> User:
    # Read, change and write under the user's lock: two PATCHes at once each keep the other's change.
    user = User.objects.select_for_update().get(id=user.id)
    resource = patch_apply(user_stored_view(user), operations, schemas=(CORE_USER, ENTERPRISE_USER))
    return scim_user_replace(token=token, user=user, resource=resource)


@transaction.atomic
def scim_user_delete(*, token: ScimToken, user: User) -> User:
    """A user with a history in the books is never deleted: DELETE deactivates them, as active=false does."""
    return _tenancy(provisioning.user_deactivate, user=user, actor_label=token.actor_label)
