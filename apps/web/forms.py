from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from apps.tenancy.login_guard import THROTTLED_MESSAGE


class ThrottleMessageMixin:
    """A throttled sign-in says so and how long to wait, instead of "wrong email or password"."""

    def get_invalid_login_error(self) -> ValidationError:
        wait = getattr(self.request, "login_retry_after", 0)
        if wait:
            return ValidationError(THROTTLED_MESSAGE.format(seconds=wait), code="throttled")
        return super().get_invalid_login_error()


class EmailLoginForm(ThrottleMessageMixin, AuthenticationForm):
    """Emails are stored in lower case; people type them as they like."""

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()


class BackOfficeLoginForm(ThrottleMessageMixin, AdminAuthenticationForm):
    pass
