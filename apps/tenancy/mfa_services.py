"""Enrolling, proving and removing second factors (the rule is in mfa.py). Every change is audited.

The one writer of django-otp's TOTP and recovery-code tables; passkeys are written by the WebAuthn
plugin's registration ceremony (its views verify the authenticator's answer), and removed here.
"""

from django.db import transaction
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from ledgerx.errors import Forbidden, LedgerXError, NotFound, Unauthenticated

# services calls this module for the token endpoint, and this one calls it to end sessions: a module
# import, read at call time, lets each load first.
from . import mfa, services
from .models import Role, User
from .signals import administration_changed

RECOVERY_CODES = 10
TOTP_DEVICE_NAME = "Authenticator app"
TOTP_DIGITS = 6  # django-otp's TOTPDevice default, which enrollment keeps


class SecondFactorRequired(Unauthenticated):
    code = "second_factor_required"


class SecondFactorEnrollmentRequired(Forbidden):
    code = "second_factor_enrollment_required"


def _audit(*, actor: User | None, action: str, user: User, after: dict | None = None) -> None:
    administration_changed.send(sender=User, actor=actor, action=action, target=user, before=None, after=after)


def device_kind(device: Device) -> str:
    if isinstance(device, TOTPDevice):
        return "authenticator_app"
    if isinstance(device, WebAuthnCredential):
        return "passkey"
    return "recovery_codes"


def totp_device_pending(*, user: User) -> TOTPDevice:
    """The authenticator app being set up: its secret is shown until a code from it confirms it."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


@transaction.atomic
def totp_confirm(*, user: User, device_id: int, code: str) -> TOTPDevice | None:
    """Confirm the pending authenticator app with a code it shows; None if the code is not right."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, id=device_id, confirmed=False).first()
    if device is None:
        raise NotFound("No authenticator app is being set up.")
    if not device.verify_token(code.strip()):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    _audit(actor=user, action="mfa.device_added", user=user, after={"kind": device_kind(device), "id": device.id})
    return device


def passkey_registered(*, user: User, credential: WebAuthnCredential) -> None:
    """Audit a passkey the plugin's registration ceremony has just stored."""
    with transaction.atomic():
        _audit(actor=user, action="mfa.device_added", user=user, after={"kind": "passkey", "id": credential.id})


@transaction.atomic
def recovery_codes_generate(*, user: User) -> list[str]:
    """A new set of recovery codes, replacing any left: shown to the user once, stored as django-otp keeps them."""
    if not mfa.has_second_factor(user):
        raise Forbidden("Set up an authenticator app or a passkey first.")
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=mfa.RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    _audit(actor=user, action="mfa.recovery_codes_generated", user=user, after={"count": len(codes)})
    return codes


@transaction.atomic
def second_factor_verify(*, user: User, code: str) -> Device | None:
    """The device a code proves for `user` (an authenticator app's code, or a recovery code, used up), or None.

    Each device row is locked while it checks, so a code is accepted once however many requests race
    with it: a TOTP code is refused again in its time step, a recovery code once deleted is gone.
    Failures slow the device down (django-otp's throttling).
    """
    code = "".join(code.split()).lower()
    if not code:
        return None
    # An authenticator's code is six digits; a recovery code eight letters and digits (django-otp's tokens).
    if code.isdigit() and len(code) == TOTP_DIGITS:
        for device in TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("id"):
            if device.verify_token(code):
                return device
        return None
    device = StaticDevice.objects.select_for_update().filter(user=user, name=mfa.RECOVERY_DEVICE_NAME).first()
    if device is None or not device.verify_is_allowed()[0]:
        return None
    used, _ = StaticToken.objects.filter(device=device, token=code).delete()
    if not used:
        device.throttle_increment()
        return None
    device.throttle_reset()
    _audit(
        actor=user,
        action="mfa.recovery_code_used",
        user=user,
        after={"left": StaticToken.objects.filter(device=device).count()},
    )
    return device


def password_login_second_factor(*, user: User, code: str | None) -> Device | None:
    """After a right password outside the browser (the token endpoint): the second factor the user owes.

    None when they owe none; the device a right code proved; else a refusal that says what is missing.
    """
    gate = mfa.second_factor_gate(user, verified=False)
    if gate is None:
        return None
    if gate is mfa.Gate.ENROLL:
        raise SecondFactorEnrollmentRequired(
            "Your role signs in with a second factor: set one up in the browser (Sign-in security) first."
        )
    if not code:
        raise SecondFactorRequired(
            "This account signs in with a second factor: send otp_code, from the authenticator app or a recovery code.",
            fields={"otp_code": ["Required for this account."]},
        )
    device = second_factor_verify(user=user, code=code)
    if device is None:
        raise SecondFactorRequired("The second factor code is not right.", fields={"otp_code": ["Not right."]})
    return device


def _owned_device(*, user: User, kind: str, device_id: int) -> Device:
    model = {"authenticator_app": TOTPDevice, "passkey": WebAuthnCredential}.get(kind)
    device = model.objects.filter(user=user, id=device_id, confirmed=True).first() if model else None
    if device is None:
        raise NotFound("No such device.")
    return device


@transaction.atomic
def device_remove(*, user: User, kind: str, device_id: int) -> None:
    """Remove one of the user's own devices. The last one goes with the recovery codes (they stand in for
    a device, never alone); a role that must have a second factor is sent to enroll again."""
    device = _owned_device(user=user, kind=kind, device_id=device_id)
    device.delete()
    if not mfa.has_second_factor(user):
        StaticDevice.objects.filter(user=user).delete()
    _audit(actor=user, action="mfa.device_removed", user=user, after={"kind": kind, "id": device_id})


@transaction.atomic
def second_factors_reset(*, actor: User | None, user: User, reason: str) -> int:
    """Break glass: remove every second factor of a user who lost theirs, and end their sessions and
    tokens. They sign in with their password and enroll again. Returns how many devices went.

    `actor`: an org admin of the user's organization or a system admin; None when the platform acts
    (the `reset_second_factors` command without --as, for the last admin who lost their device).
    """
    if not reason.strip():
        raise LedgerXError("Say why the second factors are reset.")
    if actor is not None and actor.pk == user.pk:
        raise Forbidden("Another administrator resets your second factors.")
    own_admin = actor is not None and actor.role == Role.ORG_ADMIN and actor.organization_id == user.organization_id
    if actor is not None and not (own_admin or actor.role == Role.SYSTEM_ADMIN):
        raise Forbidden("Only an org admin of the user's organization, or a system admin, resets second factors.")
    removed = 0
    for model in (TOTPDevice, WebAuthnCredential, StaticDevice):
        removed += model.objects.filter(user=user).delete()[1].get(model._meta.label, 0)
    services.user_sign_out_everywhere(user=user)
    _audit(actor=actor, action="mfa.reset", user=user, after={"devices_removed": removed, "reason": reason.strip()})
    return removed
