from django.contrib.auth.forms import AuthenticationForm


class EmailLoginForm(AuthenticationForm):
    """Emails are stored in lower case; people type them as they like."""

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()
