"""The SSO sign-in pages: the email step that finds the organization, SAML's request and assertion
consumer (djangosaml2's views, per organization), and OpenID Connect's (oidc.py)."""

from datetime import UTC, datetime, timedelta

from django import forms
from django.contrib import auth
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from djangosaml2 import views as saml_views
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS

from . import selectors, services
from .models import SsoConfiguration

LOGIN_BACKEND = "apps.sso.backends.SsoAwarePasswordBackend"
# Where a SAML provider may put the email when the NameID is not one.
EMAIL_ATTRIBUTES = ("email", "mail", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress")


class SsoEmailForm(forms.Form):
    email = forms.EmailField(label="Work email")


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return ""


def sso_start(request):
    """ "Sign in with SSO": the email's domain names the organization, whose provider signs the user in."""
    form = SsoEmailForm(request.POST or None)
    next_url = _safe_next(request)
    if request.method == "POST" and form.is_valid():
        configuration = selectors.configuration_for_email(form.cleaned_data["email"])
        if configuration is not None:
            name = "sso-saml-login" if configuration.protocol == SsoConfiguration.Protocol.SAML else "sso-oidc-login"
            query = urlencode({"next": next_url}) if next_url else ""
            url = reverse(name, args=[configuration.organization.slug])
            return redirect(f"{url}?{query}" if query else url)
        form.add_error(
            "email", f"No single sign-on is set up for {selectors.email_domain(form.cleaned_data['email'])}."
        )
    status = 400 if request.method == "POST" else 200
    return render(
        request, "sso/start.html", {"form": form, "next": next_url, "page_title": "Sign in with SSO"}, status=status
    )


def refused(request, message: str, status: int = 403):
    return render(request, "sso/refused.html", {"message": message, "page_title": "Sign-in refused"}, status=status)


class SamlLogin(saml_views.LoginView):
    pass


class SamlAssertionConsumer(saml_views.AssertionConsumerServiceView):
    """djangosaml2's assertion consumer, with our sign-in: the assertion is accepted once, its email must
    be in the organization's domains, and a new user gets the role its groups map to."""

    def configuration(self) -> SsoConfiguration:
        return selectors.configuration_for_slug(self.kwargs["slug"], protocol=SsoConfiguration.Protocol.SAML)

    def custom_validation(self, response) -> None:
        # Kept until the assertion's own end; one without an end is kept for a day.
        expires_at = (
            datetime.fromtimestamp(response.not_on_or_after, tz=UTC)
            if response.not_on_or_after
            else timezone.now() + timedelta(days=1)
        )
        services.assertion_use_record(
            configuration=self.configuration(), assertion_id=response.assertion.id, expires_at=expires_at
        )

    def handle_acs_failure(self, request, exception=None, status=403, **kwargs):
        message = (
            str(exception) if isinstance(exception, PermissionDenied) else "The identity provider's answer was refused."
        )
        return refused(request, message, status=status)

    def post(self, request, *args, **kwargs):
        return super().post(request)

    def authenticate_user(self, request, session_info, attribute_mapping, create_unknown_user, assertion_info):
        attributes = session_info.get("ava", {})
        name_id = session_info.get("name_id")
        email = name_id.text if name_id is not None and name_id.format == NAMEID_FORMAT_EMAILADDRESS else ""
        for name in EMAIL_ATTRIBUTES:
            if not email and attributes.get(name):
                email = attributes[name][0]
        configuration = self.configuration()
        groups = [str(group) for group in attributes.get(configuration.groups_attribute, [])]
        try:
            user = services.sso_sign_in(configuration=configuration, email=email, groups=groups, source="saml")
        except services.SsoRefused as error:
            raise PermissionDenied(str(error)) from None
        auth.login(request, user, backend=LOGIN_BACKEND)
        return user


class SamlMetadata(saml_views.MetadataView):
    pass
