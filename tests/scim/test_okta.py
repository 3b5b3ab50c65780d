"""Okta's SCIM 2.0 request sequence (Okta's "SCIM 2.0 protocol reference"): look the user up by
userName, create, read, update with PUT, deactivate with PATCH, push a group and its members."""

from apps.audit.models import AuditChange, AuditEvent
from apps.tenancy.models import Role, User

from .conftest import GROUP_SCHEMA, SCIM, okta_user


def test_okta_creates_reads_updates_and_deactivates_a_user(scim, tenant):
    email = "ada@acme.example"
    lookup = scim.get("Users", {"filter": f'userName eq "{email}"', "startIndex": 1, "count": 100})
    assert lookup.status_code == 200
    assert lookup["Content-Type"] == SCIM
    assert lookup.json() == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 0,
        "startIndex": 1,
        "itemsPerPage": 0,
        "Resources": [],
    }

    created = scim.post("Users", okta_user(email))
    assert created.status_code == 201, created.content
    resource = created.json()
    user = User.objects.get(email=email)
    assert resource["id"] == str(user.id)
    assert created["Location"] == resource["meta"]["location"] == f"http://testserver/scim/v2/Users/{user.id}"
    assert resource["userName"] == email and resource["active"] is True
    assert resource["name"] == {"givenName": "Ada", "familyName": "Lovelace"}
    assert resource["locale"] == "en-US"
    assert (user.organization, user.role, user.department, user.has_usable_password()) == (
        tenant.organization,
        Role.EMPLOYEE,
        None,
        False,
    )

    found = scim.get("Users", {"filter": f'userName eq "{email.upper()}"'}).json()
    assert found["totalResults"] == 1 and found["Resources"][0]["id"] == str(user.id)
    assert scim.get(f"Users/{user.id}").json()["displayName"] == "Ada Lovelace"

    renamed = okta_user("ada.king@acme.example", given="Ada", family="King")
    put = scim.put(f"Users/{user.id}", {**resource, **renamed, "id": str(user.id)})
    assert put.status_code == 200, put.content
    assert put.json()["userName"] == "ada.king@acme.example"
    assert put.json()["name"]["familyName"] == "King"
    user.refresh_from_db()
    assert user.email == "ada.king@acme.example"

    patched = scim.patch(f"Users/{user.id}", [{"op": "replace", "value": {"active": False}}])
    assert patched.status_code == 200, patched.content
    assert patched.json()["active"] is False
    user.refresh_from_db()
    assert user.is_active is False

    label = scim.token.actor_label
    events = AuditEvent.objects.filter(target_id=str(user.id)).order_by("id")
    assert [event.action for event in events] == [
        "user.provisioned",
        "scim.user_attributes_set",
        "user.email_changed",
        "scim.user_attributes_set",
        "user.deactivated",
    ]
    assert {(event.actor_id, event.actor_email) for event in events} == {(None, label)}
    user_changes = AuditChange.objects.filter(table_name="tenancy_user", row_id=str(user.id))
    assert user_changes.exists()
    assert {change.actor for change in user_changes} == {label}
    assert {change.origin["scim_token"] for change in user_changes} == {str(scim.token.id)}
    attribute_changes = AuditChange.objects.filter(table_name="scim_scimuser", organization_id=tenant.organization.id)
    assert [change.operation for change in attribute_changes] == ["INSERT", "UPDATE"]
    assert attribute_changes.last().after["attributes"]["name"]["familyName"] == "King"
    assert {change.actor for change in attribute_changes} == {label}


def test_okta_reactivates_with_patch(scim, tenant):
    user_id = scim.post("Users", okta_user("grace@acme.example", active=False)).json()["id"]
    assert User.objects.get(id=user_id).is_active is False
    answer = scim.patch(f"Users/{user_id}", [{"op": "replace", "value": {"active": True}}])
    assert answer.json()["active"] is True
    assert User.objects.get(id=user_id).is_active is True


def test_okta_pushes_a_group_and_its_members(scim, tenant):
    ada = scim.post("Users", okta_user("ada@acme.example")).json()["id"]
    alan = scim.post("Users", okta_user("alan@acme.example", given="Alan", family="Turing")).json()["id"]

    assert scim.get("Groups", {"filter": 'displayName eq "Finance"'}).json()["totalResults"] == 0
    created = scim.post("Groups", {"schemas": [GROUP_SCHEMA], "displayName": "Finance", "members": []})
    assert created.status_code == 201, created.content
    group_id = created.json()["id"]
    assert created.json()["members"] == []

    added = scim.patch(
        f"Groups/{group_id}",
        [
            {
                "op": "add",
                "path": "members",
                "value": [
                    {"value": ada, "display": "ada@acme.example"},
                    {"value": alan, "display": "alan@acme.example"},
                ],
            }
        ],
    )
    assert added.status_code == 204, added.content
    members = {member["value"] for member in scim.get(f"Groups/{group_id}").json()["members"]}
    assert members == {ada, alan}
    assert scim.get(f"Users/{ada}").json()["groups"][0]["display"] == "Finance"

    removed = scim.patch(f"Groups/{group_id}", [{"op": "remove", "path": f'members[value eq "{alan}"]'}])
    assert removed.status_code == 204, removed.content
    renamed = scim.patch(
        f"Groups/{group_id}", [{"op": "replace", "value": {"id": group_id, "displayName": "Finance team"}}]
    )
    assert renamed.status_code == 204, renamed.content
    group = scim.get(f"Groups/{group_id}").json()
    assert group["displayName"] == "Finance team"
    assert [member["value"] for member in group["members"]] == [ada]

    assert scim.delete(f"Groups/{group_id}").status_code == 204
    assert scim.get(f"Groups/{group_id}").status_code == 404
    actions = list(AuditEvent.objects.filter(target_id=group_id).order_by("id").values_list("action", flat=True))
    assert actions == [
        "scim.group_created",
        "scim.group_updated",
        "scim.group_updated",
        "scim.group_updated",
        "scim.group_deleted",
    ]
