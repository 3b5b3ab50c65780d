from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from apps.tenancy.api_base import TenantAPIView, validated
from apps.tenancy.permissions import FINANCE_ROLES
from ledgerx.pagination import NewestFirst
from ledgerx.schema import CURSOR_PARAMETERS, cursor_page, error_responses

from . import selectors, services
from .models import FraudAlert
from .serializers import AlertListFilters, AlertResolveInput, FraudAlertOutput, alert_representation


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


class AlertResolveApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    @extend_schema(
        operation_id="fraud_alerts_resolve",
        request=AlertResolveInput,
        responses={200: FraudAlertOutput, **error_responses(400, 404, 409)},
        description="Close an open alert as legitimate or fraud. Already resolved: 409.",
    )
    def post(self, request, alert_id):
        alert = self.get_scoped(FraudAlert.objects, alert_id)
        data = validated(AlertResolveInput, request.data)
        resolved = services.alert_resolve(
            actor=request.user, alert_id=alert.id, resolution=data["resolution"], note=data["note"]
        )
        return Response(alert_representation(resolved))
