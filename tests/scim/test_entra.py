"""Entra ID's provisioning sequence (Microsoft's "Develop a SCIM endpoint" reference requests): look up
by userName and externalId, create with the enterprise extension, PATCH with capitalized ops and
"False" as a string, groups looked up without their members and their members patched in lists."""

from apps.tenancy.models import User

from .conftest import ENTERPRISE, GROUP_SCHEMA, entra_user


def test_entra_creates_updates_and_disables_a_user(scim, tenant):
    email = "ada@acme.example"
    assert scim.get("Users", {"filter": f'userName eq "{email}"'}).json()["totalResults"] == 0
    created = scim.post("Users", entra_user(email, external_id="58342554-38d6-4ec8-948c-50044d0a33fd"))
    assert created.status_code == 201, created.content
    user_id = created.json()["id"]
    assert created.json()[ENTERPRISE] == {"department": "Engineering", "employeeNumber": "42"}
    assert ENTERPRISE in created.json()["schemas"]

    by_external_id = scim.get("Users", {"filter": 'externalId eq "58342554-38d6-4ec8-948c-50044d0a33fd"'}).json()
    assert [resource["id"] for resource in by_external_id["Resources"]] == [user_id]

    changed = scim.patch(
        f"Users/{user_id}",
        [
            {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "ada.work@acme.example"},
            {"op": "Replace", "path": "name.familyName", "value": "King"},
            {"op": "Add", "path": "title", "value": "Countess"},
            {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Research"},
            {"op": "Remove", "path": f"{ENTERPRISE}:employeeNumber"},
        ],
    )
    assert changed.status_code == 200, changed.content
    resource = changed.json()
    assert resource["emails"] == [{"primary": True, "type": "work", "value": "ada.work@acme.example"}]
    assert resource["name"]["familyName"] == "King"
    assert resource["title"] == "Countess"
    assert resource[ENTERPRISE] == {"department": "Research"}

    renamed = scim.patch(f"Users/{user_id}", [{"op": "Replace", "path": "userName", "value": "ada.king@acme.example"}])
    assert renamed.json()["userName"] == "ada.king@acme.example"

    disabled = scim.patch(f"Users/{user_id}", [{"op": "Replace", "path": "active", "value": "False"}])
    assert disabled.status_code == 200, disabled.content
    assert disabled.json()["active"] is False
    assert User.objects.get(id=user_id).is_active is False

    enabled = scim.patch(f"Users/{user_id}", [{"op": "Replace", "path": "active", "value": "True"}])
    assert enabled.json()["active"] is True


def test_entra_manages_group_members_in_lists(scim, tenant):
    ada = scim.post("Users", entra_user("ada@acme.example", external_id="a")).json()["id"]
    alan = scim.post("Users", entra_user("alan@acme.example", external_id="b")).json()["id"]

    lookup = scim.get("Groups", {"filter": 'displayName eq "Finance"', "excludedAttributes": "members"})
    assert lookup.json()["totalResults"] == 0
    group = scim.post(
        "Groups", {"schemas": [GROUP_SCHEMA], "externalId": "8aa1a0c0", "displayName": "Finance", "members": []}
    ).json()

    added = scim.patch(f"Groups/{group['id']}", [{"op": "Add", "path": "members", "value": [{"value": ada}]}])
    assert added.status_code == 204
    scim.patch(f"Groups/{group['id']}", [{"op": "Add", "path": "members", "value": [{"value": alan}]}])
    listed = scim.get("Groups", {"filter": 'externalId eq "8aa1a0c0"', "excludedAttributes": "members"}).json()
    assert listed["totalResults"] == 1
    assert "members" not in listed["Resources"][0]

    removed = scim.patch(f"Groups/{group['id']}", [{"op": "Remove", "path": "members", "value": [{"value": ada}]}])
    assert removed.status_code == 204
    members = scim.get(f"Groups/{group['id']}").json()["members"]
    assert [member["value"] for member in members] == [alan]

    replaced = scim.put(
        f"Groups/{group['id']}",
        {"schemas": [GROUP_SCHEMA], "displayName": "Finance", "externalId": "8aa1a0c0", "members": [{"value": ada}]},
    )
    assert replaced.status_code == 200, replaced.content
    assert [member["value"] for member in replaced.json()["members"]] == [ada]


def test_entra_deletes_a_user_by_deactivating_them(scim, tenant):
    user_id = scim.post("Users", entra_user("ada@acme.example")).json()["id"]
    assert scim.delete(f"Users/{user_id}").status_code == 204
    assert User.objects.get(id=user_id).is_active is False
