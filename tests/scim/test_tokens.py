"""SCIM tokens and group mappings: issued, rotated and revoked by an org admin (service, command,
back office), stored hashed, shown once, audited."""

import hashlib
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.audit.models import AuditEvent
from apps.scim import services as scim_services
from apps.scim.models import ScimGroupMapping, ScimToken
from ledgerx.errors import Forbidden, InvalidInput, NotFound
from tests.factories import login_verified

from .conftest import Scim, scim_error


def test_a_token_is_stored_hashed_and_its_key_works_once_issued(tenant):
    key, token = scim_services.scim_token_issue(organization=tenant.organization, name="okta", actor=tenant.admin)
    assert key.startswith("scim_") and len(key) > 40
    stored = ScimToken.objects.get(id=token.id)
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(ScimToken.objects.filter(id=token.id).values().first())
    assert Scim(key, token).get("Users").status_code == 200
    event = AuditEvent.objects.get(action="scim.token_issued", target_id=str(token.id))
    assert event.actor == tenant.admin and "key_hash" not in event.after


def test_rotating_stops_the_old_key_at_once(tenant):
    key, token = scim_services.scim_token_issue(organization=tenant.organization, name="okta", actor=tenant.admin)
    new_key, new_token = scim_services.scim_token_rotate(token=token, actor=tenant.admin)
    assert new_token.name == "okta" and new_key != key
    scim_error(Scim(key, token).get("Users"), 401)
    assert Scim(new_key, new_token).get("Users").status_code == 200


@pytest.mark.parametrize("role", ["employee", "finance_manager"])
def test_only_an_org_admin_issues_tokens(tenant, role):
    with pytest.raises(Forbidden):
        scim_services.scim_token_issue(organization=tenant.organization, name="okta", actor=tenant.user(role))


def test_another_organizations_admin_issues_none_here(tenant, other_tenant):
    with pytest.raises(NotFound):
        scim_services.scim_token_issue(organization=tenant.organization, name="okta", actor=other_tenant.admin)
    _, token = scim_services.scim_token_issue(organization=tenant.organization, name="okta", actor=tenant.admin)
    with pytest.raises(NotFound):
        scim_services.scim_token_revoke(token=token, actor=other_tenant.admin)


def test_a_token_needs_a_name(tenant):
    with pytest.raises(InvalidInput):
        scim_services.scim_token_issue(organization=tenant.organization, name="  ", actor=tenant.admin)


def _command(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_the_command_issues_lists_rotates_and_revokes(tenant):
    slug = tenant.organization.slug
    issued = _command("scim_token", "issue", "--organization", slug, "--name", "entra", "--as", tenant.admin.email)
    key = issued.strip().splitlines()[-1]
    token = ScimToken.objects.get(organization=tenant.organization, name="entra")
    assert Scim(key, token).get("Users").status_code == 200
    assert str(token.id) in _command("scim_token", "list", "--organization", slug)
    rotated = _command("scim_token", "rotate", "--organization", slug, "--token", str(token.id))
    scim_error(Scim(key, token).get("Users"), 401)
    new_token = ScimToken.objects.get(organization=tenant.organization, name="entra", revoked_at__isnull=True)
    _command("scim_token", "revoke", "--organization", slug, "--token", str(new_token.id))
    scim_error(Scim(rotated.strip().splitlines()[-1], new_token).get("Users"), 401)
    with pytest.raises(CommandError):
        _command("scim_token", "issue", "--organization", slug, "--name", "x", "--as", tenant.finance.email)
    with pytest.raises(CommandError):
        _command("scim_token", "revoke", "--organization", slug, "--token", "nope")


def test_the_command_maps_groups(tenant):
    slug = tenant.organization.slug
    _command("scim_group_map", "set", "--organization", slug, "--group", "Eng", "--department", "Engineering")
    _command("scim_group_map", "set", "--organization", slug, "--group", "Money", "--role", "finance_manager")
    listed = _command("scim_group_map", "list", "--organization", slug)
    assert "Eng  ->  Engineering" in listed and "Money  ->  finance_manager" in listed
    _command("scim_group_map", "remove", "--organization", slug, "--group", "Money")
    assert list(ScimGroupMapping.objects.values_list("group_name", flat=True)) == ["Eng"]
    with pytest.raises(CommandError):
        _command("scim_group_map", "set", "--organization", slug, "--group", "X", "--department", "Nowhere")


def test_an_org_admin_issues_a_token_in_the_back_office_and_sees_its_key_once(client, tenant):
    login_verified(client, tenant.admin)
    answer = client.post("/admin/scim/scimtoken/add/", {"name": "okta"}, follow=True)
    assert answer.status_code == 200
    shown = [str(message) for message in answer.context["messages"]]
    key = next(message for message in shown if "shown this once" in message).rsplit(" ", 1)[-1]
    token = ScimToken.objects.get(organization=tenant.organization, name="okta")
    assert Scim(key, token).get("Users").status_code == 200


def test_an_org_admin_maps_a_group_in_the_back_office(client, tenant):
    login_verified(client, tenant.admin)
    answer = client.post(
        "/admin/scim/scimgroupmapping/add/", {"group_name": "Eng", "department": tenant.department.id, "role": ""}
    )
    assert answer.status_code == 302, answer.content
    mapping = ScimGroupMapping.objects.get(organization=tenant.organization)
    assert AuditEvent.objects.filter(action="scim.group_mapping_set", target_id=str(mapping.id)).exists()


def test_finance_does_not_open_the_scim_back_office(client, tenant):
    login_verified(client, tenant.finance)
    assert client.get("/admin/scim/scimtoken/").status_code == 403
    assert client.get("/admin/scim/scimgroupmapping/").status_code == 403
