"""The installable app: its web app manifest, its service worker (served from the root so its scope is
every page) and the page it shows for a page it has not kept while offline.

None of them needs a session: browsers fetch the manifest and the worker script without cookies, and
the offline page shows no one's data."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

THEME_COLOR = "#1f2937"  # the site header's colour (--header in app.css)
ICONS = (
    ("web/icons/icon-192.png", "192x192", "any"),
    ("web/icons/icon-512.png", "512x512", "any"),
    ("web/icons/icon-maskable-512.png", "512x512", "maskable"),
)
# What the worker keeps on install: the shell every kept page needs, and the page for the others.
SHELL_ASSETS = (
    "web/app.css",
    "web/app.js",
    "web/pwa.js",
    "web/outbox.js",
    "web/employee.js",
    "web/approvals.js",
    "web/charts.js",
    "web/question.js",
    "vendor/idb/umd.js",
    "vendor/chart.js/chart.umd.min.js",
    "web/favicon.svg",
    *(path for path, _size, _purpose in ICONS),
)
# Bumped when the worker's own logic changes; a change of a static file's URL renews it anyway.
SERVICE_WORKER_VERSION = "1"


@require_GET
@cache_control(max_age=3600)
def manifest(request: HttpRequest) -> JsonResponse:
    body = {
        "id": "/",
        "name": "LedgerX",
        "short_name": "LedgerX",
        "description": "Record a spend, see your budget, decide approvals: even without a connection.",
        "start_url": "/?source=app",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#f6f8fa",
        "theme_color": THEME_COLOR,
        "icons": [
            {"src": static(path), "sizes": sizes, "type": "image/png", "purpose": purpose}
            for path, sizes, purpose in ICONS
        ],
    }
    return JsonResponse(body, content_type="application/manifest+json")


@require_GET
@cache_control(no_cache=True)
def service_worker(request: HttpRequest) -> HttpResponse:
    # Rendered, not a static file: the worker must live at the root to control every page, and it
    # names the static files by their served URLs (hashed in production).
    context = {
        "version": SERVICE_WORKER_VERSION,
        "shell_assets": [static(path) for path in SHELL_ASSETS],
        "idb_url": static("vendor/idb/umd.js"),
        "outbox_url": static("web/outbox.js"),
        "static_prefix": settings.STATIC_URL,
        "notice_icon": static(ICONS[0][0]),
    }
    response = render(request, "web/sw.js", context, content_type="text/javascript")
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    return render(request, "web/offline.html", {"page_title": "Offline", "navigation": []})
