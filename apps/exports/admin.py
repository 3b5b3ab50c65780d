"""The books exports in the back office: a page of months, each with a download link per export and
format (and its SHA-256 sidecar). Finance managers and org admins download their organization's books,
through the same exporting module as the API and the command, so the files are the same bytes.
"""

import zoneinfo
from datetime import date

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from apps.tenancy.admin_scoping import OrganizationScopedAdmin, role_in
from apps.tenancy.permissions import FINANCE_ROLES
from ledgerx.errors import LedgerXError

from .exporting import (
    CHECKSUM_SUFFIX,
    ExportFormat,
    export_checksum_response,
    export_define,
    export_response,
)
from .layouts import ExportKind
from .models import BooksExport

# The months the page lists, the current one first; any other is one form away.
LISTED_MONTHS = 12


class MonthForm(forms.Form):
    month = forms.RegexField(regex=r"^[0-9]{4}-[0-9]{2}$", help_text="YYYY-MM", required=False)


def _recent_months(today: date, count: int) -> list[str]:
    months, year, month = [], today.year, today.month
    for _ in range(count):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months


@admin.register(BooksExport)
class BooksExportAdmin(OrganizationScopedAdmin):
    view_roles = FINANCE_ROLES

    def get_urls(self):
        return [
            path(
                "download/<str:kind>/<str:month>/<str:requested>/",
                self.admin_site.admin_view(self.download_view),
                name="exports_download",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        """The page of months and their download links, in place of a list of rows."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        organization = request.user.organization
        form = MonthForm(request.GET or None)
        months = _recent_months(timezone.localdate(timezone=zoneinfo.ZoneInfo(organization.timezone)), LISTED_MONTHS)
        if form.is_valid() and form.cleaned_data["month"]:
            months = [form.cleaned_data["month"]]
        formats = [*ExportFormat.values, *(f"{value}{CHECKSUM_SUFFIX}" for value in ExportFormat.values)]
        rows = [
            {
                "month": month,
                "exports": [
                    {
                        "label": kind.label,
                        "links": [
                            (requested, reverse("admin:exports_download", args=[kind.value, month, requested]))
                            for requested in formats
                        ],
                    }
                    for kind in ExportKind
                ],
            }
            for month in months
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Books exports of {organization.name}",
            "opts": self.model._meta,
            "form": form,
            "rows": rows,
            "timezone": organization.timezone,
        }
        return TemplateResponse(request, "admin/exports/books.html", context)

    def download_view(self, request, kind: str, month: str, requested: str):
        if not role_in(request, FINANCE_ROLES):
            raise PermissionDenied
        try:
            export = export_define(
                organization=request.user.organization,
                kind=kind,
                month=month,
                file_format=requested.removesuffix(CHECKSUM_SUFFIX),
            )
            if requested.endswith(CHECKSUM_SUFFIX):
                return export_checksum_response(export)
            return export_response(export)
        except LedgerXError:
            raise Http404 from None
