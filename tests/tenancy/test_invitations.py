"""Invitations: sent by an org admin from the back office (through invitation_send, audited), the email
carries a link that works once until it expires, and the page it opens makes the user and signs them in."""

import re
import socket
from datetime import timedelta

import pytest
import time_machine
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.test import Client
from django.utils import timezone

from apps.audit.models import AuditChange, AuditEvent
from apps.tenancy import invitations
from apps.tenancy import services as tenancy_services
from apps.tenancy.models import Invitation, Role, User
from ledgerx.errors import Forbidden, InvalidInput, NotFound
from tests.factories import signed_in_client

INVITATIONS = "/admin/tenancy/invitation/"
SITE = "http://testserver"
NEW_PASSWORD = "a-long-fresh-passphrase-42"
LINK = re.compile(r"http://testserver(/invitations/[^/\s]+/)")


def invite(tenant, email="new.hire@example.com", role=Role.EMPLOYEE, department="default"):
    return invitations.invitation_send(
        actor=tenant.admin,
        organization=tenant.organization,
        email=email,
        role=role,
        department=tenant.department if department == "default" else department,
        site_url=SITE,
    )


def link_path(message) -> str:
    return LINK.search(message.body).group(1)


@pytest.mark.django_db
def test_an_invitation_is_emailed_with_a_link_and_audited(tenant):
    sent = invite(tenant, email=" New.Hire@Example.com ")

    [message] = mail.outbox
    assert message.to == ["new.hire@example.com"]
    assert "Acme" in message.subject
    assert sent.link in message.body and sent.link.startswith(f"{SITE}/invitations/")
    invitation = Invitation.objects.get()
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    event = AuditEvent.objects.get(action="invitation.sent")
    assert (event.actor, event.organization_id, event.target_id) == (
        tenant.admin,
        tenant.organization.id,
        str(invitation.id),
    )
    assert event.after["email"] == "new.hire@example.com" and event.after["role"] == "employee"
    assert AuditChange.objects.filter(table_name="tenancy_invitation", operation="INSERT").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "not an email"}, "email"),
        ({"role": "system_admin"}, "role"),
        ({"department": None}, "department"),  # an employee needs one
    ],
)
def test_a_bad_invitation_is_refused_and_nothing_is_sent(tenant, fields, field):
    with pytest.raises(InvalidInput) as refusal:
        invite(tenant, **fields)
    assert field in refusal.value.fields
    assert (Invitation.objects.count(), len(mail.outbox)) == (0, 0)


@pytest.mark.django_db
def test_an_existing_user_or_a_waiting_invitation_is_refused(tenant):
    with pytest.raises(InvalidInput, match="already exists"):
        invite(tenant, email=tenant.employee.email)
    invite(tenant)
    with pytest.raises(InvalidInput, match="revoke it"):
        invite(tenant)
    invitations.invitation_revoke(actor=tenant.admin, invitation=Invitation.objects.get())
    invite(tenant)
    assert Invitation.objects.count() == 2


@pytest.mark.django_db
def test_only_an_org_admin_invites_and_only_into_their_organization(tenant, other_tenant):
    with pytest.raises(Forbidden):
        invitations.invitation_send(
            actor=tenant.finance,
            organization=tenant.organization,
            email="x@example.com",
            role=Role.EMPLOYEE,
            department=tenant.department,
            site_url=SITE,
        )
    with pytest.raises(NotFound):
        invitations.invitation_send(
            actor=tenant.admin,
            organization=other_tenant.organization,
            email="x@example.com",
            role=Role.EMPLOYEE,
            department=other_tenant.department,
            site_url=SITE,
        )
    with pytest.raises(NotFound):
        invite(tenant, department=other_tenant.department)


