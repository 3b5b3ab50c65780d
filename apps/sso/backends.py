from django.core.exceptions import PermissionDenied

from apps.tenancy.backends import ThrottledModelBackend
from apps.tenancy.models import Role

from . import selectors, services

SSO_REQUIRED_MESSAGE = "Your organization signs in with single sign-on: use “Sign in with SSO”."


class SsoAwarePasswordBackend(ThrottledModelBackend):
    """Email and password, throttled, refused for users whose organization requires SSO.

    The password is checked first, so the answer to a wrong password is the usual one. Org admins keep
    password sign-in (and their second factor) as the break-glass way in; each such sign-in is audited.
    Being the authentication backend, this covers the sign-in page, the back office's and API tokens.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            return None
        if not selectors.password_sign_in_allowed(user):
            if request is not None:
                request.sso_required_message = SSO_REQUIRED_MESSAGE
            raise PermissionDenied(SSO_REQUIRED_MESSAGE)
        if user.role == Role.ORG_ADMIN and selectors.sso_required_for(user):
            services.break_glass_sign_in_record(user=user)
        return user
