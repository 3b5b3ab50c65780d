"""/api/v1/reports: the auditors' reports as JSON or files, their recorded runs, and the access
review's sign-off. Finance managers and org admins read them; only an org admin signs off."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from apps.tenancy.api_base import TenantAPIView, validated
from apps.tenancy.permissions import ADMIN_ROLES, FINANCE_ROLES
from ledgerx.fields import StrictCharField
from ledgerx.schema import error_responses

from . import selectors, services
from .models import AccessReviewSignOff, ReportFormat, ReportKind, ReportRun
from .periods import Period, period_parse
from .rendering import CONTENT_TYPES, filename, report_dict
from .report import moment_text


class ReportPeriodInput(serializers.Serializer):
    """A calendar month (`period`, YYYY-MM) or `from` and `to` dates (YYYY-MM-DD, both included)."""

    def get_fields(self) -> dict:
        # "from" is a Python keyword, so the fields are named here rather than as class attributes.
        return {
            "period": StrictCharField(required=False, help_text="A calendar month, YYYY-MM."),
            "from": StrictCharField(required=False, help_text="The first day, YYYY-MM-DD (with `to`)."),
            "to": StrictCharField(required=False, help_text="The last day, included, YYYY-MM-DD."),
        }


class ReportQuery(ReportPeriodInput):
    def get_fields(self) -> dict:
        return {
            "report": StrictCharField(help_text=f"One of {', '.join(ReportKind.values)}."),
            **super().get_fields(),
            "format": serializers.ChoiceField(choices=ReportFormat.choices, required=False, default="json"),
        }


class AccessReviewSignOffInput(ReportPeriodInput):
    def get_fields(self) -> dict:
        return {
            **super().get_fields(),
            "checksum": StrictCharField(max_length=64, help_text="The data checksum of the access review you read."),
            "note": StrictCharField(max_length=2000, required=False, default="", allow_blank=True),
        }


def _period(data: dict, organization) -> Period:
    return period_parse(organization=organization, month=data.get("period"), start=data.get("from"), end=data.get("to"))


def run_representation(run: ReportRun) -> dict:
    timezone_name = run.organization.timezone
    return {
        "id": str(run.id),
        "report": run.kind,
        "period": {"from": run.period_start.isoformat(), "to": run.period_end.isoformat()},
        "format": run.format,
        "generated_at": moment_text(run.generated_at, timezone_name),
        "generated_by": run.generated_by.email if run.generated_by else None,
        "data_checksum": run.data_checksum,
        "file_checksum": run.file_checksum,
        "regenerated_from": str(run.regenerated_from_id) if run.regenerated_from_id else None,
        "data_changed": run.data_changed,
        "created_at": run.created_at.isoformat(),
    }


def sign_off_representation(sign_off: AccessReviewSignOff) -> dict:
    return {
        "id": str(sign_off.id),
        "period": {"from": sign_off.period_start.isoformat(), "to": sign_off.period_end.isoformat()},
        "checksum": sign_off.checksum,
        "signed_by": sign_off.signed_by.email,
        "signed_at": sign_off.signed_at.isoformat(),
        "note": sign_off.note,
    }


# The shapes of the representations above, for the OpenAPI schema.


class ReportPeriodRangeOutput(serializers.Serializer):
    def get_fields(self) -> dict:
        return {"from": serializers.DateField(), "to": serializers.DateField()}


class ReportRunOutput(serializers.Serializer):
    id = serializers.UUIDField()
    report = serializers.ChoiceField(choices=ReportKind.choices)
    period = ReportPeriodRangeOutput()
    format = serializers.ChoiceField(choices=ReportFormat.choices)
    generated_at = serializers.DateTimeField(help_text="The time the report states.")
    generated_by = serializers.EmailField(allow_null=True)
    data_checksum = serializers.CharField()
    file_checksum = serializers.CharField()
    regenerated_from = serializers.UUIDField(allow_null=True, help_text="The reference run of an ended period.")
    data_changed = serializers.BooleanField(help_text="The period's data changed since its reference run.")
    created_at = serializers.DateTimeField()


class AccessReviewSignOffOutput(serializers.Serializer):
    id = serializers.UUIDField()
    period = ReportPeriodRangeOutput()
    checksum = serializers.CharField()
    signed_by = serializers.EmailField()
    signed_at = serializers.DateTimeField()
    note = serializers.CharField(allow_blank=True)


class ReportOrganizationOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class ReportPeriodOutput(ReportPeriodRangeOutput):
    def get_fields(self) -> dict:
        return {**super().get_fields(), "timezone": serializers.CharField()}


class ReportOutput(serializers.Serializer):
    report = serializers.ChoiceField(choices=ReportKind.choices)
    title = serializers.CharField()
    organization = ReportOrganizationOutput()
    period = ReportPeriodOutput()
    generated_at = serializers.DateTimeField()
    checksum = serializers.CharField(help_text="SHA-256 of the report's data, as every file states it.")
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))
    summary = serializers.ListField(child=serializers.ListField(child=serializers.CharField()))
    run = ReportRunOutput()
    sign_offs = AccessReviewSignOffOutput(
        many=True, help_text="The access review's sign-offs of this period; empty otherwise."
    )


class ReportApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES
    filters_class = ReportQuery

    def perform_content_negotiation(self, request, force=False):
        # `format` chooses the file, not a DRF renderer: every answer that is not a file is JSON.
        renderer = self.get_renderers()[0]
        return renderer, renderer.media_type

    @extend_schema(
        operation_id="reports_retrieve",
        responses={
            (200, "application/json"): ReportOutput,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="With ?format=csv."),
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="With ?format=pdf."),
            **error_responses(400),
        },
        description="Generates one report for a period and records the run. Once the period has ended, every "
        "run states the generation time of the first run after its end, so the same data gives byte-identical "
        "files; `run.data_changed` (header X-Report-Data-Changed on a file) says the data changed since.",
    )
    def get(self, request):
        data = self.filters
        period = _period(data, self.organization)
        generated = services.report_generate(
            actor=request.user,
            organization=self.organization,
            kind=data["report"],
            period=period,
            file_format=data["format"],
        )
        report, run = generated.report, generated.run
        if run.format != ReportFormat.JSON:
            response = HttpResponse(generated.content, content_type=CONTENT_TYPES[run.format])
            response["Content-Disposition"] = f'attachment; filename="{filename(report, run.format)}"'
            response["X-Report-Run"] = str(run.id)
            response["X-Report-Checksum"] = run.data_checksum
            response["X-Report-File-Checksum"] = run.file_checksum
            response["X-Report-Data-Changed"] = "true" if run.data_changed else "false"
            return response
        sign_offs = (
            selectors.access_review_sign_offs(organization=self.organization, period=period)
            if report.kind == ReportKind.ACCESS_REVIEW
            else []
        )
        return Response(
            {
                **report_dict(report, run.generated_at),
                "run": run_representation(run),
                "sign_offs": [sign_off_representation(sign_off) for sign_off in sign_offs],
            }
        )


class ReportRunApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    @extend_schema(operation_id="report_runs_retrieve", responses={200: ReportRunOutput, **error_responses(404)})
    def get(self, request, run_id):
        run = self.get_scoped(selectors.report_runs(organization=self.organization), run_id)
        return Response(run_representation(run))


class AccessReviewSignOffApi(TenantAPIView):
    allowed_roles = ADMIN_ROLES

    @extend_schema(
        operation_id="access_review_sign_offs_create",
        request=AccessReviewSignOffInput,
        responses={201: AccessReviewSignOffOutput, **error_responses(400, 409)},
        description="An org admin signs off the access review of an ended period, naming the checksum they "
        "read: 409 if the review reads differently now, or was already signed off at that checksum.",
    )
    def post(self, request):
        data = validated(AccessReviewSignOffInput, request.data)
        sign_off = services.access_review_sign_off(
            actor=request.user,
            period=_period(data, self.organization),
            checksum=data["checksum"],
            note=data["note"],
        )
        return Response(sign_off_representation(sign_off), status=status.HTTP_201_CREATED)
