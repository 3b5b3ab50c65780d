"""A provider's groups and their members (the writes; the reads are in selectors.py).

A membership change places the user again (services.user_place): a group mapped to a department or
a role moves them there, one they leave takes back what it gave.
"""

import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.tenancy.models import User
from ledgerx.errors import Conflict

from .models import ScimGroup, ScimGroupMember, ScimToken
from .protocol import CORE_GROUP, ScimError, invalid_value
from .services import user_place

_GROUP_READ_ONLY = {"schemas", "id", "meta"}
_GROUP_ATTRIBUTES = {"displayName", "externalId", "members"}


def _state(group: ScimGroup) -> dict:
    return {
        "display_name": group.display_name,
        "external_id": group.external_id,
        "members": sorted(str(user_id) for user_id in group.scimgroupmember_set.values_list("user_id", flat=True)),
    }


def _display_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 255:
        raise invalid_value("displayName is a string of 1 to 255 characters.")
    return value.strip()


def _external_id(value: Any) -> str | None:
    if value is not None and (not isinstance(value, str) or len(value) > 255):
        raise invalid_value("externalId is a string of at most 255 characters.")
    return value


def _member_users(*, token: ScimToken, members: Any) -> list[User]:
    """The users a members list names: each {"value": <user id>} of this organization, else invalidValue."""
    if not isinstance(members, list) or not all(
        isinstance(member, dict) and isinstance(member.get("value"), str) for member in members
    ):
        raise invalid_value('members is a list of {"value": "<user id>"}.')
    ids = set()
    for member in members:
        try:
            ids.add(uuid.UUID(member["value"]))
        except ValueError:
            raise invalid_value(f"No user {member['value']!r}.") from None
    users = list(User.objects.of(token.organization).filter(id__in=ids).order_by("id"))
    missing = ids - {user.id for user in users}
    if missing:
        raise invalid_value(f"No user {sorted(str(i) for i in missing)[0]!r} in this organization.")
    return users


def _group_fields(resource: Any) -> dict:
    if not isinstance(resource, dict):
        raise ScimError(400, "The body must be a JSON object.", "invalidSyntax")
    if CORE_GROUP not in (resource.get("schemas") or []):
        raise invalid_value(f"A Group resource lists the {CORE_GROUP} schema.")
    unknown = sorted(set(resource) - _GROUP_READ_ONLY - _GROUP_ATTRIBUTES)
    if unknown:
        raise invalid_value(f"Groups have no attribute {unknown[0]!r}.")
    return {
        "displayName": _display_name(resource.get("displayName")),
        "externalId": _external_id(resource.get("externalId")),
        "members": resource.get("members", []),
    }


def _save(group: ScimGroup) -> None:
    group.updated_at = timezone.now()
    try:
        with transaction.atomic():
            group.save()
    except IntegrityError:
        raise ScimError(409, "A group with that displayName or externalId already exists.", "uniqueness") from None


def _members_set(*, token: ScimToken, group: ScimGroup, add: list[User] = (), remove: list[User] = ()) -> None:
    """Add and remove members, then place each user whose membership changed (in id order, so two
    requests placing the same users lock them in one order)."""
    current = set(group.scimgroupmember_set.values_list("user_id", flat=True))
    joining = [user for user in add if user.id not in current]
    leaving = [user for user in remove if user.id in current]
    ScimGroupMember.objects.bulk_create(
        [ScimGroupMember(organization_id=group.organization_id, group=group, user=user) for user in joining]
    )
    ScimGroupMember.objects.filter(group=group, user__in=leaving).delete()
    _place(token=token, users=joining + leaving)


def _place(*, token: ScimToken, users: list[User]) -> None:
    try:
        for user in sorted(users, key=lambda u: u.id):
            user_place(user=user, actor_label=token.actor_label)
    except Conflict as conflict:
        # The last org admin leaving the admins' group: the change cannot be made as asked.
        raise ScimError(400, conflict.message, "mutability") from None


def _audited(*, token: ScimToken, group: ScimGroup, action: str, before: dict | None) -> None:
    after = _state(group)
    if after != before:
        audit_record(actor=None, actor_label=token.actor_label, action=action, target=group, before=before, after=after)


