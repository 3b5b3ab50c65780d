"""Groups mapped by the org admin to a department or a role place their members; leaving takes it back."""

import pytest

from apps.audit.models import AuditEvent
from apps.scim import services as scim_services
from apps.tenancy.models import Role
from ledgerx.errors import Conflict, Forbidden, InvalidInput, NotFound
from tests.factories import DepartmentFactory

from .conftest import GROUP_SCHEMA, okta_user


def _user(scim, email: str) -> str:
    return scim.post("Users", okta_user(email)).json()["id"]


def _group(scim, name: str, *members: str) -> str:
    body = {"schemas": [GROUP_SCHEMA], "displayName": name, "members": [{"value": m} for m in members]}
    return scim.post("Groups", body).json()["id"]


def test_a_department_group_places_its_members_and_leaving_it_takes_them_out(scim, tenant):
    research = DepartmentFactory(organization=tenant.organization, name="Research")
    scim_services.group_mapping_set(
        organization=tenant.organization, group_name="Eng", department=tenant.department, actor=tenant.admin
    )
    scim_services.group_mapping_set(
        organization=tenant.organization, group_name="Research", department=research, actor=tenant.admin
    )
    ada = _user(scim, "ada@acme.example")
    eng = _group(scim, "Eng", ada)
    user = tenant.organization.users.get(id=ada)
    assert user.department == tenant.department

    research_group = _group(scim, "Research")
    scim.patch(f"Groups/{research_group}", [{"op": "add", "path": "members", "value": [{"value": ada}]}])
    user.refresh_from_db()
    assert user.department == research, "the newest department group joined is the department"

    scim.patch(f"Groups/{research_group}", [{"op": "remove", "path": f'members[value eq "{ada}"]'}])
    user.refresh_from_db()
    assert user.department == tenant.department
    scim.patch(f"Groups/{eng}", [{"op": "remove", "path": f'members[value eq "{ada}"]'}])
    user.refresh_from_db()
    assert user.department is None
    moves = AuditEvent.objects.filter(target_id=ada, action="user.department_changed")
    assert moves.count() == 4
    assert {event.actor_email for event in moves} == {scim.token.actor_label}


def test_a_department_given_in_ledgerx_is_left_alone_by_unmapped_groups(scim, tenant):
    _group(scim, "Everyone", str(tenant.employee.id))
    tenant.employee.refresh_from_db()
    assert tenant.employee.department == tenant.department


def test_a_role_group_gives_the_highest_role_and_leaving_it_takes_it_back(scim, tenant):
    scim_services.group_mapping_set(
        organization=tenant.organization, group_name="Finance", role=Role.FINANCE_MANAGER, actor=tenant.admin
    )
    scim_services.group_mapping_set(
        organization=tenant.organization, group_name="Admins", role=Role.ORG_ADMIN, actor=tenant.admin
    )
    ada = _user(scim, "ada@acme.example")
    finance = _group(scim, "Finance", ada)
    admins = _group(scim, "Admins", ada)
    user = tenant.organization.users.get(id=ada)
    assert user.role == Role.ORG_ADMIN
    scim.delete(f"Groups/{admins}")
    user.refresh_from_db()
    assert user.role == Role.FINANCE_MANAGER
    scim.patch(f"Groups/{finance}", [{"op": "remove", "path": "members"}])
    user.refresh_from_db()
    assert user.role == Role.EMPLOYEE


def test_a_mapping_set_later_applies_to_the_groups_members_at_once(scim, tenant):
    ada = _user(scim, "ada@acme.example")
    _group(scim, "Eng", ada)
    mapping = scim_services.group_mapping_set(
        organization=tenant.organization, group_name="Eng", department=tenant.department, actor=tenant.admin
    )
    assert tenant.organization.users.get(id=ada).department == tenant.department
    mapping_id = str(mapping.id)
    scim_services.group_mapping_remove(mapping=mapping, actor=tenant.admin)
    assert tenant.organization.users.get(id=ada).department is None
    actions = AuditEvent.objects.filter(target_id=mapping_id).values_list("action", "actor")
    assert sorted(actions) == [
        ("scim.group_mapping_removed", tenant.admin.id),
        ("scim.group_mapping_set", tenant.admin.id),
    ]


def test_renaming_a_group_changes_which_mapping_applies(scim, tenant):
    scim_services.group_mapping_set(
        organization=tenant.organization, group_name="Eng", department=tenant.department, actor=tenant.admin
    )
    ada = _user(scim, "ada@acme.example")
    group = _group(scim, "Engineering", ada)
    assert tenant.organization.users.get(id=ada).department is None
    scim.patch(f"Groups/{group}", [{"op": "replace", "path": "displayName", "value": "Eng"}])
    assert tenant.organization.users.get(id=ada).department == tenant.department


def test_removing_the_last_org_admin_from_the_admin_group_is_refused(scim, tenant):
    scim_services.group_mapping_set(
        organization=tenant.organization, group_name="Admins", role=Role.ORG_ADMIN, actor=tenant.admin
    )
    admins = _group(scim, "Admins", str(tenant.admin.id))
    answer = scim.patch(f"Groups/{admins}", [{"op": "remove", "path": f'members[value eq "{tenant.admin.id}"]'}])
    assert answer.status_code == 400 and answer.json()["scimType"] == "mutability"
    tenant.admin.refresh_from_db()
    assert tenant.admin.role == Role.ORG_ADMIN
    assert [m["value"] for m in scim.get(f"Groups/{admins}").json()["members"]] == [str(tenant.admin.id)]


def test_only_an_org_admin_of_the_organization_maps_groups(tenant, other_tenant):
    with pytest.raises(Forbidden):
        scim_services.group_mapping_set(
            organization=tenant.organization, group_name="X", role=Role.EMPLOYEE, actor=tenant.finance
        )
    with pytest.raises(NotFound):
        scim_services.group_mapping_set(
            organization=tenant.organization, group_name="X", role=Role.EMPLOYEE, actor=other_tenant.admin
        )
    with pytest.raises(NotFound):
        scim_services.group_mapping_set(
            organization=tenant.organization, group_name="X", department=other_tenant.department, actor=tenant.admin
        )
    for bad in ({}, {"role": Role.SYSTEM_ADMIN}, {"role": Role.EMPLOYEE, "department": tenant.department}):
        with pytest.raises(InvalidInput):
            scim_services.group_mapping_set(organization=tenant.organization, group_name="X", actor=tenant.admin, **bad)


def test_a_mapping_that_would_demote_the_last_org_admin_is_refused(scim, tenant):
    mapping = scim_services.group_mapping_set(
        organization=tenant.organization, group_name="Admins", role=Role.ORG_ADMIN, actor=tenant.admin
    )
    _group(scim, "Admins", str(tenant.admin.id))
    with pytest.raises(Conflict):
        scim_services.group_mapping_remove(mapping=mapping, actor=tenant.admin)
    tenant.admin.refresh_from_db()
    assert tenant.admin.role == Role.ORG_ADMIN
