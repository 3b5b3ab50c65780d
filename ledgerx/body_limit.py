"""Every request body is bounded at the web tier, before anything parses it.

Django bounds only what it reads through `request.body` with a Content-Length, and DRF's parsers read
the stream whole: a 60 MB spend body and a 100 MB unauthenticated token body were parsed. This
middleware, first in the chain, answers 413 in the API's error shape for a declared length over
REQUEST_BODY_MAX_BYTES, and for a chunked body (no Content-Length; the server sets
`wsgi.input_terminated`) reads at most one byte past the limit before deciding.
"""

import io
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from .errors import error_body


def _too_large() -> JsonResponse:
    limit = settings.REQUEST_BODY_MAX_BYTES
    return JsonResponse(
        error_body("too_large", f"The request body is larger than the {limit:,} bytes this service accepts."),
        status=413,
    )


def request_body_limit(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        limit = settings.REQUEST_BODY_MAX_BYTES
        declared = request.META.get("CONTENT_LENGTH")
        if declared:
            try:
                length = int(declared)
            except ValueError:
                return JsonResponse(error_body("bad_request", "Content-Length is not a number."), status=400)
            if length > limit:
                return _too_large()
        elif request.META.get("wsgi.input_terminated"):
            # Chunked: Django reads this stream to its end; hold it to the limit first.
            body = request.META["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                return _too_large()
            request._stream = io.BytesIO(body)  # Django's request reads its body from _stream
        return get_response(request)

    return middleware
