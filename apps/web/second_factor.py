"""The second-factor rule (apps/tenancy/mfa.py) applied to every page, the back office and the API.

A signed-in user whose gate is closed reaches only what opens it: enrolling (a role that must have a
second factor and has none) or proving one (anyone who has one), and signing out. A page asks again
after the step; an API call with the session answers 403 in the API's error shape. A call with an
API token is let through to DRF's token authentication: the token was issued only after the second
factor (apps/tenancy/services.py, token_issue).
"""

from collections.abc import Callable
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse

from apps.tenancy import mfa
from ledgerx.errors import error_body

_WEBAUTHN_SCRIPTS = "otp_webauthn:js-i18n-catalog"
# The installable app's files hold no one's data; a browser fetches them whatever the session's state.
_APP_FILES = {"pwa-manifest", "pwa-service-worker", "pwa-offline"}
OPEN_WHILE_GATED = {
    mfa.Gate.ENROLL: {
        "mfa-settings",
        "mfa-totp",
        "logout",
        "otp_webauthn:credential-registration-begin",
        "otp_webauthn:credential-registration-complete",
        _WEBAUTHN_SCRIPTS,
        *_APP_FILES,
    },
    mfa.Gate.VERIFY: {
        "mfa-verify",
        "logout",
        "otp_webauthn:credential-authentication-begin",
        "otp_webauthn:credential-authentication-complete",
        _WEBAUTHN_SCRIPTS,
        *_APP_FILES,
    },
}
GATE_PAGES = {mfa.Gate.ENROLL: "mfa-settings", mfa.Gate.VERIFY: "mfa-verify"}
API_REFUSALS = {
    mfa.Gate.ENROLL: (
        "second_factor_enrollment_required",
        "Your role signs in with a second factor: set one up under Sign-in security first.",
    ),
    mfa.Gate.VERIFY: ("second_factor_required", "Prove your second factor under Sign-in security first."),
}


def _uses_api_token(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/") and "HTTP_AUTHORIZATION" in request.META


def _view_name(request: HttpRequest) -> str:
    try:
        return resolve(request.path_info).view_name
    except Resolver404:
        return ""


def second_factor_gate(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        gate = None if _uses_api_token(request) else mfa.request_gate(request)
        if gate is None or _view_name(request) in OPEN_WHILE_GATED[gate]:
            return get_response(request)
        if request.path_info.startswith("/api/"):
            code, message = API_REFUSALS[gate]
            return JsonResponse(error_body(code, message), status=403)
        return redirect(f"{reverse(GATE_PAGES[gate])}?{urlencode({'next': request.get_full_path()})}")

    return middleware


def back_office_permission(request: HttpRequest) -> bool:
    """The back office's own check (admin.site.has_permission) honours the rule too, should a path ever
    skip the middleware."""
    user = request.user
    return user.is_active and user.is_staff and mfa.request_gate(request) is None
