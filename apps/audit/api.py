from drf_spectacular.utils import extend_schema

from apps.tenancy.api_base import TenantAPIView
from apps.tenancy.permissions import ADMIN_ROLES
from ledgerx.pagination import NewestFirst
from ledgerx.schema import CURSOR_PARAMETERS, cursor_page, error_responses

from . import selectors
from .serializers import AuditEventFilters, AuditEventOutput, audit_event_representation


class AuditEventListApi(TenantAPIView):
    allowed_roles = ADMIN_ROLES
    filters_class = AuditEventFilters
    paginator_class = NewestFirst

    @extend_schema(
        operation_id="audit_events_list",
        parameters=[AuditEventFilters, *CURSOR_PARAMETERS],
        responses={200: cursor_page("AuditEventPage", AuditEventOutput), **error_responses(400)},
        description="The organization's back-office events, newest first (org admin).",
    )
    def get(self, request):
        events = selectors.audit_event_list(
            organization=self.organization,
            action=self.filters.get("action"),
            target_id=self.filters.get("target"),
        )
        return self.paginated(events, audit_event_representation)
