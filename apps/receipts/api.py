"""/api/v1/transactions/{id}/receipts and /api/v1/receipts: attach receipts to a spend, read them, and
the spends missing one. Files are served here, to those who may see them, never from a public URL."""

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from apps.tenancy.api_base import TenantAPIView, validated
from apps.tenancy.permissions import FINANCE_ROLES, TENANT_ROLES
from ledgerx.errors import NotFound
from ledgerx.pagination import NewestFirst
from ledgerx.schema import CURSOR_PARAMETERS, cursor_page, error_responses

from . import selectors, services
from .representation import ReceiptOutput, SpendMissingReceiptOutput, missing_representation, receipt_representation


class ReceiptUploadInput(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=True,  # an empty file is refused by its content check, in the error shape
        help_text="A JPEG, PNG, HEIC or PDF, judged by its content; at most RECEIPT_MAX_BYTES (10 MB by default).",
    )


class AnyAccept(BaseContentNegotiation):
    """A file endpoint answers its file whatever the client accepts (an <img> asks for image/*); errors in JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class SpendReceiptsApi(TenantAPIView):
    allowed_roles = TENANT_ROLES
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="transaction_receipts_list",
        responses={200: ReceiptOutput(many=True), **error_responses(404)},
        description="The spend's receipts, oldest first: for its spender, its approvers, finance and org admins.",
    )
    def get(self, request, transaction_id):
        spend = self.get_scoped(selectors.spends_with_visible_receipts(user=request.user), transaction_id)
        receipts = selectors.receipts_of_spend(user=request.user, transaction_id=spend.id)
        return Response([receipt_representation(receipt) for receipt in receipts])

    @extend_schema(
        operation_id="transaction_receipts_create",
        request={"multipart/form-data": ReceiptUploadInput},
        responses={201: ReceiptOutput, **error_responses(400, 404, 409)},
        description="Attach a receipt (multipart, field `file`) to your own spend; its thumbnail is made in the "
        "background (`status` processing, then ready). Only the spender attaches (403 for anyone else); a file "
        "that is not a JPEG, PNG, HEIC or PDF by its content, empty, or too large: 400, and nothing is stored. "
        "A rejected or reversed spend, the same file twice, or more than 10 receipts: 409.",
    )
    def post(self, request, transaction_id):
        spend = self.get_scoped(selectors.spends_with_visible_receipts(user=request.user), transaction_id)
        upload = validated(ReceiptUploadInput, request.data)["file"]
        receipt = services.receipt_upload(
            actor=request.user, transaction_id=spend.id, data=upload.read(), original_name=upload.name or ""
        )
        return Response(receipt_representation(receipt), status=status.HTTP_201_CREATED)


class ReceiptDetailApi(TenantAPIView):
    allowed_roles = TENANT_ROLES

    @extend_schema(operation_id="receipts_retrieve", responses={200: ReceiptOutput, **error_responses(404)})
    def get(self, request, receipt_id):
        receipt = self.get_scoped(selectors.receipts_visible(user=request.user), receipt_id)
        return Response(receipt_representation(receipt))

    @extend_schema(
        operation_id="receipts_delete",
        responses={204: None, **error_responses(404, 409)},
        description="Its uploader removes a receipt (403 for anyone else) while the spend is not rejected or "
        "reversed (409: those keep their receipts).",
    )
    def delete(self, request, receipt_id):
        receipt = self.get_scoped(selectors.receipts_visible(user=request.user), receipt_id)
        services.receipt_delete(actor=request.user, receipt_id=receipt.id)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _served(name: str, content_type: str, filename: str) -> FileResponse:
    response = FileResponse(selectors.receipt_storage().open(name, "rb"), content_type=content_type, filename=filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=300"
    # Nothing in a receipt runs: a PDF's scripts or an image's markup, opened directly, are inert.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    return response


FILE_RESPONSES = {
    (200, "image/jpeg"): OpenApiTypes.BINARY,
    (200, "image/png"): OpenApiTypes.BINARY,
    (200, "application/pdf"): OpenApiTypes.BINARY,
}


class ReceiptFileApi(TenantAPIView):
    allowed_roles = TENANT_ROLES
    content_negotiation_class = AnyAccept

    @extend_schema(
        operation_id="receipts_file",
        responses={**FILE_RESPONSES, **error_responses(404)},
        description="The stored file (an image as re-encoded, without its metadata; a PDF as uploaded), inline.",
    )
    def get(self, request, receipt_id):
        receipt = self.get_scoped(selectors.receipts_visible(user=request.user), receipt_id)
        filename = receipt.original_name or f"receipt.{receipt.file_name.rsplit('.', 1)[-1]}"
        return _served(receipt.file_name, receipt.content_type, filename)


class ReceiptThumbnailApi(TenantAPIView):
    allowed_roles = TENANT_ROLES
    content_negotiation_class = AnyAccept

    @extend_schema(
        operation_id="receipts_thumbnail",
        responses={(200, "image/jpeg"): OpenApiTypes.BINARY, **error_responses(404)},
        description="A JPEG preview, at most 320 px a side, once `status` is ready; 404 before, or without one.",
    )
    def get(self, request, receipt_id):
        receipt = self.get_scoped(selectors.receipts_visible(user=request.user), receipt_id)
        if not receipt.thumbnail_name:
            raise NotFound("No thumbnail: the receipt is processing, or its file could not be drawn.")
        return _served(receipt.thumbnail_name, "image/jpeg", f"thumbnail-{receipt.id}.jpg")


class MissingReceiptsApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES
    paginator_class = NewestFirst

    @extend_schema(
        operation_id="receipts_missing",
        parameters=CURSOR_PARAMETERS,
        responses={200: cursor_page("MissingReceiptPage", SpendMissingReceiptOutput), **error_responses(400)},
        description="Posted spends above the receipt amount of the policy version they were settled on "
        "(a `receipt_required_above` rule) that have no receipt, oldest first.",
    )
    def get(self, request):
        spends = selectors.spends_missing_receipts(organization_id=self.organization.id)
        return self.paginated(spends, missing_representation)
