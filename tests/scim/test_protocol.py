"""SCIM's errors (RFC 7644 3.12), its discovery endpoints, who may call, and tenants kept apart."""

import pytest

from apps.scim import services as scim_services
from apps.tenancy.models import User
from tests.conftest import run_in_threads

from .conftest import GROUP_SCHEMA, SCIM, USER_SCHEMA, Scim, okta_user, scim_error, scim_for


def test_no_token_a_wrong_one_a_revoked_one_and_an_api_token_are_401(scim, tenant, api):
    anonymous = Scim("", None)
    anonymous.client.credentials()
    answer = anonymous.get("Users")
    scim_error(answer, 401)
    assert answer["WWW-Authenticate"] == 'Bearer realm="scim"'
    scim_error(Scim("scim_not-a-token", None).get("Users"), 401)
    api_token = api(tenant.admin)._credentials["HTTP_AUTHORIZATION"].split()[1]
    scim_error(Scim(api_token, None).get("Users"), 401)
    scim_services.scim_token_revoke(token=scim.token, actor=tenant.admin)
    scim_error(scim.get("Users"), 401)


def test_another_organizations_token_never_sees_or_changes_this_ones_users(scim, tenant, other_tenant):
    user_id = scim.post("Users", okta_user("ada@acme.example")).json()["id"]
    group_id = scim.post("Groups", {"schemas": [GROUP_SCHEMA], "displayName": "Finance"}).json()["id"]
    other = scim_for(other_tenant, name="entra")
    assert other.get("Users", {"filter": 'userName eq "ada@acme.example"'}).json()["totalResults"] == 0
    assert tenant.admin.email not in str(other.get("Users").content)
    scim_error(other.get(f"Users/{user_id}"), 404)
    scim_error(other.put(f"Users/{user_id}", okta_user("x@globex.example")), 404)
    scim_error(other.patch(f"Users/{user_id}", [{"op": "replace", "value": {"active": False}}]), 404)
    scim_error(other.delete(f"Users/{user_id}"), 404)
    scim_error(other.get(f"Groups/{group_id}"), 404)
    scim_error(other.patch(f"Groups/{group_id}", [{"op": "remove", "path": "members"}]), 404)
    scim_error(other.delete(f"Groups/{group_id}"), 404)
    their_group = other.post("Groups", {"schemas": [GROUP_SCHEMA], "displayName": "Finance"}).json()["id"]
    scim_error(
        other.patch(f"Groups/{their_group}", [{"op": "add", "path": "members", "value": [{"value": user_id}]}]),
        400,
        "invalidValue",
    )
    assert User.objects.get(id=user_id).is_active is True


def test_a_malformed_id_is_404(scim):
    scim_error(scim.get("Users/not-a-uuid"), 404)
    scim_error(scim.get("Groups/123"), 404)


@pytest.mark.parametrize(
    "expression",
    [
        'userName co "ada"',
        'emails.value eq "ada@acme.example"',
        "userName eq ada",
        'userName eq "a" and active eq true',
    ],
)
def test_a_filter_other_than_eq_on_a_supported_attribute_is_invalid_filter(scim, expression):
    scim_error(scim.get("Users", {"filter": expression}), 400, "invalidFilter")


def test_groups_filter_only_by_display_name_and_external_id(scim):
    scim_error(scim.get("Groups", {"filter": 'userName eq "x"'}), 400, "invalidFilter")


def test_unknown_query_parameters_and_bad_paging_are_refused(scim):
    scim_error(scim.get("Users", {"sortBy": "userName"}), 400, "invalidValue")
    scim_error(scim.get("Users", {"count": "many"}), 400, "invalidValue")
    scim_error(scim.client.get('/scim/v2/Users?filter=userName eq "a"&filter=userName eq "b"'), 400, "invalidValue")
    scim_error(scim.client.post("/scim/v2/Users?dryRun=1", {}, format="json"), 400, "invalidValue")


def test_paging_by_start_index_and_count(scim):
    for name in ("a", "b", "c"):
        scim.post("Users", okta_user(f"{name}@acme.example"))
    page = scim.get("Users", {"startIndex": 2, "count": 1}).json()
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (7, 2, 1)
    assert len(page["Resources"]) == 1


@pytest.mark.parametrize(
    ("body", "scim_type"),
    [
        ({"userName": "ada@acme.example"}, "invalidValue"),
        ({"schemas": [USER_SCHEMA]}, "invalidValue"),
        ({"schemas": [USER_SCHEMA], "userName": "not an email"}, "invalidValue"),
        ({"schemas": [USER_SCHEMA], "userName": "ada@acme.example", "password": "hunter22"}, "invalidValue"),
        ({"schemas": [USER_SCHEMA], "userName": "ada@acme.example", "active": "maybe"}, "invalidValue"),
        ({"schemas": [USER_SCHEMA], "userName": "ada@acme.example", "externalId": 7}, "invalidValue"),
    ],
)
def test_a_bad_user_is_400_and_changes_nothing(scim, body, scim_type):
    before = User.objects.count()
    scim_error(scim.post("Users", body), 400, scim_type)
    assert User.objects.count() == before


