"""The back office's single sign-on page: an org admin sets up their organization's provider. The form
is checked by services.configuration_save (metadata fetched or parsed, discovery read, domains free),
whose refusals show by their field; the change is audited there, with its actor."""

from django import forms
from django.contrib import admin
from django.db import transaction
from django.forms.models import construct_instance

from apps.tenancy.admin_scoping import OrganizationScopedAdmin
from apps.tenancy.models import Department, Organization, Role
from apps.tenancy.permissions import ADMIN_ROLES, PLATFORM_ROLES
from ledgerx.errors import LedgerXError

from . import services
from .models import SsoConfiguration

RULE_HELP = (
    "One rule a line, first match wins: group = role, or group = role = department name. "
    "Roles: employee, finance_manager, org_admin."
)


class SsoConfigurationForm(forms.ModelForm):
    email_domains = forms.CharField(help_text="Comma-separated, e.g. acme.com, acme.co.uk", required=False)
    saml_metadata_file = forms.FileField(required=False, label="SAML metadata file", help_text="Or give its URL.")
    role_rules = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False, help_text=RULE_HELP)
    oidc_client_secret = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text="Left empty, the current secret is kept.",
    )

    class Meta:
        model = SsoConfiguration
        fields = [
            "organization",
            "protocol",
            "enabled",
            "sso_required",
            "saml_metadata_url",
            "saml_metadata_xml",
            "saml_idp_entity_id",
            "saml_idp_sso_url",
            "saml_idp_certificate",
            "oidc_issuer",
            "oidc_client_id",
            "oidc_client_secret",
            "groups_attribute",
            "default_role",
            "default_department",
        ]

    request = None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["email_domains"] = ", ".join(self.instance.domains.values_list("domain", flat=True))
            self.initial["role_rules"] = "\n".join(
                f"{rule.group} = {rule.role}" + (f" = {rule.department.name}" if rule.department else "")
                for rule in self.instance.rules.select_related("department")
            )
            self.initial["oidc_client_secret"] = ""

    def clean_oidc_client_secret(self) -> str:
        # A password field shows nothing back; empty keeps what is stored.
        return self.cleaned_data["oidc_client_secret"] or (self.instance.oidc_client_secret if self.instance.pk else "")

    def _rules(self, organization: Organization) -> list[dict]:
        rules = []
        for number, line in enumerate(self.cleaned_data.get("role_rules", "").splitlines(), start=1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split("=")]
            if len(parts) not in (2, 3) or not parts[0] or parts[1] not in Role.values:
                raise forms.ValidationError({"role_rules": f"Line {number}: {RULE_HELP}"})
            department = None
            if len(parts) == 3:
                department = Department.objects.of(organization).filter(name=parts[2]).first()
                if department is None:
                    raise forms.ValidationError({"role_rules": f"Line {number}: no department '{parts[2]}'."})
            rules.append({"group": parts[0], "role": parts[1], "department": department})
        return rules

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        # The model form copies its fields onto the row after clean(); the service needs them now.
        construct_instance(self, self.instance, self._meta.fields)
        upload = cleaned.get("saml_metadata_file")
        if upload is not None:
            self.instance.saml_metadata_xml = upload.read().decode("utf-8", "replace")
        organization = self.instance.organization
        try:
            with transaction.atomic():
                services.configuration_save(
                    actor=self.request.user,
                    configuration=self.instance,
                    domains=cleaned.get("email_domains", "").replace(" ", ",").split(","),
                    rules=self._rules(organization),
                )
        except LedgerXError as error:
            named = {name: messages for name, messages in error.fields.items() if name in self.fields}
            for name, messages in named.items():
                self.add_error(name, list(messages))
            if not named:
                self.add_error(None, error.message)
        return cleaned


@admin.register(SsoConfiguration)
class SsoConfigurationAdmin(OrganizationScopedAdmin):
    form = SsoConfigurationForm
    view_roles = (*ADMIN_ROLES, *PLATFORM_ROLES)
    change_roles = (*ADMIN_ROLES, *PLATFORM_ROLES)
    add_roles = (*ADMIN_ROLES, *PLATFORM_ROLES)
    list_display = ("organization", "protocol", "enabled", "sso_required", "updated_at")
    readonly_fields = (
        "oidc_authorization_endpoint",
        "oidc_token_endpoint",
        "oidc_userinfo_endpoint",
        "oidc_jwks_uri",
        "updated_at",
    )

    def scope(self, queryset, organization):
        return queryset.filter(organization=organization)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        return type(form_class.__name__, (form_class,), {"request": request})

    def save_model(self, request, obj, form, change) -> None:
        """Saved, checked and audited by configuration_save in the form's clean."""

    def save_related(self, request, form, formsets, change) -> None:
        """Domains and rules are written by configuration_save too."""
