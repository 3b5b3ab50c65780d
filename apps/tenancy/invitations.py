"""Invitations: an org admin invites someone by email; the link in the email opens a page where they
set a password, which makes their user (through services.user_create) and signs them in.

The link carries the invitation's id signed with SECRET_KEY and a timestamp (Django's signing), so it
cannot be guessed or altered, and it stops opening after INVITATION_TTL. It works once: accepting
marks the invitation, under its row lock, and a used, revoked or expired invitation is refused with
its reason. Every step is audited (invitation.sent, invitation.revoked, invitation.accepted).
"""

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from ledgerx.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceUnavailable

from .models import Department, Invitation, Organization, Role, User
from .permissions import ADMIN_ROLES, PLATFORM_ROLES, TENANT_ROLES
from .services import _administration_changed, user_create

SIGNING_SALT = "ledgerx.invitation"
ACCEPT_URL_NAME = "invitation-accept"


class InvitationRefused(Exception):
    """Why a link does not open the page: `reason` is one of the keys of REFUSALS."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# What the page says for each refusal, in words for the person who followed the link.
REFUSALS = {
    "invalid": "This invitation link is not valid. Check that you opened the whole link from the email.",
    "expired": "This invitation has expired. Ask your administrator to send you a new one.",
    "used": "This invitation has already been used. Log in with the password you set.",
    "revoked": "This invitation was withdrawn. Ask your administrator if you still need an account.",
    "inviter_gone": "Whoever sent this invitation can no longer invite people. Ask your administrator for a new one.",
}


@dataclass(frozen=True)
class SentInvitation:
    invitation: Invitation
    link: str


def _state(invitation: Invitation) -> dict:
    return {
        "email": invitation.email,
        "role": invitation.role,
        "department": str(invitation.department_id) if invitation.department_id else None,
        "expires_at": invitation.expires_at.isoformat(),
    }


def invitation_token(invitation: Invitation) -> str:
    return signing.TimestampSigner(salt=SIGNING_SALT).sign(str(invitation.id))


def _invitation_id(token: str) -> uuid.UUID:
    signer = signing.TimestampSigner(salt=SIGNING_SALT)
    try:
        return uuid.UUID(signer.unsign(token, max_age=settings.INVITATION_TTL))
    except signing.SignatureExpired:
        raise InvitationRefused("expired") from None
    except (signing.BadSignature, ValueError):
        raise InvitationRefused("invalid") from None


def _refusal(invitation: Invitation, now) -> str | None:
    if invitation.accepted_at is not None:
        return "used"
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= now:
        return "expired"
    inviter = invitation.invited_by
    # An invitation carries its sender's authority: it lapses with it (deactivated, demoted, moved).
    if not inviter.is_active or not (
        inviter.role == Role.SYSTEM_ADMIN
        or (inviter.role in ADMIN_ROLES and inviter.organization_id == invitation.organization_id)
    ):
        return "inviter_gone"
    return None


def invitation_for_token(token: str) -> Invitation:
    """The invitation a link names, if it may still be accepted; else InvitationRefused with the reason."""
    invitations = Invitation.objects.select_related("organization", "department", "invited_by")
    invitation = invitations.filter(id=_invitation_id(token)).first()
    if invitation is None:
        raise InvitationRefused("invalid")
    reason = _refusal(invitation, timezone.now())
    if reason is not None:
        raise InvitationRefused(reason)
    return invitation


def invitation_check(
    *, actor: User, organization: Organization, email: str, role: str, department: Department | None
) -> str:
    """Refuse an invitation LedgerX would not send; answers the email as it is stored.

    invitation_send calls it; the back office's form calls it first to show a refusal beside its field.
    """
    if actor.role not in (*ADMIN_ROLES, *PLATFORM_ROLES):
        raise Forbidden("Only an org admin invites people.")
    if actor.role != Role.SYSTEM_ADMIN and actor.organization_id != organization.id:
        raise NotFound("Organization not found.")
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput("Enter a valid email address.", fields={"email": ["Enter a valid email address."]}) from None
    if role not in TENANT_ROLES:
        raise InvalidInput(f"Unknown role '{role}'.", fields={"role": ["Unknown role."]})
    if department is not None and department.organization_id != organization.id:
        raise NotFound("Department not found.")
    if role == Role.EMPLOYEE and department is None:
        raise InvalidInput("An employee needs a department.", fields={"department": ["This field is required."]})
    if User.objects.filter(email=email).exists():
        raise InvalidInput("A user with that email already exists.", fields={"email": ["Already in use."]})
    waiting = (
        Invitation.objects.of(organization)
        .filter(email=email, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if waiting is not None:
        message = (
            f"An invitation is waiting until {waiting.expires_at:%Y-%m-%d %H:%M} UTC; revoke it to send a new one."
        )
        raise InvalidInput(f"{email}: {message}", fields={"email": [message]})
    return email


@transaction.atomic
def invitation_send(
    *,
    actor: User,
    organization: Organization,
    email: str,
    role: str,
    department: Department | None,
    site_url: str,
) -> SentInvitation:
    """Invite `email` into `organization` with `role` (an employee needs a department) and mail them the link.

    The mail is handed to the mail server inside the transaction: if it cannot be sent, no invitation
    is left behind that nobody received (the wait is bounded by EMAIL_TIMEOUT). `site_url` is the
    scheme and host the link starts with, as the admin's request saw them.
    """
    email = invitation_check(actor=actor, organization=organization, email=email, role=role, department=department)
    now = timezone.now()
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        role=role,
        department=department,
        invited_by=actor,
        created_at=now,
        expires_at=now + settings.INVITATION_TTL,
    )
    link = site_url.rstrip("/") + reverse(ACCEPT_URL_NAME, args=[invitation_token(invitation)])
    _administration_changed(actor=actor, action="invitation.sent", target=invitation, after=_state(invitation))
    try:
        send_mail(
            subject=f"You are invited to {organization.name} on LedgerX",
            message=(
                f"{actor.email} invited you to {organization.name} on LedgerX as "
                f"{Role(role).label.lower()}.\n\n"
                f"Open this link to set your password and sign in:\n{link}\n\n"
                f"The link works once, until {invitation.expires_at:%Y-%m-%d %H:%M} UTC."
            ),
            from_email=None,
            recipient_list=[email],
        )
    except OSError as error:  # SMTP refusals and timeouts are OSErrors (smtplib.SMTPException included)
        raise ServiceUnavailable(f"The invitation email could not be sent ({error}); nothing was saved.") from None
    return SentInvitation(invitation=invitation, link=link)


@transaction.atomic
def invitation_revoke(*, actor: User, invitation: Invitation) -> Invitation:
    """Withdraw an invitation not yet accepted: its link stops working."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if actor.role != Role.SYSTEM_ADMIN and actor.organization_id != invitation.organization_id:
        raise NotFound("Invitation not found.")
    if invitation.accepted_at is not None:
        raise Conflict(f"The invitation of {invitation.email} was already accepted.")
    if invitation.revoked_at is not None:
        return invitation
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    _administration_changed(
        actor=actor, action="invitation.revoked", target=invitation, after={"email": invitation.email}
    )
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, password: str) -> User:
    """Make the invitee's user with the password they chose; the link works once.

    The invitation's row is locked, so two submissions of the same link make one user. The user is
    made by user_create on the inviter's authority (audited as user.created by them); the acceptance
    is audited as the new user's own act.
    """
    invitation_id = _invitation_id(token)
    invitation = Invitation.objects.select_for_update().filter(id=invitation_id).first()
    if invitation is None:
        raise InvitationRefused("invalid")
    now = timezone.now()
    reason = _refusal(invitation, now)
    if reason is not None:
        raise InvitationRefused(reason)
    user = user_create(
        actor=invitation.invited_by,
        email=invitation.email,
        password=password,
        role=invitation.role,
        organization=invitation.organization,
        department_id=invitation.department_id,
    )
    invitation.accepted_at = now
    invitation.user = user
    invitation.save(update_fields=["accepted_at", "user"])
    _administration_changed(actor=user, action="invitation.accepted", target=invitation, after={"user": str(user.id)})
    return user
