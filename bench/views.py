"""The baseline: a bare DRF endpoint doing the same request work as ingest, minus LedgerX's rules.

Same authentication and the same input serializer, one INSERT into a plain table, a small JSON
answer. `ingest_vs_baseline` says what the real ingest path costs on top of that.
"""

import uuid

from django.db import connection
from rest_framework.response import Response

from apps.spending.serializers import TransactionSubmitInput
from apps.tenancy.api_base import TenantAPIView


class BaselineApi(TenantAPIView):
    def post(self, request):
        serializer = TransactionSubmitInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        row_id = uuid.uuid4()
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_baseline (id, amount, currency, merchant, category) VALUES (%s, %s, %s, %s, %s)",
                [row_id, data["amount"], data["currency"], data["merchant"], data["category"]],
            )
        return Response({"id": str(row_id), "status": "accepted"}, status=202)
