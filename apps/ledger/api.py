from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from apps.tenancy.api_base import TenantAPIView
from apps.tenancy.permissions import FINANCE_ROLES
from ledgerx.pagination import OldestFirst
from ledgerx.schema import CURSOR_PARAMETERS, cursor_page, error_responses

from . import selectors
from .models import Transaction
from .serializers import EntryListFilters, EntryOutput, LedgerVerifyOutput, entry_representation


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
