from drf_spectacular.utils import extend_schema

from apps.ledger.api import NewestFirst
from apps.tenancy.api_base import TenantAPIView
from apps.tenancy.permissions import ADMIN_ROLES
from ledgerx.schema import CURSOR_PARAMETERS, cursor_page, error_responses

from . import selectors
from .serializers import AuditEventFilters, AuditEventOutput, audit_event_representation


class AuditEventListApi(TenantAPIView):
    allowed_roles = ADMIN_ROLES

    @extend_schema(
        operation_id="audit_events_list",
        parameters=[AuditEventFilters, *CURSOR_PARAMETERS],
        responses={200: cursor_page("AuditEventPage", AuditEventOutput), **error_responses(400)},
        description="The organization's back-office events, newest first (org admin).",
    )
    def get(self, request):
        filters = AuditEventFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        events = selectors.audit_event_list(
            organization=self.organization,
            action=filters.validated_data.get("action"),
            target_id=filters.validated_data.get("target"),
        )
        paginator = NewestFirst()
        page = paginator.paginate_queryset(events, request, view=self)
        return paginator.get_paginated_response([audit_event_representation(e) for e in page])
