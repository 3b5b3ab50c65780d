from django.db import DatabaseError, connection
from django.http import HttpResponse, JsonResponse
from django_redis import get_redis_connection
from redis.exceptions import RedisError

from . import prometheus, selectors


def healthz(request) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def readyz(request) -> JsonResponse:
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["postgresql"] = "ok"
    except DatabaseError as error:
        checks["postgresql"] = f"unreachable: {error.__class__.__name__}"
    try:
        get_redis_connection("default").ping()
        checks["redis"] = "ok"
    except RedisError as error:
        checks["redis"] = f"unreachable: {error.__class__.__name__}"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)


def prometheus_metrics(request) -> HttpResponse:
    """Scraped by Prometheus without credentials: counts and health only, nothing of any one tenant."""
    return HttpResponse(prometheus.render(selectors.system_metrics()), content_type=prometheus.CONTENT_TYPE)
