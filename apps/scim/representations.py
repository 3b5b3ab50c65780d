"""Users and groups as SCIM resources (RFC 7643 sections 4.1 and 4.2)."""

from apps.tenancy.models import User

from .models import ScimGroup
from .protocol import CORE_GROUP, CORE_USER, ENTERPRISE_USER

BASE_PATH = "/scim/v2"


def _meta(resource_type: str, path: str, created, modified, base_url: str) -> dict:
    return {
        "resourceType": resource_type,
        "created": created.isoformat(),
        "lastModified": modified.isoformat(),
        "location": f"{base_url}{BASE_PATH}/{path}",
    }


def user_stored_view(user: User) -> dict:
    """The user as the provider last wrote it: what a PUT would send back, without id, meta and groups."""
    scim = getattr(user, "scim", None)
    attributes = dict(scim.attributes) if scim is not None else {}
    resource = {
        "schemas": [CORE_USER] + ([ENTERPRISE_USER] if ENTERPRISE_USER in attributes else []),
        "userName": user.email,
        "active": user.is_active,
        **attributes,
    }
    if scim is not None and scim.external_id is not None:
        resource["externalId"] = scim.external_id
    # A user LedgerX made (not the provider) still answers with its one email.
    resource.setdefault("emails", [{"value": user.email, "type": "work", "primary": True}])
    return resource


def user_representation(user: User, *, base_url: str) -> dict:
    scim = getattr(user, "scim", None)
    groups = getattr(user, "groups_in", None)
    if groups is None:
        groups = list(user.scim_groups.only("id", "display_name"))
    return {
        "id": str(user.id),
        **user_stored_view(user),
        "groups": [
            {"value": str(group.id), "display": group.display_name, "$ref": f"{base_url}{BASE_PATH}/Groups/{group.id}"}
            for group in groups
        ],
        "meta": _meta(
            "User",
            f"Users/{user.id}",
            user.date_joined,
            scim.updated_at if scim is not None else user.date_joined,
            base_url,
        ),
    }


def group_representation(group: ScimGroup, *, base_url: str, members: bool = True) -> dict:
    resource = {"schemas": [CORE_GROUP], "id": str(group.id), "displayName": group.display_name}
    if group.external_id is not None:
        resource["externalId"] = group.external_id
    if members:
        memberships = getattr(group, "memberships", None)
        if memberships is None:
            memberships = list(group.scimgroupmember_set.select_related("user"))
        resource["members"] = [
            {
                "value": str(membership.user.id),
                "display": membership.user.email,
                "$ref": f"{base_url}{BASE_PATH}/Users/{membership.user.id}",
            }
            for membership in memberships
        ]
    resource["meta"] = _meta("Group", f"Groups/{group.id}", group.created_at, group.updated_at, base_url)
    return resource
