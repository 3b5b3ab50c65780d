"""The alerts list. Resolving an alert can reverse its spend, so it is served by apps/spending
(spending/api.py FraudAlertResolveApi), at /api/v1/fraud/alerts/<id>/resolve all the same."""

from drf_spectacular.utils import extend_schema

from apps.tenancy.api_base import TenantAPIView
from apps.tenancy.permissions import FINANCE_ROLES
from ledgerx.pagination import NewestFirst
from ledgerx.schema import CURSOR_PARAMETERS, cursor_page, error_responses

from . import selectors
from .serializers import AlertListFilters, FraudAlertOutput, alert_representation


class AlertListApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES
    filters_class = AlertListFilters
    paginator_class = NewestFirst

    @extend_schema(
        operation_id="fraud_alerts_list",
        parameters=[AlertListFilters, *CURSOR_PARAMETERS],
        responses={200: cursor_page("FraudAlertPage", FraudAlertOutput), **error_responses(400)},
        description="The organization's fraud alerts, newest first (finance manager, org admin).",
    )
    def get(self, request):
        alerts = selectors.alert_list(
            organization=self.organization,
            status=self.filters.get("status"),
            rule=self.filters.get("rule"),
            transaction_id=self.filters.get("transaction"),
        )
        return self.paginated(alerts, alert_representation)
