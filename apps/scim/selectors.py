import hashlib
import uuid

from django.db.models import Prefetch, QuerySet

from apps.tenancy.models import Organization, User

from .models import ScimGroup, ScimGroupMapping, ScimGroupMember, ScimToken
from .protocol import filter_parse, not_found

USER_FILTERS = {"username": "userName", "externalid": "externalId", "displayname": "displayName"}
GROUP_FILTERS = {"displayname": "displayName", "externalid": "externalId"}


def scim_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def scim_token_for_key(*, key: str) -> ScimToken | None:
    """The live token a bearer key is, with its organization; None for an unknown or revoked key."""
    return (
        ScimToken.objects.select_related("organization")
        .filter(key_hash=scim_key_hash(key), revoked_at__isnull=True)
        .first()
    )


def scim_tokens(*, organization: Organization) -> QuerySet[ScimToken]:
    return ScimToken.objects.of(organization)


def _users(organization: Organization) -> QuerySet[User]:
    # Every user of the organization, whoever made them: a provider links its accounts to existing ones
    # by userName. System admins belong to no organization and are never seen.
    return (
        User.objects.of(organization)
        .select_related("scim")
        .prefetch_related(
            Prefetch("scim_groups", queryset=ScimGroup.objects.only("id", "display_name"), to_attr="groups_in")
        )
        .order_by("date_joined", "id")
    )


def scim_users(*, organization: Organization, filter_text: str | None) -> QuerySet[User]:
    users = _users(organization)
    if not filter_text:
        return users
    attribute, value = filter_parse(filter_text, USER_FILTERS)
    if attribute == "userName":
        return users.filter(email__iexact=value)
    if attribute == "externalId":
        return users.filter(scim__external_id=value)
    return users.filter(scim__attributes__displayName=value)


def scim_user(*, organization: Organization, user_id: str) -> User:
    """The organization's user with this id; any other (another tenant's, a malformed id) is a 404."""
    try:
        return _users(organization).get(id=uuid.UUID(user_id))
    except (ValueError, User.DoesNotExist):
        raise not_found("User not found.") from None


def _groups(organization: Organization) -> QuerySet[ScimGroup]:
    members = ScimGroupMember.objects.select_related("user").only("group_id", "user__id", "user__email")
    return (
        ScimGroup.objects.of(organization)
        .prefetch_related(Prefetch("scimgroupmember_set", queryset=members, to_attr="memberships"))
        .order_by("created_at", "id")
    )


def scim_groups(*, organization: Organization, filter_text: str | None) -> QuerySet[ScimGroup]:
    groups = _groups(organization)
    if not filter_text:
        return groups
    attribute, value = filter_parse(filter_text, GROUP_FILTERS)
    if attribute == "externalId":
        return groups.filter(external_id=value)
    return groups.filter(display_name=value)


def scim_group(*, organization: Organization, group_id: str) -> ScimGroup:
    try:
        return _groups(organization).get(id=uuid.UUID(group_id))
    except (ValueError, ScimGroup.DoesNotExist):
        raise not_found("Group not found.") from None


def group_mappings(*, organization: Organization) -> QuerySet[ScimGroupMapping]:
    return ScimGroupMapping.objects.of(organization).select_related("department")
