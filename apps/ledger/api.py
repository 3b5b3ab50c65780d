import functools
import uuid

from django.urls import get_script_prefix, reverse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from apps.tenancy.api_base import TenantAPIView, validated
from apps.tenancy.permissions import FINANCE_ROLES, TENANT_ROLES
from ledgerx.errors import InvalidInput
from ledgerx.schema import CURSOR_PARAMETERS, IDEMPOTENCY_KEY, cursor_page, error_responses

from . import selectors, services
from .models import Transaction
from .serializers import (
    EntryListFilters,
    EntryOutput,
    LedgerVerifyOutput,
    TransactionListFilters,
    TransactionOutput,
    TransactionReverseInput,
    TransactionSubmitInput,
    entry_representation,
    transaction_representation,
)


class _Cursor(CursorPagination):
    """DRF's cursor pagination, strict about its parameters: a bad cursor or page size is a 400, not ignored."""

    page_size_query_param = "limit"
    max_page_size = 200

    def decode_cursor(self, request):
        # DRF answers a mangled cursor with 404; it is bad input.
        invalid = InvalidInput(
            "The cursor is not valid; follow the next or previous link as given.",
            fields={"cursor": ["Invalid cursor."]},
        )
        if request.query_params.get(self.cursor_query_param) == "":
            raise invalid
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise invalid from None

    def get_page_size(self, request):
        text = request.query_params.get(self.page_size_query_param)
        if text is None:
            return self.page_size
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= self.max_page_size:
            raise InvalidInput(
                f"A page size is a whole number from 1 to {self.max_page_size}.",
                fields={self.page_size_query_param: [f"From 1 to {self.max_page_size}."]},
            )
        return int(text)

    def get_ordering(self, request, queryset, view):
        # The selector orders (the transaction list's `ordering` filter among others); the cursor follows.
        return tuple(queryset.query.order_by) or self.ordering


class NewestFirst(_Cursor):
    ordering = ("-created_at", "-id")
    page_size = 50


class OldestFirst(_Cursor):
    ordering = ("id",)
    page_size = 200


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
    return Response(transaction_representation(transaction, as_accepted=True), status=status_code, headers=headers)


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
        return self.paginated(transactions, transaction_representation)

    @extend_schema(
        operation_id="transactions_submit",
        parameters=[IDEMPOTENCY_KEY],
        request=TransactionSubmitInput,
        responses={202: TransactionOutput, **error_responses(400, 404, 422, 429)},
        description="Accepts a spend as pending and settles it in the background; poll the Location.",
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


class TransactionDetailApi(TenantAPIView):
    allowed_roles = TENANT_ROLES

    @extend_schema(operation_id="transactions_retrieve", responses={200: TransactionOutput, **error_responses(404)})
    def get(self, request, transaction_id):
        transaction = self.get_scoped(selectors.transactions_visible(user=request.user), transaction_id)
        return Response(transaction_representation(transaction))


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


class EntryListApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES
    filters_class = EntryListFilters
    paginator_class = OldestFirst

    @extend_schema(
        operation_id="ledger_entries_list",
        parameters=[EntryListFilters, *CURSOR_PARAMETERS],
        responses={200: cursor_page("EntryPage", EntryOutput), **error_responses(400, 404)},
        description="Oldest first.",
    )
    def get(self, request):
        transaction_id = self.filters.get("transaction")
        if transaction_id is not None:
            transaction_id = self.get_scoped(Transaction.objects, transaction_id).id
        entries = selectors.entry_list(organization=self.organization, transaction_id=transaction_id)
        return self.paginated(entries, entry_representation)


class LedgerVerifyApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    @extend_schema(operation_id="ledger_verify", responses={200: LedgerVerifyOutput, **error_responses()})
    def get(self, request):
        return Response(selectors.ledger_verify(organization=self.organization))
