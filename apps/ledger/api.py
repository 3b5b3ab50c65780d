from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from apps.tenancy.api_base import TenantAPIView, validated
from apps.tenancy.permissions import ADMIN_ROLES, FINANCE_ROLES
from ledgerx.pagination import OldestFirst
from ledgerx.schema import CURSOR_PARAMETERS, cursor_page, error_responses

from . import closing, selectors
from .models import Transaction
from .serializers import (
    EntryListFilters,
    EntryOutput,
    LedgerVerifyOutput,
    MonthCloseInput,
    MonthListOutput,
    MonthOutput,
    MonthReopenInput,
    entry_representation,
    month_representation,
)


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


def _month_state(organization, month) -> dict:
    state = next(each for each in closing.month_list(organization=organization) if each.month == month)
    return month_representation(state)


class MonthListApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    @extend_schema(
        operation_id="ledger_months_list",
        responses={200: MonthListOutput, **error_responses()},
        description="Every month with entries or a close, oldest first.",
    )
    def get(self, request):
        months = closing.month_list(organization=self.organization)
        return Response({"results": [month_representation(state) for state in months]})


class MonthCloseApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    @extend_schema(
        operation_id="ledger_months_close",
        request=MonthCloseInput,
        responses={200: MonthOutput, **error_responses(400, 409)},
    )
    def post(self, request, month):
        validated(MonthCloseInput, request.data)
        first_day = closing.month_parse(month)
        closing.month_close(actor=request.user, month=first_day)
        return Response(_month_state(self.organization, first_day))


class MonthReopenApi(TenantAPIView):
    allowed_roles = ADMIN_ROLES

    @extend_schema(
        operation_id="ledger_months_reopen",
        request=MonthReopenInput,
        responses={200: MonthOutput, **error_responses(400, 409)},
    )
    def post(self, request, month):
        data = validated(MonthReopenInput, request.data)
        first_day = closing.month_parse(month)
        closing.month_reopen(actor=request.user, month=first_day, reason=data["reason"])
        return Response(_month_state(self.organization, first_day))
