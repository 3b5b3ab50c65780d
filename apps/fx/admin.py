"""FX rates in the back office: the history, read-only; a rate added by hand through fx_rate_set; and an
"Import ECB file" page that uploads the ECB's reference rates file through fx_ecb_import.

Finance managers and org admins add their organization's rates, as through the API; system admins
any organization's. Nothing is changed or deleted: a correction is a newer rate for the same day.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from apps.tenancy.admin_scoping import OrganizationScopedAdmin, role_in
from apps.tenancy.models import Organization, Role
from apps.tenancy.permissions import FINANCE_ROLES, PLATFORM_ROLES
from ledgerx.errors import LedgerXError
from ledgerx.money import RATE_DECIMAL_PLACES, RATE_MAX_DIGITS

from . import services
from .models import FxRate

EDITOR_ROLES = (*FINANCE_ROLES, *PLATFORM_ROLES)


def _form_errors(form: forms.Form, error: LedgerXError, names: dict[str, str]) -> None:
    """A service's refusal on the form, each problem on the field it names (`names`: service -> form)."""
    if not error.fields:
        form.add_error(None, error.message)
    for name, problems in error.fields.items():
        field = names.get(name, name)
        form.add_error(field if field in form.fields else None, problems)


class FxRateForm(forms.ModelForm):
    rate = forms.DecimalField(
        max_digits=RATE_MAX_DIGITS,
        decimal_places=RATE_DECIMAL_PLACES,
        help_text="Units of the organization's base currency per one unit of the currency.",
    )
    user_organization = None

    class Meta:
        model = FxRate
        fields = ("organization", "currency", "rate_date", "rate")

    def clean(self) -> dict:
        cleaned = super().clean()
        organization = cleaned.get("organization", self.user_organization)
        if self.errors or organization is None:
            return cleaned
        try:
            services.fx_rate_check(organization=organization, currency=cleaned["currency"], rate=cleaned["rate"])
        except LedgerXError as error:
            _form_errors(self, error, {})
        return {**cleaned, "organization": organization}


class EcbImportForm(forms.Form):
    organization = forms.ModelChoiceField(queryset=Organization.objects.order_by("name"))
    file = forms.FileField(help_text="eurofxref.csv (daily) or eurofxref-hist-90d.csv, as the ECB publishes them.")


@admin.register(FxRate)
class FxRateAdmin(OrganizationScopedAdmin):
    form = FxRateForm
    add_roles = EDITOR_ROLES
    list_display = ("currency", "rate_date", "rate", "source", "entered_by", "created_at", "organization")
    list_filter = ("currency", "source")
    list_select_related = ("organization", "entered_by")
    search_fields = ("currency",)
    date_hierarchy = "rate_date"
    change_list_template = "admin/fx/fxrate/change_list.html"

    def get_fields(self, request, obj=None):
        if obj is not None:
            return (
                "organization",
                "currency",
                "rate_date",
                "rate",
                "source",
                "source_checksum",
                "entered_by",
                "created_at",
            )
        organization = ("organization",) if request.user.role == Role.SYSTEM_ADMIN else ()
        return (*organization, "currency", "rate_date", "rate")

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj) if obj is not None else ()

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user_organization = request.user.organization
        return form

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        rate = services.fx_rate_set(
            actor=request.user,
            organization=data["organization"],
            currency=data["currency"],
            rate_date=data["rate_date"],
            rate=data["rate"],
        )
        # The service wrote the rate; the form's instance only carries its id to the log and the redirect.
        obj.pk = rate.pk

    def get_urls(self):
        return [
            path("ecb-import/", self.admin_site.admin_view(self.ecb_import_view), name="fx_fxrate_ecb_import"),
            *super().get_urls(),
        ]

    def ecb_import_view(self, request):
        if not role_in(request, EDITOR_ROLES):
            raise PermissionDenied
        form = EcbImportForm(request.POST or None, request.FILES or None)
        if request.user.role != Role.SYSTEM_ADMIN:
            form.fields["organization"].queryset = Organization.objects.filter(id=request.user.organization_id)
            form.fields["organization"].initial = request.user.organization_id
        if request.method == "POST" and form.is_valid():
            try:
                result = services.fx_ecb_import(
                    actor=request.user,
                    organization=form.cleaned_data["organization"],
                    content=form.cleaned_data["file"].read(),
                )
            except LedgerXError as error:
                _form_errors(form, error, {})
            else:
                messages.success(
                    request,
                    f"ECB file {result.checksum[:12]}: {result.added} rates added, {result.unchanged} unchanged, "
                    f"{len(result.currencies)} currencies, {result.first_date} to {result.last_date}.",
                )
                return redirect("admin:fx_fxrate_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": "Import the ECB's reference rates",
            "subtitle": None,
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/fx/fxrate/ecb_import.html", context)
