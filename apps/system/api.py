from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.tenancy.permissions import PLATFORM_ROLES, RoleAllowed

from . import selectors


class SystemMetricsApi(APIView):
    permission_classes = [IsAuthenticated, RoleAllowed]
    allowed_roles = PLATFORM_ROLES

    def get(self, request):
        return Response(selectors.system_metrics())
