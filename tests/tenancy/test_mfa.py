"""Second factors at the service level: the rule, TOTP with real codes, recovery codes, tokens, removal, reset."""

from base64 import b32encode
from io import StringIO

import pyotp
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.audit.models import PLATFORM_CHAIN, AuditEvent
from apps.tenancy import mfa, mfa_services, services
from apps.tenancy.models import ApiToken, LoginThrottle, Role
from ledgerx.errors import Forbidden
from tests.conftest import run_in_threads
from tests.factories import PASSWORD, UserFactory, recovery_code_for, totp_device_for

pytestmark = pytest.mark.django_db


def _authenticator(device: TOTPDevice) -> pyotp.TOTP:
    """The user's authenticator app: it knows only the base32 secret the enrollment page showed."""
    return pyotp.TOTP(b32encode(device.bin_key).decode(), interval=device.step, digits=device.digits)


def _wrong_code(right: str) -> str:
    return f"{(int(right) + 1) % 1_000_000:06d}"


def _after_the_wait(device) -> None:
    """django-otp makes a device wait after a failure (1 s, doubling): the tests skip the wait."""
    device.refresh_from_db()
    device.throttle_reset()


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def test_finance_managers_org_admins_and_system_admins_must_have_a_second_factor(tenant, system_admin):
    assert [mfa.mfa_required(user) for user in (tenant.employee, tenant.finance, tenant.admin, system_admin)] == [
        False,
        True,
        True,
        True,
    ]
    assert mfa.second_factor_gate(tenant.finance, verified=False) is mfa.Gate.ENROLL
    assert mfa.second_factor_gate(tenant.employee, verified=False) is None  # optional for employees


def test_anyone_with_a_second_factor_proves_it_and_a_verified_sign_in_goes_on(tenant):
    totp_device_for(tenant.employee)
    totp_device_for(tenant.finance)
    assert mfa.second_factor_gate(tenant.employee, verified=False) is mfa.Gate.VERIFY
    assert mfa.second_factor_gate(tenant.finance, verified=False) is mfa.Gate.VERIFY
    assert mfa.second_factor_gate(tenant.finance, verified=True) is None


def test_an_authenticator_app_is_confirmed_by_a_real_code_and_audited(tenant):
    device = mfa_services.totp_device_pending(user=tenant.finance)
    app = _authenticator(device)

    assert mfa_services.totp_confirm(user=tenant.finance, device_id=device.id, code=_wrong_code(app.now())) is None
    assert not mfa.has_second_factor(tenant.finance)
    _after_the_wait(device)
    confirmed = mfa_services.totp_confirm(user=tenant.finance, device_id=device.id, code=app.now())

    assert confirmed.confirmed and mfa.has_second_factor(tenant.finance)
    [event] = _events("mfa.device_added")
    assert (event.actor, event.target_id, event.organization_id) == (
        tenant.finance,
        str(tenant.finance.id),
        tenant.organization.id,
    )
    assert event.after == {"kind": "authenticator_app", "id": device.id}


def test_a_right_code_is_accepted_once_a_wrong_or_replayed_one_refused(tenant):
    device = totp_device_for(tenant.finance)
    TOTPDevice.objects.filter(id=device.id).update(last_t=-1)  # forget the code that confirmed it
    code = _authenticator(device).now()

    assert mfa_services.second_factor_verify(user=tenant.finance, code=_wrong_code(code)) is None
    _after_the_wait(device)
    assert mfa_services.second_factor_verify(user=tenant.finance, code=code) == device
    assert mfa_services.second_factor_verify(user=tenant.finance, code=code) is None  # replayed
    assert mfa_services.second_factor_verify(user=tenant.employee, code=code) is None  # not theirs


def test_a_recovery_code_works_once_and_its_use_is_audited(tenant):
    totp_device_for(tenant.finance)
    codes = mfa_services.recovery_codes_generate(user=tenant.finance)

    assert len(set(codes)) == mfa_services.RECOVERY_CODES
    assert mfa_services.second_factor_verify(user=tenant.finance, code=f" {codes[0].upper()} ") is not None
    assert mfa_services.second_factor_verify(user=tenant.finance, code=codes[0]) is None
    assert mfa.recovery_codes_left(tenant.finance) == mfa_services.RECOVERY_CODES - 1
    [used] = _events("mfa.recovery_code_used")
    assert used.after == {"left": mfa_services.RECOVERY_CODES - 1}


def test_new_recovery_codes_replace_the_old_ones(tenant):
    totp_device_for(tenant.finance)
    old = mfa_services.recovery_codes_generate(user=tenant.finance)
    new = mfa_services.recovery_codes_generate(user=tenant.finance)

    assert mfa_services.second_factor_verify(user=tenant.finance, code=old[0]) is None
    _after_the_wait(StaticDevice.objects.get(user=tenant.finance))
    assert mfa_services.second_factor_verify(user=tenant.finance, code=new[0]) is not None
    assert len(_events("mfa.recovery_codes_generated")) == 2


def test_recovery_codes_need_a_device_first(tenant):
    with pytest.raises(Forbidden):
        mfa_services.recovery_codes_generate(user=tenant.finance)


@pytest.mark.django_db(transaction=True)
def test_one_recovery_code_raced_by_four_sign_ins_lets_one_in(tenant):
    code = recovery_code_for(tenant.finance)
    results = run_in_threads(4, lambda index: mfa_services.second_factor_verify(user=tenant.finance, code=code))
    assert sum(result is not None for result in results) == 1


