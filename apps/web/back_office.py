"""Every page in the organization's time: the back office (/admin/) and the pages read their times in the
signed-in user's organization's timezone, each naming the zone (ledgerx/formats).

Not the API: it answers in UTC with offsets, its contract, whoever calls it.
"""

from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.utils import timezone


def organization_timezone(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if request.path.startswith("/api/") or user is None or not user.is_authenticated:
            return get_response(request)
        organization = user.organization
        if organization is None:
            return get_response(request)
        timezone.activate(ZoneInfo(organization.timezone))
        try:
            return get_response(request)
        finally:
            timezone.deactivate()

    return middleware
