"""A sign-in page answered while the throttle holds the caller back says so in its status: 429 with
Retry-After, as the API does. The backend leaves the wait on the request (apps/tenancy/backends.py)."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


def login_throttle_status(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        wait = getattr(request, "login_retry_after", 0)
        if wait and response.status_code == 200:
            response.status_code = 429
            response["Retry-After"] = str(wait)
        return response

    return middleware