def test_a_token_for_a_role_that_must_have_a_second_factor_waits_for_enrollment(tenant):
    with pytest.raises(mfa_services.SecondFactorEnrollmentRequired):
        services.token_issue(email=tenant.finance.email, password=PASSWORD, client_ip="127.0.0.1")
    assert not ApiToken.objects.filter(user=tenant.finance).exists()


def test_a_token_needs_the_second_factor_and_a_wrong_code_counts_as_a_failed_sign_in(tenant):
    device = totp_device_for(tenant.admin)
    TOTPDevice.objects.filter(id=device.id).update(last_t=-1)

    with pytest.raises(mfa_services.SecondFactorRequired) as missing:
        services.token_issue(email=tenant.admin.email, password=PASSWORD, client_ip="127.0.0.1")
    assert missing.value.status == 401 and "otp_code" in missing.value.fields
    with pytest.raises(mfa_services.SecondFactorRequired):
        services.token_issue(email=tenant.admin.email, password=PASSWORD, client_ip="127.0.0.1", otp_code="12345x")
    assert LoginThrottle.objects.filter(failures__gt=0).exists()
    _after_the_wait(device)

    key, user = services.token_issue(
        email=tenant.admin.email, password=PASSWORD, client_ip="127.0.0.1", otp_code=_authenticator(device).now()
    )
    assert user == tenant.admin and key


def test_an_employee_gets_a_token_without_a_second_factor_until_they_enroll(tenant):
    services.token_issue(email=tenant.employee.email, password=PASSWORD, client_ip="127.0.0.1")
    totp_device_for(tenant.employee)
    with pytest.raises(mfa_services.SecondFactorRequired):
        services.token_issue(email=tenant.employee.email, password=PASSWORD, client_ip="127.0.0.1")


def test_removing_the_last_device_takes_the_recovery_codes_and_is_audited(tenant):
    device = totp_device_for(tenant.employee)
    mfa_services.recovery_codes_generate(user=tenant.employee)

    mfa_services.device_remove(user=tenant.employee, kind="authenticator_app", device_id=device.id)

    assert not mfa.has_second_factor(tenant.employee)
    assert not StaticDevice.objects.filter(user=tenant.employee).exists()
    [event] = _events("mfa.device_removed")
    assert event.after == {"kind": "authenticator_app", "id": device.id}


def test_a_device_of_someone_else_cannot_be_removed(tenant):
    device = totp_device_for(tenant.finance)
    with pytest.raises(mfa_services.NotFound):
        mfa_services.device_remove(user=tenant.employee, kind="authenticator_app", device_id=device.id)
    assert mfa.has_second_factor(tenant.finance)


def test_break_glass_reset_removes_every_factor_ends_sessions_and_says_why(tenant):
    device = totp_device_for(tenant.finance)
    mfa_services.recovery_codes_generate(user=tenant.finance)
    services.token_issue(
        email=tenant.finance.email,
        password=PASSWORD,
        client_ip="127.0.0.1",
        otp_code=recovery_code_for(tenant.finance),
    )
    generation = tenant.finance.session_generation

    with pytest.raises(Forbidden):
        mfa_services.second_factors_reset(actor=tenant.finance, user=tenant.finance, reason="lost phone")
    removed = mfa_services.second_factors_reset(actor=tenant.admin, user=tenant.finance, reason="Lost phone")

    tenant.finance.refresh_from_db()
    assert removed == 2  # the authenticator app and the recovery codes
    assert not TOTPDevice.objects.filter(id=device.id).exists()
    assert mfa.second_factor_gate(tenant.finance, verified=False) is mfa.Gate.ENROLL
    assert tenant.finance.session_generation == generation + 1
    assert ApiToken.objects.get(user=tenant.finance).revoked_at <= timezone.now()
    [event] = _events("mfa.reset")
    assert (event.actor, event.after) == (tenant.admin, {"devices_removed": 2, "reason": "Lost phone"})


def test_a_system_admins_factors_are_audited_on_the_platform(db):
    root = UserFactory(role=Role.SYSTEM_ADMIN, email="root@example.com")
    totp_device_for(root)
    [event] = _events("mfa.device_added")
    assert event.organization_id == PLATFORM_CHAIN


def test_only_an_org_admin_of_the_users_organization_or_a_system_admin_resets(tenant, other_tenant, system_admin):
    totp_device_for(tenant.finance)
    for actor in (tenant.employee, other_tenant.admin):
        with pytest.raises(Forbidden):
            mfa_services.second_factors_reset(actor=actor, user=tenant.finance, reason="Lost phone")
    assert mfa_services.second_factors_reset(actor=system_admin, user=tenant.finance, reason="Lost phone") == 1


def test_the_break_glass_command_resets_and_is_audited(tenant):
    totp_device_for(tenant.admin)
    out = StringIO()
    call_command("reset_second_factors", tenant.admin.email, "--reason", "Ticket 42: lost phone", stdout=out)

    assert "Removed 1 second factor" in out.getvalue()
    assert mfa.second_factor_gate(tenant.admin, verified=False) is mfa.Gate.ENROLL
    [event] = _events("mfa.reset")
    assert (event.actor, event.after["reason"]) == (None, "Ticket 42: lost phone")
    with pytest.raises(CommandError):
        call_command("reset_second_factors", tenant.finance.email, "--reason", "x", "--as", tenant.employee.email)