@pytest.mark.django_db
def test_accepting_makes_the_user_once_and_audits_both_steps(tenant):
    invite(tenant)
    token = link_path(mail.outbox[0]).split("/")[2]

    user = invitations.invitation_accept(token=token, password=NEW_PASSWORD)

    assert (user.email, user.role, user.organization, user.department) == (
        "new.hire@example.com",
        Role.EMPLOYEE,
        tenant.organization,
        tenant.department,
    )
    assert user.check_password(NEW_PASSWORD)
    invitation = Invitation.objects.get()
    assert invitation.user == user and invitation.accepted_at is not None
    created = AuditEvent.objects.get(action="user.created", target_id=str(user.id))
    assert created.actor == tenant.admin
    accepted = AuditEvent.objects.get(action="invitation.accepted")
    assert (accepted.actor, accepted.after) == (user, {"user": str(user.id)})
    with pytest.raises(invitations.InvitationRefused) as refusal:
        invitations.invitation_accept(token=token, password=NEW_PASSWORD)
    assert refusal.value.reason == "used"


@pytest.mark.django_db
def test_a_weak_password_is_refused_and_the_invitation_still_waits(tenant):
    invite(tenant)
    token = link_path(mail.outbox[0]).split("/")[2]
    with pytest.raises(InvalidInput) as refusal:
        invitations.invitation_accept(token=token, password="123")
    assert "password" in refusal.value.fields
    assert not User.objects.filter(email="new.hire@example.com").exists()
    assert invitations.invitation_for_token(token).accepted_at is None


@pytest.mark.django_db
def test_an_expired_revoked_or_altered_link_is_refused(tenant):
    invite(tenant)
    token = link_path(mail.outbox[0]).split("/")[2]
    with (
        time_machine.travel(timezone.now() + timedelta(days=7, seconds=1)),
        pytest.raises(invitations.InvitationRefused) as expired,
    ):
        invitations.invitation_for_token(token)
    assert expired.value.reason == "expired"
    with pytest.raises(invitations.InvitationRefused) as altered:
        invitations.invitation_for_token(token[:-2] + ("aa" if not token.endswith("aa") else "bb"))
    assert altered.value.reason == "invalid"
    invitations.invitation_revoke(actor=tenant.admin, invitation=Invitation.objects.get())
    with pytest.raises(invitations.InvitationRefused) as revoked:
        invitations.invitation_for_token(token)
    assert revoked.value.reason == "revoked"
    assert AuditEvent.objects.filter(action="invitation.revoked", actor=tenant.admin).count() == 1


# The page the link opens.


@pytest.mark.django_db
def test_the_page_sets_the_password_and_signs_the_invitee_in(tenant):
    invite(tenant)
    path = link_path(mail.outbox[0])
    client = Client()
    page = client.get(path)
    assert page.status_code == 200
    assert "new.hire@example.com" in page.content.decode()

    differs = client.post(path, {"password": NEW_PASSWORD, "password_again": "other"})
    assert differs.status_code == 400 and "The two passwords differ." in differs.content.decode()
    weak = client.post(path, {"password": "123", "password_again": "123"})
    assert weak.status_code == 400 and 'aria-invalid="true"' in weak.content.decode()

    response = client.post(path, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert client.session["_auth_user_id"] == str(User.objects.get(email="new.hire@example.com").id)

    used = Client().get(path)
    assert used.status_code == 410 and "already been used" in used.content.decode()


@pytest.mark.django_db
def test_the_page_refuses_an_expired_or_unknown_link_clearly(tenant):
    invite(tenant)
    path = link_path(mail.outbox[0])
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        expired = Client().post(path, {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD})
    assert expired.status_code == 410 and "has expired" in expired.content.decode()
    unknown = Client().get("/invitations/not-a-token/")
    assert unknown.status_code == 404 and "not valid" in unknown.content.decode()
    assert not User.objects.filter(email="new.hire@example.com").exists()


# The back office.


def _add_form(tenant, **fields) -> dict:
    return {"email": "new.hire@example.com", "role": "employee", "department": tenant.department.id, **fields}


@pytest.mark.django_db
def test_an_org_admin_invites_from_the_back_office(tenant):
    client = signed_in_client(tenant.admin)
    form = client.get(f"{INVITATIONS}add/").content.decode()
    assert 'name="email"' in form and 'name="organization"' not in form

    response = client.post(f"{INVITATIONS}add/", _add_form(tenant))

    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.organization, invitation.invited_by) == (tenant.organization, tenant.admin)
    assert link_path(mail.outbox[0]).startswith("/invitations/")
    assert AuditEvent.objects.filter(action="invitation.sent", actor=tenant.admin).count() == 1
    listing = client.get(INVITATIONS).content.decode()
    assert "new.hire@example.com" in listing and "Waiting" in listing


