from rest_framework import authentication, exceptions

from . import selectors


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <key>` or `Bearer <key>`."""

    keywords = ("token", "bearer")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header.")
        user = selectors.user_for_token(key=header[1])
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid or expired token.")
        return user, header[1]

    def authenticate_header(self, request) -> str:
        return 'Token realm="api"'
