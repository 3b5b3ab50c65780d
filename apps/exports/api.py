"""/api/v1/exports/{kind}: a month's books as a file (CSV streamed, XLSX), or that file's SHA-256.

Finance managers and org admins export their own organization's books: the rows are read with
`.of(organization)` of the caller's, so no parameter can name another tenant's.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers

from apps.tenancy.api_base import TenantAPIView
from apps.tenancy.permissions import FINANCE_ROLES
from ledgerx.fields import StrictCharField
from ledgerx.schema import error_responses

from .exporting import CHECKSUM_SUFFIX, ExportFormat, export_checksum_response, export_define, export_response

FORMATS = [*ExportFormat.values, *(f"{value}{CHECKSUM_SUFFIX}" for value in ExportFormat.values)]


class ExportQuery(serializers.Serializer):
    month = StrictCharField(
        trim_whitespace=False, help_text="A calendar month, YYYY-MM, in the organization's timezone."
    )
    format = serializers.ChoiceField(
        choices=FORMATS,
        required=False,
        default=ExportFormat.CSV,
        help_text="csv or xlsx for the file; csv.sha256 or xlsx.sha256 for the SHA-256 of that file.",
    )


class ExportApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES
    filters_class = ExportQuery

    def perform_content_negotiation(self, request, force=False):
        # `format` chooses the file, not a DRF renderer: every answer that is not a file is JSON.
        renderer = self.get_renderers()[0]
        return renderer, renderer.media_type

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="With format=csv (the default)."),
            (
                200,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ): OpenApiResponse(OpenApiTypes.BINARY, description="With format=xlsx; Repr-Digest carries its SHA-256."),
            (200, "text/plain"): OpenApiResponse(
                OpenApiTypes.STR, description="With format=csv.sha256 or xlsx.sha256: `<sha256>  <filename>`."
            ),
            **error_responses(400),
        },
        description="A month's books as a file, read from the database as it is sent. The same data gives the "
        "same bytes: a closed month's export is byte-identical every time, and its SHA-256 (the sidecar) says so.",
    )
    def get(self, request, kind: str):
        requested = self.filters["format"]
        file_format = requested.removesuffix(CHECKSUM_SUFFIX)
        export = export_define(
            organization=self.organization, kind=kind, month=self.filters["month"], file_format=file_format
        )
        if requested.endswith(CHECKSUM_SUFFIX):
            return export_checksum_response(export)
        return export_response(export)
