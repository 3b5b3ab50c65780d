import uuid

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from apps.tenancy.login_guard import THROTTLED_MESSAGE


class ThrottleMessageMixin:
    """A throttled sign-in says so and how long to wait, and one refused because the organization requires
    SSO says to use it, instead of "wrong email or password"."""

    def get_invalid_login_error(self) -> ValidationError:
        sso_required = getattr(self.request, "sso_required_message", "")
        if sso_required:
            return ValidationError(sso_required, code="sso_required")
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


class ClaimForm(forms.Form):
    """The employee's "Claim an expense" form; the claim service checks every field again.

    `request_id` is made with the page and sent back as the claim's Idempotency-Key, so submitting the
    same page twice makes one claim.
    """

    # Labels of their own: the page's spend form has an Amount, a Merchant and a Category too.
    request_id = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)
    amount = forms.CharField(label="Amount paid", max_length=40, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    merchant = forms.CharField(label="Paid to", max_length=200)
    category = forms.CharField(label="Kind of expense", max_length=64)
    incurred_on = forms.DateField(label="Date of purchase", widget=forms.DateInput(attrs={"type": "date"}))
    description = forms.CharField(
        label="What it was for", max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    # accept= lets a phone offer its camera as well as its files (capture= would rule out a PDF).
    receipt = forms.FileField(
        label="Receipt", required=False, widget=forms.ClearableFileInput(attrs={"accept": "image/*,application/pdf"})
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, auto_id="claim-%s", **kwargs)


class SecondFactorCodeForm(forms.Form):
    """A code from the authenticator app, or (on the sign-in step) a recovery code."""

    code = forms.CharField(
        label="Code",
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "off", "spellcheck": "false"}),
    )


class InvitationAcceptForm(forms.Form):
    """The invitee's new password, twice; the service checks its strength (AUTH_PASSWORD_VALIDATORS)."""

    password = forms.CharField(
        label="Choose a password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password_again = forms.CharField(
        label="Type it again", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, auto_id="invitation-%s", **kwargs)

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("password") and cleaned.get("password") != cleaned.get("password_again"):
            self.add_error("password_again", "The two passwords differ.")
        return cleaned
