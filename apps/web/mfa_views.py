"""Sign-in security: enrolling second factors, proving one after the password, managing them.

The rule of who must is apps/tenancy/mfa.py, applied by second_factor.py; the writes are
apps/tenancy/mfa_services.py. Passkeys go through the django-otp WebAuthn plugin's ceremony views,
mounted under /mfa/webauthn/, registration through the subclass below so that it is audited.
"""

import json
from base64 import b32encode

import qrcode
import qrcode.image.svg
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp_webauthn.models import WebAuthnCredential
from django_otp_webauthn.views import CompleteCredentialRegistrationView

from apps.tenancy import mfa, mfa_services
from ledgerx.errors import LedgerXError, NotFound

from .access import landing_url, navigation
from .forms import SecondFactorCodeForm


def _next_url(request) -> str:
    """Where the step was asked from, if it is ours to send them back to."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return ""


def _page(request, template: str, title: str, context: dict, status: int = 200):
    gated = mfa.request_gate(request) is not None
    return render(
        request,
        template,
        {
            **context,
            "navigation": [] if gated else navigation(request.user, "mfa-settings"),
            "page_title": title,
            "next": _next_url(request),
        },
        status=status,
    )


@login_required
def mfa_settings(request):
    user = request.user
    context = {
        "required": mfa.mfa_required(user),
        "enrolled": mfa.has_second_factor(user),
        "totp_devices": mfa.totp_devices(user),
        "passkeys": mfa.passkeys(user),
        "recovery_codes_left": mfa.recovery_codes_left(user),
    }
    return _page(request, "web/mfa_settings.html", "Sign-in security", context)


def _qr_svg(text: str) -> str:
    """The QR code as inline SVG, drawn here: no image service sees the secret."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return image.to_string(encoding="unicode")


@login_required
def mfa_totp(request):
    """Set up an authenticator app: scan the code (or type the secret), then prove it with a code."""
    device = mfa_services.totp_device_pending(user=request.user)
    form = SecondFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        confirmed = mfa_services.totp_confirm(user=request.user, device_id=device.id, code=form.cleaned_data["code"])
        if confirmed is not None:
            otp_login(request, confirmed)
            if mfa.recovery_codes_left(request.user) == 0:
                return _recovery_codes_page(request)
            return redirect(_next_url(request) or "mfa-settings")
        form.add_error("code", "That code is not right: type the one the app shows now.")
    secret = b32encode(device.bin_key).decode()
    # The SVG is drawn here by qrcode from the device's own URL: no input of the visitor is in it.
    qr_svg = mark_safe(_qr_svg(device.config_url))  # noqa: S308
    context = {"form": form, "qr_svg": qr_svg, "secret": secret}
    return _page(request, "web/mfa_totp.html", "Set up an authenticator app", context, 400 if form.errors else 200)


def _recovery_codes_page(request):
    codes = mfa_services.recovery_codes_generate(user=request.user)
    return _page(request, "web/mfa_recovery_codes.html", "Your recovery codes", {"codes": codes})


@login_required
@require_POST
def mfa_recovery_codes(request):
    """New recovery codes, shown this once; the old ones stop working."""
    try:
        return _recovery_codes_page(request)
    except LedgerXError:
        return redirect("mfa-settings")


@login_required
def mfa_verify(request):
    """The step after the password: a code, a recovery code, or a passkey (through the plugin's views)."""
    if request.user.is_verified():
        return redirect(_next_url(request) or landing_url(request.user))
    form = SecondFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = mfa_services.second_factor_verify(user=request.user, code=form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            return redirect(_next_url(request) or landing_url(request.user))
        form.add_error("code", "That code is not right, or was used already.")
    context = {"form": form, "has_passkey": mfa.passkeys(request.user).exists()}
    return _page(request, "web/mfa_verify.html", "Prove it is you", context, 400 if form.errors else 200)


@login_required
@require_POST
def mfa_device_remove(request, kind: str, device_id: int):
    try:
        mfa_services.device_remove(user=request.user, kind=kind, device_id=device_id)
    except NotFound:
        raise Http404 from None
    return redirect("mfa-settings")


class PasskeyRegistrationComplete(CompleteCredentialRegistrationView):
    """The plugin's registration, audited once the credential is stored."""

    def post(self, *args, **kwargs):
        response = super().post(*args, **kwargs)
        if response.status_code == 200:
            credential = WebAuthnCredential.objects.get(pk=json.loads(response.content)["id"], user=self.request.user)
            mfa_services.passkey_registered(user=self.request.user, credential=credential)
        return response
