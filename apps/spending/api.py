import functools
import uuid

from django.http import HttpResponse
from django.urls import get_script_prefix, reverse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.response import Response

from apps.approvals import selectors as approval_selectors
from apps.approvals.models import ApprovalRequest
from apps.fraud.models import FraudAlert
from apps.ledger.models import Transaction
from apps.tenancy.api_base import TenantAPIView, validated
from apps.tenancy.permissions import FINANCE_ROLES, TENANT_ROLES
from ledgerx.pagination import NewestFirst
from ledgerx.schema import CURSOR_PARAMETERS, IDEMPOTENCY_KEY, cursor_page, error_responses

from . import selectors, services
from .serializers import (
    ApprovalListFilters,
    ApprovalListOutput,
    ApprovalOutput,
    DecisionInput,
    FraudAlertResolveInput,
    FraudReviewOutput,
    TransactionBulkInput,
    TransactionBulkOutput,
    TransactionListFilters,
    TransactionOutput,
    TransactionReverseInput,
    TransactionSubmitInput,
    approval_representation,
    bulk_item,
    fraud_review_representation,
    transaction_representation,
)

_PLACEHOLDER_ID = uuid.UUID(int=0)


@functools.lru_cache(maxsize=8)
def _detail_path_around_id(script_prefix: str) -> tuple[str, str]:
    """The transaction detail path before and after the id, for this script prefix.

    reverse() cost about 70 µs of CPU in an accepted spend's request, for the same path each time.
    """
    before, after = reverse("transaction-detail", args=[_PLACEHOLDER_ID]).split(str(_PLACEHOLDER_ID))
    return before, after


def _transaction_location(transaction_id: uuid.UUID) -> str:
    before, after = _detail_path_around_id(get_script_prefix())
    return f"{before}{transaction_id}{after}"


def _accepted(request, transaction: Transaction, *, replayed: bool, status_code: int) -> Response:
    headers = {"Location": _transaction_location(transaction.id)}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(
        transaction_representation(transaction, viewer=request.user, as_accepted=True),
        status=status_code,
        headers=headers,
    )


class TransactionListCreateApi(TenantAPIView):
    allowed_roles = TENANT_ROLES
    filters_class = TransactionListFilters
    paginator_class = NewestFirst

    @extend_schema(
        operation_id="transactions_list",
        parameters=[TransactionListFilters, *CURSOR_PARAMETERS],
        responses={200: cursor_page("TransactionPage", TransactionOutput), **error_responses(400)},
        description="Newest first unless `ordering` says otherwise. Employees see their own spend.",
    )
    def get(self, request):
        filters = self.filters
        transactions = selectors.transaction_list(
            user=request.user,
            status=filters.get("status"),
            kind=filters.get("kind"),
            department_id=filters.get("department"),
            employee_id=filters.get("employee"),
            since=filters.get("since"),
            until=filters.get("until"),
            merchant=filters.get("merchant"),
            category=filters.get("category"),
            min_amount=filters.get("min_amount"),
            max_amount=filters.get("max_amount"),
            ordering=filters.get("ordering"),
        ).select_related("reversed_by")
        return self.paginated(transactions, functools.partial(transaction_representation, viewer=request.user))

    @extend_schema(
        operation_id="transactions_submit",
        parameters=[IDEMPOTENCY_KEY],
        request=TransactionSubmitInput,
        responses={202: TransactionOutput, **error_responses(400, 404, 422, 429)},
        description="Accepts a spend as pending and settles it in the background; poll the Location. A "
        "spender whose spending is frozen (a fraud verdict): 403 with the reason; a replay still replays.",
    )
    def post(self, request):
        data = validated(TransactionSubmitInput, request.data)
        transaction, replayed = services.transaction_submit(
            user=request.user,
            idempotency_key=request.headers.get("Idempotency-Key"),
            amount=data["amount"],
            currency=data["currency"],
            merchant=data["merchant"],
            category=data["category"],
            description=data["description"],
            department_id=data["department"],
        )
        return _accepted(request, transaction, replayed=replayed, status_code=status.HTTP_202_ACCEPTED)


