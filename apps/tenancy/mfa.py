"""Second factors: the rule of who must prove one, and what a user has.

The devices are django-otp's: an authenticator app (TOTP, otp_totp), passkeys (django_otp_webauthn's
WebAuthnCredential, a django-otp device) and recovery codes (otp_static, one device per user).
Recovery codes stand in for a lost device; alone they are no enrollment. django-otp marks a session
verified (request.user.is_verified()) once a device proves itself in it.

The rule, in `second_factor_gate`: a user with a second factor proves it after every password
sign-in, whatever their role; finance managers, org admins and system admins must have one, and
until they do they may only enroll. Employees may enroll if they wish.
"""

from enum import StrEnum

from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from .models import Role, User

MFA_REQUIRED_ROLES = (Role.FINANCE_MANAGER, Role.ORG_ADMIN, Role.SYSTEM_ADMIN)
RECOVERY_DEVICE_NAME = "Recovery codes"


class Gate(StrEnum):
    """What a signed-in user must do before anything else."""

    ENROLL = "enroll"
    VERIFY = "verify"


def mfa_required(user: User) -> bool:
    return user.role in MFA_REQUIRED_ROLES


def has_second_factor(user: User) -> bool:
    """An authenticator app or a passkey, confirmed."""
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()
    )


def second_factor_gate(user: User, *, verified: bool) -> Gate | None:
    """None when `user` may go on; otherwise whether they must first enroll or verify.

    `verified`: whether this sign-in already proved a second factor.
    """
    if verified or not user.is_authenticated:
        return None
    if has_second_factor(user):
        return Gate.VERIFY
    if mfa_required(user):
        return Gate.ENROLL
    return None


def request_gate(request) -> Gate | None:
    """The gate for a request signed in with a session (django-otp's middleware has run)."""
    user = request.user
    if not user.is_authenticated:
        return None
    return second_factor_gate(user, verified=user.is_verified())


def totp_devices(user: User):
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("created_at", "id")


def passkeys(user: User):
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("created_at", "id")


def recovery_codes_left(user: User) -> int:
    device = StaticDevice.objects.filter(user=user, name=RECOVERY_DEVICE_NAME).first()
    return device.token_set.count() if device is not None else 0

