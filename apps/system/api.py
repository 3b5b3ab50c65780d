from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from apps.tenancy.api_base import StrictAPIView
from apps.tenancy.permissions import PLATFORM_ROLES, RoleAllowed
from ledgerx.schema import error_responses

from . import selectors

# The shape of selectors.system_metrics, for the OpenAPI schema. A part read from a server that is
# down is null (or an empty list); a server's health then says only `ok: false` and the error's class.


class _QueueOutput(serializers.Serializer):
    queue = serializers.CharField()
    depth = serializers.IntegerField(min_value=0)
    oldest_age_seconds = serializers.FloatField(allow_null=True)


class _LatencyOutput(serializers.Serializer):
    settled = serializers.IntegerField(min_value=0)
    p50_ms = serializers.FloatField(allow_null=True)
    p95_ms = serializers.FloatField(allow_null=True)
    p99_ms = serializers.FloatField(allow_null=True)


class _ThroughputOutput(serializers.Serializer):
    minute = serializers.DateTimeField()
    accepted = serializers.IntegerField(min_value=0)
    settled = serializers.IntegerField(min_value=0)


class _TransactionCountsOutput(serializers.Serializer):
    accepted = serializers.IntegerField(min_value=0)
    posted = serializers.IntegerField(min_value=0)
    rejected = serializers.IntegerField(min_value=0)
    pending = serializers.IntegerField(min_value=0)
    reversed = serializers.IntegerField(min_value=0)


class _PostgresHealthOutput(serializers.Serializer):
    ok = serializers.BooleanField()
    error = serializers.CharField(required=False)
    round_trip_ms = serializers.FloatField(required=False)
    version = serializers.CharField(required=False)
    connections = serializers.IntegerField(required=False)


class _RedisHealthOutput(serializers.Serializer):
    ok = serializers.BooleanField()
    error = serializers.CharField(required=False)
    round_trip_ms = serializers.FloatField(required=False)
    version = serializers.CharField(required=False, allow_null=True)
    connected_clients = serializers.IntegerField(required=False, allow_null=True)
    used_memory_bytes = serializers.IntegerField(required=False, allow_null=True)


class _WorkerOutput(serializers.Serializer):
    hostname = serializers.CharField()
    queues = serializers.ListField(child=serializers.CharField())
    pid = serializers.IntegerField()
    last_seen_seconds = serializers.FloatField()
    alive = serializers.BooleanField()


class _BucketOutput(serializers.Serializer):
    le = serializers.CharField(help_text='Upper bound, or "+Inf".')
    count = serializers.IntegerField(min_value=0)


class _HistogramOutput(serializers.Serializer):
    buckets = _BucketOutput(many=True)
    sum = serializers.FloatField()
    count = serializers.IntegerField(min_value=0)


class _SettlementOutput(serializers.Serializer):
    batch_size = _HistogramOutput()
    settle_latency_seconds = _HistogramOutput()


class SystemMetricsOutput(serializers.Serializer):
    generated_at = serializers.DateTimeField()
    window_minutes = serializers.IntegerField()
    queues = _QueueOutput(many=True)
    latency = _LatencyOutput(allow_null=True)
    throughput = _ThroughputOutput(many=True)
    transactions = _TransactionCountsOutput(allow_null=True)
    postgresql = _PostgresHealthOutput()
    redis = _RedisHealthOutput()
    workers = _WorkerOutput(many=True)
    settlement = _SettlementOutput(allow_null=True)


class SystemMetricsApi(StrictAPIView):
    permission_classes = [IsAuthenticated, RoleAllowed]
    allowed_roles = PLATFORM_ROLES

    @extend_schema(
        operation_id="system_metrics",
        responses={200: SystemMetricsOutput, **error_responses()},
        description="Queues, settlement latency and throughput over the last minutes, database and Redis health "
        "(system admin).",
    )
    def get(self, request):
        return Response(selectors.system_metrics())
