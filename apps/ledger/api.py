from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from apps.tenancy.api_base import TenantAPIView
from apps.tenancy.permissions import FINANCE_ROLES
from ledgerx.pagination import OldestFirst
from ledgerx.schema import CURSOR_PARAMETERS, cursor_page, error_responses

from . import selectors
from .models import Transaction
from .serializers import (
    EntryListFilters,
    EntryOutput,
    GLAccountListFilters,
    GLAccountListOutput,
    LedgerVerifyOutput,
    entry_representation,
    gl_account_representation,
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


class GLAccountListApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES
    filters_class = GLAccountListFilters

    @extend_schema(
        operation_id="ledger_gl_accounts_list",
        parameters=[GLAccountListFilters],
        responses={200: GLAccountListOutput, **error_responses(400)},
        description="The chart of accounts: GL accounts by code, each with the rules that map spends to it.",
    )
    def get(self, request):
        accounts = selectors.gl_account_list(
            organization=self.organization, type_=self.filters.get("type"), active=self.filters.get("active")
        )
        return Response(
            {
                "default_expense_account": selectors.chart_default_expense_code(organization=self.organization),
                "results": [gl_account_representation(account) for account in accounts],
            }
        )
