from dataclasses import dataclass

from rest_framework import authentication, exceptions

from . import selectors
from .models import ScimToken


@dataclass(frozen=True)
class ScimClient:
    """Who a SCIM request is from: an organization's provisioning client, by its token. Not a user."""

    token: ScimToken
    is_authenticated: bool = True

    @property
    def organization(self):
        return self.token.organization


class ScimTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <key>`, a key issued by scim_token_issue. Read from the database on every
    request (SCIM traffic is light), so a revoked token stops at once."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() != "bearer":
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid bearer token header.")
        token = selectors.scim_token_for_key(key=header[1])
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked SCIM token.")
        return ScimClient(token), token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="scim"'
