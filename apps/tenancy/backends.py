from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from ledgerx.ratelimit import client_ip as request_client_ip

from . import login_guard


class ThrottledModelBackend(ModelBackend):
    """Email and password, asked of the sign-in throttle first, with every failure counted.

    Being the authentication backend, it guards every way in: the API token endpoint, the browser
    sign-in page and the Django admin's. A throttled attempt hashes nothing: it stops authentication
    (PermissionDenied) and leaves the wait on the request for the page to show (429, Retry-After).
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        email = (username if username is not None else kwargs.get("email")) or ""
        email = email.strip().lower()
        if not email or password is None:
            return None
        client_ip = kwargs.get("client_ip") or (request_client_ip(request) if request is not None else "")
        wait = login_guard.login_throttle_wait(email=email, client_ip=client_ip)
        if wait:
            if request is not None:
                request.login_retry_after = wait
            raise PermissionDenied(login_guard.THROTTLED_MESSAGE.format(seconds=wait))
        user = super().authenticate(request, username=email, password=password)
        if user is None:
            login_guard.login_failure_record(email=email, client_ip=client_ip)
        else:
            login_guard.login_success_record(email=email, client_ip=client_ip)
        return user