class TransactionBulkSubmitApi(TenantAPIView):
    allowed_roles = TENANT_ROLES

    @extend_schema(
        operation_id="transactions_submit_bulk",
        parameters=[IDEMPOTENCY_KEY],
        request=TransactionBulkInput,
        responses={200: TransactionBulkOutput, **error_responses(400, 413, 422, 429)},
        description="Up to 1,000 spends at once, each decided as POST /api/v1/transactions decides it and answered "
        "at its index: 202 with the spend, or its error. The accepted ones are recorded together or not at all. "
        "The same Idempotency-Key and body answer the same bytes again (`Idempotent-Replayed: true`); another "
        "body, 422. A frozen spender: 403; over the rate limit (each item a spend): 429; nothing is recorded.",
    )
    def post(self, request):
        data = validated(TransactionBulkInput, request.data)
        answer = services.transaction_submit_bulk(
            user=request.user,
            idempotency_key=request.headers.get("Idempotency-Key"),
            items=[bulk_item(sent) for sent in data["items"]],
            represent=functools.partial(transaction_representation, viewer=request.user, as_accepted=True),
        )
        # The answer as first written, byte for byte: a replay sends the very same bytes.
        response = HttpResponse(answer.body, content_type="application/json")
        if answer.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class TransactionDetailApi(TenantAPIView):
    allowed_roles = TENANT_ROLES

    @extend_schema(operation_id="transactions_retrieve", responses={200: TransactionOutput, **error_responses(404)})
    def get(self, request, transaction_id):
        transaction = self.get_scoped(selectors.transactions_visible(user=request.user), transaction_id)
        return Response(transaction_representation(transaction, viewer=request.user))


class TransactionReverseApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    @extend_schema(
        operation_id="transactions_reverse",
        parameters=[IDEMPOTENCY_KEY],
        request=TransactionReverseInput,
        responses={201: TransactionOutput, **error_responses(400, 404, 409, 422)},
    )
    def post(self, request, transaction_id):
        original = self.get_scoped(Transaction.objects, transaction_id)
        data = validated(TransactionReverseInput, request.data)
        reversal, replayed = services.transaction_reverse(
            actor=request.user,
            original_id=original.id,
            reason=data["reason"],
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        return _accepted(request, reversal, replayed=replayed, status_code=status.HTTP_201_CREATED)


class ApprovalListApi(TenantAPIView):
    allowed_roles = TENANT_ROLES
    filters_class = ApprovalListFilters

    @extend_schema(
        operation_id="approvals_list",
        parameters=[ApprovalListFilters],
        responses={200: ApprovalListOutput, **error_responses(400)},
        description="Pending: what waits for you now. Decided: all of them for finance, else what you signed.",
    )
    def get(self, request):
        approvals = approval_selectors.approval_list(user=request.user, status=self.filters.get("status"))
        return Response({"results": [approval_representation(a, viewer=request.user) for a in approvals]})


class ApprovalDecideApi(TenantAPIView):
    allowed_roles = TENANT_ROLES
    approve: bool

    def post(self, request, approval_id):
        approval = self.get_scoped(ApprovalRequest.objects, approval_id)
        data = validated(DecisionInput, request.data)
        decided = services.approval_decide(
            actor=request.user, request_id=approval.id, approve=self.approve, note=data["note"]
        )
        decided = ApprovalRequest.objects.select_related("transaction__department", "transaction__employee").get(
            id=decided.id
        )
        return Response(approval_representation(decided, viewer=request.user))


@extend_schema_view(
    post=extend_schema(
        operation_id="approvals_approve",
        request=DecisionInput,
        responses={200: ApprovalOutput, **error_responses(400, 404, 409)},
        description="Sign the step waiting for you; the last signature posts the spend. Your own spend, "
        "a second step of one spend or a step waiting for someone else: 403. Already decided, expired (the "
        "spend is then rejected and its hold released), or a spend that no longer fits its budget because a "
        "limit was lowered (`budget_exceeded`; the request stays open): 409.",
    )
)
class ApprovalApproveApi(ApprovalDecideApi):
    approve = True


@extend_schema_view(
    post=extend_schema(
        operation_id="approvals_reject",
        request=DecisionInput,
        responses={200: ApprovalOutput, **error_responses(400, 404, 409)},
        description="Reject the spend at the step waiting for you, saying why in `note` (400 without). "
        "Your own spend or a step waiting for someone else: 403. Already decided: 409.",
    )
)
class ApprovalRejectApi(ApprovalDecideApi):
    approve = False


class FraudAlertResolveApi(TenantAPIView):
    """/fraud/alerts/<id>/resolve: served here, where reversing a spend can be (apps/spending/fraud_review.py)."""

    allowed_roles = FINANCE_ROLES

    @extend_schema(
        operation_id="fraud_alerts_resolve",
        request=FraudAlertResolveInput,
        responses={200: FraudReviewOutput, **error_responses(400, 404, 409)},
        description="Close an open alert as legitimate or fraud. With `fraud`, also reverse the spend "
        "(`reverse_spend`: a posted spend; already reversed: kept; rejected or awaiting approval: 409) and "
        "freeze its spender (`freeze_employee`), each audited. Already resolved: 409, and nothing changes.",
    )
    def post(self, request, alert_id):
        alert = self.get_scoped(FraudAlert.objects, alert_id)
        data = validated(FraudAlertResolveInput, request.data)
        review = services.fraud_alert_resolve(
            actor=request.user,
            alert_id=alert.id,
            resolution=data["resolution"],
            note=data["note"],
            reverse_spend=data["reverse_spend"],
            freeze_employee=data["freeze_employee"],
        )
        return Response(fraud_review_representation(review))
