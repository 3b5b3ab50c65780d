"""/api/v1/payments/{id}/return and /payment-return-files: payments the bank sent back, entered by hand or
read from its return file, for finance."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from apps.tenancy.api_base import TenantAPIView, validated
from apps.tenancy.permissions import FINANCE_ROLES
from ledgerx.schema import error_responses

from . import payment_returns, selectors
from .api import run_of
from .models import PaymentLine
from .serializers import (
    PaymentReturnInput,
    PaymentRunOutput,
    ReturnFileInput,
    ReturnFileOutput,
    payment_run_representation,
    return_file_representation,
)


class PaymentReturnApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    @extend_schema(
        operation_id="payments_return",
        request=PaymentReturnInput,
        responses={200: PaymentRunOutput, **error_responses(400, 404, 409)},
        description="The bank returned this payment: the bill is owed again (accounts payable credited, the "
        "bank debited back, any realised FX gain or loss undone) and can be paid in a later run. Once per "
        "payment (409). A bank's return file: `/payment-return-files`.",
    )
    def post(self, request, payment_id):
        line = self.get_scoped(PaymentLine.objects, payment_id)
        data = validated(PaymentReturnInput, request.data)
        payment_returns.payment_return(actor=request.user, line_id=line.id, reason=data["reason"])
        return Response(payment_run_representation(run_of(self, line.run_id)))


class ReturnFileListCreateApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES
    parser_classes = [MultiPartParser]

    @extend_schema(operation_id="payment_return_files_list", responses={200: ReturnFileOutput(many=True)})
    def get(self, request):
        return Response(
            [return_file_representation(f) for f in selectors.return_files_of(organization=self.organization)[:100]]
        )

    @extend_schema(
        operation_id="payment_return_files_upload",
        request={"multipart/form-data": ReturnFileInput},
        responses={201: ReturnFileOutput, **error_responses(400, 409)},
        description="Upload the bank's return file: NACHA returns (entries with addenda 99, matched by the "
        "original trace number) or a pain.002 payment status report (rejected transactions, matched by "
        "end-to-end id). Each payment it names is returned as by hand; each entry's `outcome` says what came of "
        "it (`unknown`: no payment of ours has that reference). The same file twice: 409.",
    )
    def post(self, request):
        upload = validated(ReturnFileInput, request.data)["file"]
        return_file = payment_returns.return_file_import(
            actor=request.user, file_name=upload.name or "returns", content=upload.read()
        )
        return Response(
            return_file_representation(
                selectors.return_files_of(organization=self.organization).get(id=return_file.id)
            ),
            status=status.HTTP_201_CREATED,
        )


class ReturnFileDetailApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    @extend_schema(
        operation_id="payment_return_files_retrieve", responses={200: ReturnFileOutput, **error_responses(404)}
    )
    def get(self, request, return_file_id):
        return Response(
            return_file_representation(
                self.get_scoped(selectors.return_files_of(organization=self.organization), return_file_id)
            )
        )
