"""One exception hierarchy for business refusals, mapped once to the api.md error shape.

Every API error answers {"error": {"code", "message", "fields"}}; nothing carries a trace.
"""

import logging
from typing import Any

from django.core.exceptions import DisallowedHost
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions as drf
from rest_framework.response import Response

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = "2"


class LedgerXError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, fields: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class InvalidInput(LedgerXError):
    status = 400
    code = "invalid"


class FxRateMissing(LedgerXError):
    """A spend in another currency whose day has no rate in the organization's table: refused, never guessed."""

    status = 400
    code = "fx_rate_missing"


class Unauthenticated(LedgerXError):
    status = 401
    code = "unauthenticated"


class NotFound(LedgerXError):
    status = 404
    code = "not_found"


class Forbidden(LedgerXError):
    status = 403
    code = "forbidden"


class Conflict(LedgerXError):
    status = 409
    code = "conflict"


class IdempotencyKeyReused(LedgerXError):
    status = 422
    code = "idempotency_key_reused"


class RateLimited(LedgerXError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailable(LedgerXError):
    status = 503
    code = "unavailable"


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten_detail(detail: Any) -> Any:
    if isinstance(detail, list):
        return [_flatten_detail(item) for item in detail]
    if isinstance(detail, dict):
        return {key: _flatten_detail(value) for key, value in detail.items()}
    return str(detail)


def _unavailable() -> Response:
    response = Response(error_body("unavailable", "The service is briefly unavailable; retry shortly."), status=503)
    response["Retry-After"] = RETRY_AFTER_SECONDS
    return response


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, LedgerXError):
        response = Response(error_body(exc.code, exc.message, exc.fields), status=exc.status)
        if exc.status == 503:
            response["Retry-After"] = RETRY_AFTER_SECONDS
        if isinstance(exc, RateLimited):
            response["Retry-After"] = str(exc.retry_after)
        return response
    if isinstance(exc, drf.ValidationError):
        detail = _flatten_detail(exc.detail)
        fields = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        return Response(error_body("invalid", "The request is not valid.", fields), status=400)
    if isinstance(exc, (drf.NotAuthenticated, drf.AuthenticationFailed)):
        return Response(
            error_body("unauthenticated", str(exc.detail)),
            status=401,
            headers={"WWW-Authenticate": 'Token realm="api"'},
        )
    if isinstance(exc, drf.PermissionDenied) and str(exc.detail).startswith("CSRF Failed"):
        # A session-authenticated write without its CSRF token: say so, it is not a role problem.
        return Response(error_body("csrf_failed", str(exc.detail)), status=403)
    if isinstance(exc, (drf.PermissionDenied, DjangoPermissionDenied)):
        return Response(error_body("forbidden", "Your role may not do this."), status=403)
    if isinstance(exc, (drf.NotFound, Http404)):
        return Response(error_body("not_found", "Not found."), status=404)
    if isinstance(exc, drf.Throttled):
        response = Response(error_body("rate_limited", "Too many requests; slow down."), status=429)
        if exc.wait:
            response["Retry-After"] = str(int(exc.wait) + 1)
        return response
    if isinstance(exc, drf.APIException):
        code = exc.default_code if isinstance(exc.default_code, str) else "error"
        return Response(error_body(code, str(exc.detail)), status=exc.status_code)
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.warning("database unavailable: %s", exc)
        return _unavailable()
    if isinstance(exc, DatabaseError):
        logger.exception("database error")
        return Response(error_body("server_error", "An internal error occurred."), status=500)
    logger.exception("unhandled error")
    return Response(error_body("server_error", "An internal error occurred."), status=500)


# Django's own error views (ledgerx/urls.py handler400/403/404/500) for what fails before or outside DRF:
# a bad Host header, an unknown path, an error in middleware. The API answers them in the error shape;
# the HTML pages render the project's templates/400.html, 403.html, 404.html and 500.html.


def _is_api(request: Any) -> bool:
    return request.path_info.startswith("/api/")


def bad_request(request: Any, exception: Exception) -> HttpResponse:
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, DisallowedHost):
        return JsonResponse(error_body("bad_request", "The Host header is not one this server answers to."), status=400)
    return JsonResponse(error_body("bad_request", "The request is not valid."), status=400)


def permission_denied(request: Any, exception: Exception) -> HttpResponse:
    if not _is_api(request):
        return defaults.permission_denied(request, exception)
    return JsonResponse(error_body("forbidden", "Your role may not do this."), status=403)


def not_found(request: Any, exception: Exception) -> HttpResponse:
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    return JsonResponse(error_body("not_found", "Not found."), status=404)


def server_error(request: Any) -> HttpResponse:
    if not _is_api(request):
        return defaults.server_error(request)
    return JsonResponse(error_body("server_error", "An internal error occurred."), status=500)
