"""The DRF half of tenant scoping: every tenant endpoint derives from TenantAPIView."""

from django.core.exceptions import ValidationError
from django.http import Http404
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from ledgerx.errors import InvalidInput

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


def validated(serializer_class, data, **kwargs) -> dict:
    """Validate a JSON body or a query string with `serializer_class`; anything else is a 400."""
    if not isinstance(data, dict):
        raise InvalidInput("The body must be a JSON object.")
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
