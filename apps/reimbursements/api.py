"""/api/v1/reimbursements (claims: anyone in the organization claims their own; finance sees all) and
/api/v1/payout-batches (finance: gather approved claims, release, export for the bank)."""

import base64

from django.http import StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from apps.tenancy.api_base import TenantAPIView, validated
from apps.tenancy.permissions import FINANCE_ROLES, TENANT_ROLES
from ledgerx.errors import Conflict
from ledgerx.pagination import NewestFirst
from ledgerx.schema import CURSOR_PARAMETERS, IDEMPOTENCY_KEY, cursor_page, error_responses

from . import selectors, services
from .export import batch_export_lines
from .models import PayoutBatch
from .serializers import (
    BatchCreateInput,
    BatchListOutput,
    BatchOutput,
    ClaimListFilters,
    ClaimOutput,
    ClaimSubmitInput,
    batch_representation,
    claim_representation,
)


class ClaimListCreateApi(TenantAPIView):
    allowed_roles = TENANT_ROLES
    filters_class = ClaimListFilters
    paginator_class = NewestFirst
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="reimbursements_list",
        parameters=[ClaimListFilters, *CURSOR_PARAMETERS],
        responses={200: cursor_page("ClaimPage", ClaimOutput), **error_responses(400)},
        description="Newest first. An employee sees their own claims; finance managers and org admins all.",
    )
    def get(self, request):
        claims = selectors.claim_list(user=request.user, status=self.filters.get("status"))
        return self.paginated(claims, claim_representation)

    @extend_schema(
        operation_id="reimbursements_submit",
        parameters=[IDEMPOTENCY_KEY],
        request={"multipart/form-data": ClaimSubmitInput},
        responses={202: ClaimOutput, **error_responses(400, 403, 404, 422, 429)},
        description="Claim an out-of-pocket expense, with its receipt as the `receipt` file part (400 without "
        "one where a receipt is required). Accepted as `submitted` and settled like a spend: the same spend "
        "policy, budgets (the department and every ancestor) and approval policies; once approved it is owed "
        "to you, and `paid` when a payout batch pays it. Same Idempotency-Key rules as a spend.",
    )
    def post(self, request):
        data = validated(ClaimSubmitInput, request.data)
        claim, replayed = services.claim_submit(
            user=request.user,
            idempotency_key=request.headers.get("Idempotency-Key"),
            amount=data["amount"],
            currency=data["currency"],
            merchant=data["merchant"],
            category=data["category"],
            incurred_on=data["incurred_on"],
            description=data["description"],
            department_id=data["department"],
            receipt=data.get("receipt"),
        )
        headers = {"Location": reverse("reimbursement-detail", args=[claim.id])}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(claim_representation(claim, as_accepted=True), status=status.HTTP_202_ACCEPTED, headers=headers)


class ClaimDetailApi(TenantAPIView):
    allowed_roles = TENANT_ROLES

    @extend_schema(operation_id="reimbursements_retrieve", responses={200: ClaimOutput, **error_responses(404)})
    def get(self, request, claim_id):
        claim = self.get_scoped(selectors.claims_visible(user=request.user), claim_id)
        return Response(claim_representation(claim))


def _batch(view: TenantAPIView, batch_id) -> PayoutBatch:
    queryset = PayoutBatch.objects.select_related("created_by", "released_by").prefetch_related("lines")
    return view.get_scoped(queryset, batch_id)


class BatchListCreateApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    @extend_schema(operation_id="payout_batches_list", responses={200: BatchListOutput})
    def get(self, request):
        batches = selectors.batch_list(organization=self.organization).prefetch_related("lines")
        return Response({"results": [batch_representation(batch) for batch in batches]})

    @extend_schema(
        operation_id="payout_batches_create",
        request=BatchCreateInput,
        responses={201: BatchOutput, **error_responses(400, 404)},
        description="A draft batch of approved claims not yet in a batch: the `claims` named, or every one "
        "approved up to `approved_until`. No money moves until it is released. A claim of another organization: 404.",
    )
    def post(self, request):
        data = validated(BatchCreateInput, request.data)
        batch = services.batch_create(
            actor=request.user,
            organization=self.organization,
            claim_ids=data.get("claims"),
            approved_until=data.get("approved_until"),
        )
        return Response(batch_representation(_batch(self, batch.id)), status=status.HTTP_201_CREATED)


class BatchDetailApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    @extend_schema(operation_id="payout_batches_retrieve", responses={200: BatchOutput, **error_responses(404)})
    def get(self, request, batch_id):
        return Response(batch_representation(_batch(self, batch_id)))

    @extend_schema(
        operation_id="payout_batches_discard",
        responses={204: None, **error_responses(404, 409)},
        description="Discard a draft batch, freeing its claims for another. A released batch: 409.",
    )
    def delete(self, request, batch_id):
        batch = _batch(self, batch_id)
        services.batch_discard(actor=request.user, batch_id=batch.id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class BatchReleaseApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES
    body_methods = ()

    @extend_schema(
        operation_id="payout_batches_release",
        request=None,
        responses={200: BatchOutput, **error_responses(404, 409)},
        description="Pay the batch: each claim's payable is cleared into payout clearing in the ledger, and "
        "each claim is `paid`. Once: a second release is a 409, as is a batch with a claim reversed since.",
    )
    def post(self, request, batch_id):
        batch = _batch(self, batch_id)
        services.batch_release(actor=request.user, batch_id=batch.id)
        return Response(batch_representation(_batch(self, batch_id)))


class BatchExportApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    @extend_schema(
        operation_id="payout_batches_export",
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="employee, email, amount, currency, claims (ids, `;`-separated), reference; one row "
                "per employee. `Repr-Digest` carries the SHA-256 fixed at release (`export_sha256`).",
            ),
            **error_responses(404, 409),
        },
    )
    def get(self, request, batch_id):
        batch = _batch(self, batch_id)
        if batch.status != PayoutBatch.Status.RELEASED:
            raise Conflict(f"Payout batch {batch.reference} is a draft: release it, then export it for the bank.")
        response = StreamingHttpResponse(batch_export_lines(batch), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{batch.reference}.csv"'
        digest = base64.b64encode(bytes.fromhex(batch.export_sha256)).decode()
        response["Repr-Digest"] = f"sha-256=:{digest}:"
        return response