@pytest.mark.django_db
def test_the_back_office_shows_a_refusal_beside_its_field(tenant, other_tenant):
    client = signed_in_client(tenant.admin)
    taken = client.post(f"{INVITATIONS}add/", _add_form(tenant, email=tenant.finance.email))
    assert taken.status_code == 200 and "Already in use." in taken.content.decode()
    no_department = client.post(f"{INVITATIONS}add/", _add_form(tenant, department=""))
    assert "This field is required." in no_department.content.decode()
    foreign = client.post(f"{INVITATIONS}add/", _add_form(tenant, department=other_tenant.department.id))
    assert foreign.status_code == 200 and "Select a valid choice" in foreign.content.decode()
    assert (Invitation.objects.count(), len(mail.outbox)) == (0, 0)


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "lists", "adds"), [("org_admin", 200, 200), ("finance_manager", 403, 403)])
def test_who_may_invite_in_the_back_office(tenant, role, lists, adds):
    client = signed_in_client(tenant.user(role))
    assert client.get(INVITATIONS).status_code == lists
    assert client.get(f"{INVITATIONS}add/").status_code == adds


@pytest.mark.django_db
def test_an_employee_never_reaches_the_back_office(tenant):
    client = Client()
    client.force_login(tenant.employee)
    assert client.get(f"{INVITATIONS}add/").status_code == 302  # to the back office's login


@pytest.mark.django_db
def test_an_org_admin_sees_and_revokes_only_their_organizations_invitations(tenant, other_tenant):
    theirs = invite(other_tenant).invitation
    ours = invite(tenant, email="ours@example.com").invitation
    client = signed_in_client(tenant.admin)
    assert client.get(f"{INVITATIONS}{theirs.id}/change/").status_code == 302  # "does not exist" redirect
    assert "ours@example.com" in client.get(INVITATIONS).content.decode()
    assert other_tenant.employee.email not in client.get(INVITATIONS).content.decode()

    response = client.post(
        INVITATIONS, {"action": "revoke", ACTION_CHECKBOX_NAME: [str(ours.id), str(theirs.id)]}, follow=True
    )

    assert response.status_code == 200
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert ours.revoked_at is not None and theirs.revoked_at is None
    assert [e.target_id for e in AuditEvent.objects.filter(action="invitation.revoked")] == [str(ours.id)]


@pytest.mark.django_db
def test_an_invitation_lapses_with_its_senders_authority(tenant):
    invite(tenant)
    token = link_path(mail.outbox[0]).split("/")[2]
    tenancy_services.user_set_role(actor=tenant.admin, user=tenant.finance, role=Role.ORG_ADMIN)
    tenancy_services.user_set_role(actor=tenant.finance, user=tenant.admin, role=Role.FINANCE_MANAGER)
    with pytest.raises(invitations.InvitationRefused) as refusal:
        invitations.invitation_accept(token=token, password=NEW_PASSWORD)
    assert refusal.value.reason == "inviter_gone"
    assert not User.objects.filter(email="new.hire@example.com").exists()


@pytest.mark.django_db
def test_an_invitation_the_mail_server_refuses_is_not_kept(tenant, settings):
    """A real SMTP client against a port where nothing listens: the connection is refused."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    client = signed_in_client(tenant.admin)

    response = client.post(f"{INVITATIONS}add/", _add_form(tenant), follow=True)

    assert response.redirect_chain == [(f"{INVITATIONS}add/", 302)]
    [message] = [str(m) for m in response.context["messages"]]
    assert message.startswith("The invitation email could not be sent") and "nothing was saved" in message
    assert not Invitation.objects.exists()
    assert not AuditEvent.objects.filter(action="invitation.sent").exists()
