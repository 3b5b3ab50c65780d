"""The DRF half of tenant scoping: every tenant endpoint derives from TenantAPIView."""

from django.core.exceptions import ValidationError
from django.http import Http404
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from .permissions import TENANT_ROLES, RoleAllowed


class TenantAPIView(APIView):
    permission_classes = [IsAuthenticated, RoleAllowed]
    allowed_roles: tuple | dict = TENANT_ROLES

    @property
    def organization(self):
        return self.request.user.organization

    def get_scoped(self, queryset, pk):
        """Fetch by id within the caller's organization; anything else is a 404."""
        try:
            return queryset.of(self.organization).get(pk=pk)
        except (queryset.model.DoesNotExist, ValueError, ValidationError):
            raise Http404 from None
