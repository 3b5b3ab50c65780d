"""OpenID Connect through mozilla-django-oidc, per organization: its authorization request, and a
backend that exchanges the code, checks the ID token's signature (the issuer's JWKS, RS256 only),
issuer, audience, expiry and nonce, then signs in through services.sso_sign_in.

The library reads its settings from Django's; here each organization's come from its row. Every
organization shares one callback URL (the one registered with each provider), and the state, which
the library keeps in the session, names the organization the flow was started for.
"""

from urllib.parse import parse_qs, urlsplit

import jwt
import requests
from django.contrib import auth
from django.core.exceptions import SuspiciousOperation
from django.http import Http404
from django.shortcuts import redirect
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from . import selectors, services
from .models import SsoConfiguration
from .views import LOGIN_BACKEND, refused

SIGNING_ALGORITHM = "RS256"
# The session key mapping each state in flight to the organization it was started for.
STATES_KEY = "sso_oidc_states"


def _library_settings(configuration: SsoConfiguration | None) -> dict:
    if configuration is None:
        return {
            "OIDC_OP_AUTHORIZATION_ENDPOINT": "",
            "OIDC_OP_TOKEN_ENDPOINT": "",
            "OIDC_OP_USER_ENDPOINT": "",
            "OIDC_OP_JWKS_ENDPOINT": "",
            "OIDC_RP_CLIENT_ID": "",
            "OIDC_RP_CLIENT_SECRET": "",
            "OIDC_RP_SIGN_ALGO": SIGNING_ALGORITHM,
        }
    return {
        "OIDC_OP_AUTHORIZATION_ENDPOINT": configuration.oidc_authorization_endpoint,
        "OIDC_OP_TOKEN_ENDPOINT": configuration.oidc_token_endpoint,
        "OIDC_OP_USER_ENDPOINT": configuration.oidc_userinfo_endpoint,
        "OIDC_OP_JWKS_ENDPOINT": configuration.oidc_jwks_uri,
        "OIDC_RP_CLIENT_ID": configuration.oidc_client_id,
        "OIDC_RP_CLIENT_SECRET": configuration.oidc_client_secret,
        "OIDC_RP_SIGN_ALGO": SIGNING_ALGORITHM,
        "OIDC_RP_SCOPES": "openid email profile",
        "OIDC_USE_NONCE": True,
        "OIDC_USE_PKCE": True,
        "OIDC_AUTHENTICATION_CALLBACK_URL": "sso-oidc-callback",
        "OIDC_TIMEOUT": 10,
    }


class _OrganizationSettings:
    library_settings: dict = _library_settings(None)

    def get_settings(self, attr, *args):
        if attr in self.library_settings:
            return self.library_settings[attr]
        return import_from_settings(attr, *args)


class OidcLogin(_OrganizationSettings, OIDCAuthenticationRequestView):
    def get(self, request, slug: str):
        configuration = selectors.configuration_for_slug(slug, protocol=SsoConfiguration.Protocol.OIDC)
        if configuration is None:
            raise Http404("No OpenID Connect sign-on for this organization.")
        self.library_settings = _library_settings(configuration)
        self.OIDC_OP_AUTH_ENDPOINT = configuration.oidc_authorization_endpoint
        self.OIDC_RP_CLIENT_ID = configuration.oidc_client_id
        response = super().get(request)
        state = _query_value(response["Location"], "state")
        request.session[STATES_KEY] = {**request.session.get(STATES_KEY, {}), state: slug}
        return response


def _query_value(url: str, name: str) -> str:
    return parse_qs(urlsplit(url).query)[name][0]


class OrganizationOidcBackend(_OrganizationSettings, OIDCAuthenticationBackend):
    """Used for one sign-in, never listed in AUTHENTICATION_BACKENDS: a password sign-in never reaches it."""

    def __init__(self, configuration: SsoConfiguration) -> None:
        self.configuration = configuration
        self.library_settings = _library_settings(configuration)
        super().__init__()

    def retrieve_matching_jwk(self, token):
        """The provider's signing key: the one named by the token's `kid`, or, for a token without one
        (some providers sign with a single key and omit it), the only RSA key the JWKS holds."""
        response = requests.get(self.configuration.oidc_jwks_uri, timeout=self.get_settings("OIDC_TIMEOUT"))
        response.raise_for_status()
        keys = [
            key for key in response.json().get("keys", []) if key.get("kty") == "RSA" and key.get("use", "sig") == "sig"
        ]
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise SuspiciousOperation("The ID token is malformed.") from None
        matching = [key for key in keys if key.get("kid") == kid] if kid else keys
        if len(matching) != 1:
            raise SuspiciousOperation("No single signing key of the provider matches the ID token.")
        return jwt.PyJWK(matching[0])

    def get_payload_data(self, token, key):
        """The library checks the signature but neither the audience nor the issuer: here all of them."""
        try:
            if jwt.get_unverified_header(token).get("alg") != SIGNING_ALGORITHM:
                raise SuspiciousOperation("The ID token is not signed with RS256.")
            return jwt.decode(
                token,
                key,
                algorithms=[SIGNING_ALGORITHM],
                audience=self.configuration.oidc_client_id,
                issuer=self.configuration.oidc_issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as error:
            raise SuspiciousOperation(f"The ID token was refused: {error}.") from None

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        if claims.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("The user info is of another subject than the ID token.")
        if claims.get("email_verified") is False:
            raise services.SsoRefused("The identity provider has not verified this email address.")
        groups = (
            claims.get(self.configuration.groups_attribute) or payload.get(self.configuration.groups_attribute) or []
        )
        return services.sso_sign_in(
            configuration=self.configuration,
            email=str(claims.get("email") or payload.get("email") or ""),
            groups=[str(group) for group in groups] if isinstance(groups, list) else [str(groups)],
            source="oidc",
        )


def oidc_callback(request):
    """The provider's answer: the state must be one this session started, used once; then the code is
    exchanged and the ID token checked by the organization's backend."""
    state = request.GET.get("state", "")
    slug = request.session.get(STATES_KEY, {}).pop(state, None)
    library_state = request.session.get("oidc_states", {}).pop(state, None)
    request.session.modified = True
    if slug is None or library_state is None:
        return refused(request, "This sign-in was not started here, or was already used.", status=400)
    if request.GET.get("error"):
        return refused(request, f"The identity provider refused: {request.GET['error']}.")
    configuration = selectors.configuration_for_slug(slug, protocol=SsoConfiguration.Protocol.OIDC)
    if configuration is None:
        return refused(request, "Single sign-on is off for this organization.")
    backend = OrganizationOidcBackend(configuration)
    try:
        user = backend.authenticate(
            request, nonce=library_state["nonce"], code_verifier=library_state.get("code_verifier")
        )
    except services.SsoRefused as error:
        return refused(request, str(error))
    except requests.HTTPError:
        return refused(request, "The identity provider refused the sign-in code.")
    except requests.RequestException:
        return refused(request, "The identity provider did not answer the code exchange.", status=502)
    except SuspiciousOperation as error:
        return refused(request, str(error))
    if user is None or not user.is_active:
        return refused(request, "The identity provider's answer was refused.")
    next_url = request.session.pop("oidc_login_next", None) or "/"
    auth.login(request, user, backend=LOGIN_BACKEND)
    return redirect(next_url)
