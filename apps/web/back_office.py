"""The back office in the organization's time: times in /admin/ read in its timezone, as on the pages.

Only /admin/: the API answers in UTC with offsets (its contract), and the pages name their zone
themselves with `{% timezone organization.timezone %}`.
"""

from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.utils import timezone


def organization_timezone(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        organization = getattr(user, "organization", None) if user is not None and user.is_authenticated else None
        if organization is None or not request.path.startswith("/admin/"):
            return get_response(request)
        timezone.activate(ZoneInfo(organization.timezone))
        try:
            return get_response(request)
        finally:
            timezone.deactivate()

    return middleware