def test_a_body_that_is_not_json_is_invalid_syntax(scim):
    answer = scim.client.post("/scim/v2/Users", b"{not json", content_type=SCIM)
    scim_error(answer, 400, "invalidSyntax")


def test_a_taken_user_name_or_external_id_is_409_uniqueness(scim, tenant, other_tenant):
    scim.post("Users", {**okta_user("ada@acme.example"), "externalId": "e1"})
    scim_error(scim.post("Users", okta_user("ada@acme.example")), 409, "uniqueness")
    scim_error(scim.post("Users", okta_user(other_tenant.employee.email)), 409, "uniqueness")
    scim_error(scim.post("Users", {**okta_user("alan@acme.example"), "externalId": "e1"}), 409, "uniqueness")
    scim.post("Groups", {"schemas": [GROUP_SCHEMA], "displayName": "Finance"})
    scim_error(scim.post("Groups", {"schemas": [GROUP_SCHEMA], "displayName": "Finance"}), 409, "uniqueness")


@pytest.mark.parametrize(
    ("operations", "scim_type"),
    [
        ([{"op": "move", "path": "active", "value": False}], "invalidValue"),
        ([{"op": "replace", "path": "active"}], "invalidValue"),
        ([{"op": "remove"}], "noTarget"),
        ([{"op": "replace", "path": "name[", "value": "x"}], "invalidPath"),
        ([{"op": "replace", "path": "active", "value": "nope"}], "invalidValue"),
    ],
)
def test_a_bad_patch_is_400_and_changes_nothing(scim, operations, scim_type):
    user_id = scim.post("Users", okta_user("ada@acme.example")).json()["id"]
    scim_error(scim.patch(f"Users/{user_id}", operations), 400, scim_type)
    assert User.objects.get(id=user_id).is_active is True


def test_a_patch_that_is_not_a_patch_op_is_refused(scim):
    user_id = scim.post("Users", okta_user("ada@acme.example")).json()["id"]
    answer = scim.client.patch(f"/scim/v2/Users/{user_id}", {"Operations": []}, format="json")
    scim_error(answer, 400, "invalidValue")


def test_a_group_with_an_attribute_groups_do_not_have_is_refused(scim):
    answer = scim.post("Groups", {"schemas": [GROUP_SCHEMA], "displayName": "Finance", "owner": "ada"})
    scim_error(answer, 400, "invalidValue")


def test_the_last_org_admin_is_not_deactivated(scim, tenant):
    answer = scim.patch(f"Users/{tenant.admin.id}", [{"op": "replace", "path": "active", "value": False}])
    scim_error(answer, 400, "mutability")
    tenant.admin.refresh_from_db()
    assert tenant.admin.is_active is True


def test_discovery_endpoints_describe_what_is_supported(scim):
    config = scim.get("ServiceProviderConfig")
    assert config.status_code == 200 and config["Content-Type"] == SCIM
    assert config.json()["patch"] == {"supported": True}
    assert config.json()["bulk"]["supported"] is False
    types = scim.get("ResourceTypes").json()
    assert {resource["id"] for resource in types["Resources"]} == {"User", "Group"}
    assert scim.get("ResourceTypes/User").json()["endpoint"] == "/Users"
    schemas = scim.get("Schemas").json()
    assert USER_SCHEMA in {resource["id"] for resource in schemas["Resources"]}
    assert scim.get(f"Schemas/{GROUP_SCHEMA}").json()["name"] == "Group"
    scim_error(scim.get("Schemas/urn:nothing"), 404)


def test_a_method_a_route_does_not_have_is_405(scim):
    scim_error(scim.client.delete("/scim/v2/Users"), 405)


@pytest.mark.django_db(transaction=True)
def test_two_patches_at_once_each_keep_the_others_change(tenant):
    scim = scim_for(tenant)
    user_id = scim.post("Users", okta_user("ada@acme.example")).json()["id"]
    changes = [("title", "Countess"), ("nickName", "Ada")]

    def patch(index: int) -> int:
        name, value = changes[index]
        return Scim(scim.key, scim.token).patch(f"Users/{user_id}", [{"op": "add", "path": name, "value": value}])

    answers = run_in_threads(2, patch)
    assert [answer.status_code for answer in answers] == [200, 200]
    resource = scim.get(f"Users/{user_id}").json()
    assert (resource["title"], resource["nickName"]) == ("Countess", "Ada")
