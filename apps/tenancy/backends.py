from django.contrib.auth.backends import ModelBackend

from . import login_guard


class LockoutModelBackend(ModelBackend):
    """Email and password, refused while the email is locked out, with every failure counted.

    Being the authentication backend, it guards every way in: the API token endpoint, the
    browser login page and the Django admin's login form.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        email = (username if username is not None else kwargs.get("email")) or ""
        email = email.strip().lower()
        if not email or password is None or login_guard.login_is_locked(email=email):
            return None
        user = super().authenticate(request, username=email, password=password)
        if user is None:
            login_guard.login_failure_record(email=email)
        else:
            login_guard.login_failures_clear(email=email)
        return user
