from django.db import DatabaseError, connection
from django.http import JsonResponse
from django_redis import get_redis_connection
from redis.exceptions import RedisError


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
