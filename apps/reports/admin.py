"""The auditors' reports in the back office: a page to choose a report and a period, read it, download
it as CSV or PDF and (org admins) sign off the access review; the recorded runs and sign-offs, read-only.

Finance managers and org admins see their organization's; system admins choose the organization.
Everything goes through the app's services, as the API does.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode

from apps.tenancy.admin_scoping import OrganizationScopedAdmin, role_in
from apps.tenancy.models import Organization, Role
from apps.tenancy.permissions import ADMIN_ROLES
from ledgerx.errors import LedgerXError

from . import selectors, services
from .models import AccessReviewSignOff, ReportFormat, ReportKind, ReportRun
from .periods import period_parse
from .rendering import CONTENT_TYPES, filename


class ReportForm(forms.Form):
    organization = forms.ModelChoiceField(queryset=Organization.objects.all(), required=False)
    report = forms.ChoiceField(choices=ReportKind.choices)
    period = forms.CharField(required=False, help_text="A calendar month, YYYY-MM; or from and to dates.")
    start = forms.CharField(required=False, label="From", help_text="YYYY-MM-DD")
    end = forms.CharField(required=False, label="To", help_text="YYYY-MM-DD, included")

    def __init__(self, *args, system_admin: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if system_admin:
            self.fields["organization"].required = True
        else:
            del self.fields["organization"]


class SignOffForm(forms.Form):
    checksum = forms.CharField(widget=forms.HiddenInput)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


@admin.register(ReportRun)
class ReportRunAdmin(OrganizationScopedAdmin):
    list_display = ("kind", "period_start", "period_end", "format", "generated_at", "generated_by", "data_changed")
    list_filter = ("kind", "format")
    list_select_related = ("generated_by", "regenerated_from")
    change_list_template = "admin/reports/reportrun_change_list.html"
    readonly_fields = (
        "organization",
        "kind",
        "period_start",
        "period_end",
        "format",
        "generated_at",
        "generated_by",
        "data_checksum",
        "file_checksum",
        "regenerated_from",
        "data_changed",
        "created_at",
    )
    fields = readonly_fields

    @admin.display(boolean=True, description="Data changed since the period's first report")
    def data_changed(self, run: ReportRun) -> bool:
        return run.data_changed

    def get_urls(self):
        return [
            path("report/", self.admin_site.admin_view(self.report_view), name="reports_report"),
            *super().get_urls(),
        ]

    def report_view(self, request):
        """Choose, read, download (?download=csv|pdf) and sign off; every generation is a recorded run."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        user = request.user
        system_admin = user.role == Role.SYSTEM_ADMIN
        form = ReportForm(request.GET or None, system_admin=system_admin)
        context = {
            **self.admin_site.each_context(request),
            "title": "Audit reports",
            "opts": self.model._meta,
            "form": form,
        }
        if not form.is_valid():
            return TemplateResponse(request, "admin/reports/report.html", context)
        organization = form.cleaned_data.get("organization") or user.organization
        download = request.GET.get("download", ReportFormat.JSON)
        try:
            period = period_parse(
                organization=organization,
                month=form.cleaned_data["period"] or None,
                start=form.cleaned_data["start"] or None,
                end=form.cleaned_data["end"] or None,
            )
            if request.method == "POST":
                return self._sign_off(request, period)
            generated = services.report_generate(
                actor=user,
                organization=organization,
                kind=form.cleaned_data["report"],
                period=period,
                file_format=download if download in (ReportFormat.CSV, ReportFormat.PDF) else ReportFormat.JSON,
            )
        except LedgerXError as error:
            form.add_error(None, error.message)
            return TemplateResponse(request, "admin/reports/report.html", context)
        report, run = generated.report, generated.run
        if run.format != ReportFormat.JSON:
            response = HttpResponse(generated.content, content_type=CONTENT_TYPES[run.format])
            response["Content-Disposition"] = f'attachment; filename="{filename(report, run.format)}"'
            return response
        query = {name: value for name, value in request.GET.items() if name != "download"}
        is_access_review = report.kind == ReportKind.ACCESS_REVIEW
        context.update(
            report=report,
            run=run,
            csv_url=f"?{urlencode({**query, 'download': 'csv'})}",
            pdf_url=f"?{urlencode({**query, 'download': 'pdf'})}",
            sign_offs=selectors.access_review_sign_offs(organization=organization, period=period)
            if is_access_review
            else [],
            sign_off_form=SignOffForm(initial={"checksum": report.checksum})
            if is_access_review and role_in(request, ADMIN_ROLES)
            else None,
        )
        return TemplateResponse(request, "admin/reports/report.html", context)

    def _sign_off(self, request, period) -> HttpResponseRedirect:
        form = SignOffForm(request.POST)
        if form.is_valid():
            try:
                services.access_review_sign_off(
                    actor=request.user,
                    period=period,
                    checksum=form.cleaned_data["checksum"],
                    note=form.cleaned_data["note"],
                )
                messages.success(request, "The access review is signed off.")
            except LedgerXError as error:
                messages.error(request, error.message)
        return HttpResponseRedirect(f"{reverse('admin:reports_report')}?{request.GET.urlencode()}")


@admin.register(AccessReviewSignOff)
class AccessReviewSignOffAdmin(OrganizationScopedAdmin):
    list_display = ("period_start", "period_end", "signed_by", "signed_at", "checksum")
    list_select_related = ("signed_by",)
    readonly_fields = ("organization", "period_start", "period_end", "checksum", "signed_by", "signed_at", "note")
    fields = readonly_fields