@transaction.atomic
def scim_group_create(*, token: ScimToken, resource: Any) -> ScimGroup:
    fields = _group_fields(resource)
    members = _member_users(token=token, members=fields["members"])
    group = ScimGroup(
        organization=token.organization, display_name=fields["displayName"], external_id=fields["externalId"]
    )
    _save(group)
    _members_set(token=token, group=group, add=members)
    _audited(token=token, group=group, action="scim.group_created", before=None)
    return group


def _locked(group: ScimGroup) -> ScimGroup:
    return ScimGroup.objects.select_for_update().get(id=group.id)


def _rename(*, token: ScimToken, group: ScimGroup, display_name: str, external_id: str | None) -> None:
    """A new name may change which mapping applies, so every member is placed again."""
    renamed = display_name != group.display_name
    group.display_name, group.external_id = display_name, external_id
    _save(group)
    if renamed:
        _place(token=token, users=list(group.members.all()))


@transaction.atomic
def scim_group_replace(*, token: ScimToken, group: ScimGroup, resource: Any) -> ScimGroup:
    fields = _group_fields(resource)
    members = _member_users(token=token, members=fields["members"])
    group = _locked(group)
    before = _state(group)
    _rename(token=token, group=group, display_name=fields["displayName"], external_id=fields["externalId"])
    wanted = {user.id for user in members}
    _members_set(token=token, group=group, add=members, remove=[u for u in group.members.all() if u.id not in wanted])
    _audited(token=token, group=group, action="scim.group_updated", before=before)
    return group


def _member_filter(path: str) -> str | None:
    """The user id of a `members[value eq "<id>"]` path, else None."""
    prefix, suffix = 'members[value eq "', '"]'
    compact = " ".join(path.split())
    if compact.lower().startswith(prefix) and compact.endswith(suffix):
        return compact[len(prefix) : -len(suffix)]
    return None


@transaction.atomic
def scim_group_patch(*, token: ScimToken, group: ScimGroup, operations: list[dict]) -> ScimGroup:
    """Okta's and Entra ID's group PATCHes: members added, removed (by value filter or by a value list)
    or replaced, and displayName or externalId replaced, with or without a path."""
    group = _locked(group)
    before = _state(group)
    for operation in operations:
        op, path, value = operation["op"], operation["path"], operation["value"]
        if path is None:
            if not isinstance(value, dict):
                raise invalid_value("An operation without a path takes an object of attributes.")
            steps = [(op, name, item) for name, item in value.items() if name not in _GROUP_READ_ONLY]
        else:
            steps = [(op, path, value)]
        for step in steps:
            _patch_step(token, group, *step)
    _audited(token=token, group=group, action="scim.group_updated", before=before)
    return group


def _patch_step(token: ScimToken, group: ScimGroup, op: str, path: str, value: Any) -> None:
    name = path.strip()
    member_id = _member_filter(name)
    if member_id is not None:
        if op != "remove":
            raise ScimError(400, "Add members with path 'members' and a list of values.", "invalidPath")
        _members_set(token=token, group=group, remove=_member_users(token=token, members=[{"value": member_id}]))
    elif name.lower() == "members":
        if op == "remove" and value is None:
            _members_set(token=token, group=group, remove=list(group.members.all()))
            return
        users = _member_users(token=token, members=value)
        if op == "add":
            _members_set(token=token, group=group, add=users)
        elif op == "remove":
            _members_set(token=token, group=group, remove=users)
        else:
            wanted = {user.id for user in users}
            _members_set(
                token=token, group=group, add=users, remove=[u for u in group.members.all() if u.id not in wanted]
            )
    elif name.lower() == "displayname" and op != "remove":
        _rename(token=token, group=group, display_name=_display_name(value), external_id=group.external_id)
    elif name.lower() == "externalid":
        group.external_id = None if op == "remove" else _external_id(value)
        _save(group)
    else:
        raise ScimError(400, f"Unsupported path '{path}' for a group.", "invalidPath")


@transaction.atomic
def scim_group_delete(*, token: ScimToken, group: ScimGroup) -> None:
    """The group goes; its members lose what its mapping gave them."""
    group = _locked(group)
    before = _state(group)
    members = list(group.members.all())
    audit_record(actor=None, actor_label=token.actor_label, action="scim.group_deleted", target=group, before=before)
    group.delete()
    _place(token=token, users=members)
