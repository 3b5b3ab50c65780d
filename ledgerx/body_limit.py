"""Every request body is bounded at the web tier, before anything parses it.

Django bounds only what it reads through `request.body` with a Content-Length, and DRF's parsers read
the stream whole: a 60 MB spend body and a 100 MB unauthenticated token body were parsed. This
middleware, first in the chain, answers 413 in the API's error shape for a declared length over
REQUEST_BODY_MAX_BYTES, and for a chunked body (no Content-Length; the server sets
`wsgi.input_terminated`) reads at most one byte past the limit before deciding.

A POST to one of UPLOAD_PATHS (a receipt's upload) may carry a file of up to RECEIPT_MAX_BYTES,
plus the multipart framing; one to BULK_PATHS (a batch of spends) up to BULK_BODY_MAX_BYTES; every other
request keeps REQUEST_BODY_MAX_BYTES.
"""

import functools
import io
import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from .errors import error_body


@functools.lru_cache(maxsize=4)
def _upload_path(patterns: tuple[str, ...]) -> re.Pattern:
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


def _limit_for(request: HttpRequest) -> int:
    if request.method == "POST" and _upload_path(tuple(settings.UPLOAD_PATHS)).fullmatch(request.path_info):
        return settings.RECEIPT_MAX_BYTES + settings.UPLOAD_BODY_OVERHEAD_BYTES
    if request.method == "POST" and _upload_path(tuple(settings.BULK_PATHS)).fullmatch(request.path_info):
        return settings.BULK_BODY_MAX_BYTES
    return settings.REQUEST_BODY_MAX_BYTES


def _too_large(limit: int) -> JsonResponse:
    return JsonResponse(
        error_body("too_large", f"The request body is larger than the {limit:,} bytes this service accepts."),
        status=413,
    )


def request_body_limit(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        limit = _limit_for(request)
        declared = request.META.get("CONTENT_LENGTH")
        if declared:
            try:
                length = int(declared)
            except ValueError:
                return JsonResponse(error_body("bad_request", "Content-Length is not a number."), status=400)
            if length > limit:
                return _too_large(limit)
        elif request.META.get("wsgi.input_terminated"):
            # Chunked: Django reads this stream to its end; hold it to the limit first.
            body = request.META["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                return _too_large(limit)
            request._stream = io.BytesIO(body)  # Django's request reads its body from _stream
        return get_response(request)

    return middleware
