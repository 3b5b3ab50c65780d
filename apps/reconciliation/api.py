"""/api/v1/statement-sources, statement-imports and statement-lines: finance reconciles card and bank
statements against the organization's spends (docs/api.md, docs/operations.md)."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from apps.tenancy.api_base import TenantAPIView, validated
from apps.tenancy.permissions import FINANCE_ROLES
from ledgerx.schema import error_responses

from . import selectors, services
from .models import StatementImport, StatementLine, StatementSource
from .serializers import (
    ImportOutput,
    LineListOutput,
    LineSpendInput,
    LineSpendOutput,
    MatchConfirmInput,
    MatchOutput,
    SourceListOutput,
    StatementImportInput,
    import_representation,
    line_representation,
    match_representation,
    source_representation,
)


class SourceListApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    @extend_schema(
        operation_id="statement_sources_list",
        responses={200: SourceListOutput},
        description="The organization's statement sources; each is set up, with its CSV column mapping, in the "
        "back office.",
    )
    def get(self, request):
        sources = StatementSource.objects.of(self.organization)
        return Response({"results": [source_representation(source) for source in sources]})


class StatementImportApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="statement_imports_create",
        request={"multipart/form-data": StatementImportInput},
        responses={201: ImportOutput, **error_responses(400, 404)},
        description="Import a statement (multipart, field `file`: a CSV read with the source's mapping, or OFX) "
        "and match its lines to settled card spends. A bad row, a file imported before or a line id (FITID) "
        "imported before is a 400 naming it, and nothing is stored.",
    )
    def post(self, request, source_id):
        source = self.get_scoped(StatementSource.objects, source_id)
        data = validated(StatementImportInput, request.data)
        upload = data["file"]
        try:
            content = upload.read()
        finally:
            upload.close()
        result = services.statement_import(
            actor=request.user, source=source, file_name=upload.name or "statement", content=content
        )
        reconciliation = selectors.import_reconciliation(result.statement_import)
        location = reverse("statement-import-detail", args=[result.statement_import.id])
        return Response(
            import_representation(reconciliation), status=status.HTTP_201_CREATED, headers={"Location": location}
        )


def _import(view: TenantAPIView, import_id) -> StatementImport:
    return view.get_scoped(selectors.imports_of(view.organization), import_id)


class StatementImportDetailApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    @extend_schema(
        operation_id="statement_imports_retrieve",
        responses={200: ImportOutput, **error_responses(404)},
        description="The import's reconciliation: how many lines are matched, and the settled card spends of the "
        "statement's days (in its currency) that no statement line matches.",
    )
    def get(self, request, import_id):
        return Response(import_representation(selectors.import_reconciliation(_import(self, import_id))))


class StatementLineListApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    @extend_schema(
        operation_id="statement_lines_list",
        responses={200: LineListOutput, **error_responses(404)},
        description="Every line of the import in file order, with its match, or its suggested spends best first.",
    )
    def get(self, request, import_id):
        statement_import = _import(self, import_id)
        suggestions = selectors.import_suggestions(statement_import)
        lines = selectors.lines_with_state(statement_import)
        return Response({"results": [line_representation(line, suggestions.get(line.id)) for line in lines]})


class StatementLineMatchApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    @extend_schema(
        operation_id="statement_lines_match",
        request=MatchConfirmInput,
        responses={201: MatchOutput, **error_responses(400, 404, 409)},
        description="Confirm that the line is this spend: a settled card spend for the line's amount and currency. "
        "409 when the line or the spend is matched already. Audited.",
    )
    def post(self, request, line_id):
        line = self.get_scoped(StatementLine.objects, line_id)
        data = validated(MatchConfirmInput, request.data)
        match = services.match_confirm(actor=request.user, line_id=line.id, transaction_id=data["transaction"])
        return Response(match_representation(match), status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="statement_lines_unmatch",
        responses={204: None, **error_responses(404, 409)},
        description="Unmatch the line from its spend (409 when it is not matched). Audited.",
    )
    def delete(self, request, line_id):
        line = self.get_scoped(StatementLine.objects, line_id)
        services.match_remove(actor=request.user, line_id=line.id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StatementLineSpendApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    @extend_schema(
        operation_id="statement_lines_create_spend",
        request=LineSpendInput,
        responses={202: LineSpendOutput, **error_responses(400, 403, 404, 409, 422, 429)},
        description="Make the spend an unmatched charge line shows, as the named employee's, through the spend "
        "intake (spend policy, budgets and approvals apply), matched to the line. Answers as a spend's submission "
        "does, with its id and Location. Audited.",
    )
    def post(self, request, line_id):
        line = self.get_scoped(StatementLine.objects, line_id)
        data = validated(LineSpendInput, request.data)
        spend = services.line_spend_create(
            actor=request.user,
            line_id=line.id,
            employee_id=data["employee"],
            department_id=data["department"],
            category=data["category"],
            merchant=data["merchant"] or None,
        )
        return Response(
            {"transaction": str(spend.id), "status": spend.status},
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": reverse("transaction-detail", args=[spend.id])},
        )
