from rest_framework import serializers
from rest_framework.response import Response

from apps.tenancy.api_base import TenantAPIView
from apps.tenancy.permissions import TENANT_ROLES
from ledgerx.errors import InvalidInput
from ledgerx.fields import StrictCharField

from . import selectors

MAX_QUESTION_LENGTH = 500


class QueryApi(TenantAPIView):
    """POST {"q": "..."}: finance and admins ask about the organization, employees about their own spend."""

    allowed_roles = TENANT_ROLES

    class InputSerializer(serializers.Serializer):
        q = StrictCharField(max_length=MAX_QUESTION_LENGTH)

    def post(self, request):
        if not isinstance(request.data, dict):
            raise InvalidInput("The body must be a JSON object.")
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(selectors.query_answer(user=request.user, question=serializer.validated_data["q"]))
