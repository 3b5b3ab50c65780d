"""Every API route and method, read from the URL resolver, so new endpoints are covered by themselves."""

from django.urls import URLPattern, URLResolver, get_resolver

API_PREFIX = "api/v1/"
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def _patterns(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def api_routes() -> list[tuple[str, str]]:
    """(METHOD, route under /api/v1/ as written in urls.py, e.g. 'departments/<uuid:department_id>')."""
    found = []
    for route, callback in _patterns(get_resolver().url_patterns):
        if not route.startswith(API_PREFIX):
            continue
        view_class = getattr(callback, "view_class", None)
        if view_class is None:
            raise AssertionError(f"/{route} is not a class-based API view; the matrix cannot read its methods")
        for method in HTTP_METHODS:
            if hasattr(view_class, method):
                found.append((method.upper(), route[len(API_PREFIX) :]))
    return sorted(found)
