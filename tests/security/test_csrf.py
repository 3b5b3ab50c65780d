"""CSRF: every POST form on every page carries a token, and a POST without one is refused.

Pages are found from the URL resolver (every route outside /api/ without path parameters), so the
pages added later are covered by the same test.
"""

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import PASSWORD, login_verified

pytestmark = pytest.mark.django_db

FORM = re.compile(r"<form\b[^>]*>(.*?)</form>", re.S | re.I)
POST_FORM = re.compile(r"<form\b[^>]*method=[\"']?post", re.I)


def _routes(patterns=None, prefix=""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route


def _pages() -> list[str]:
    """Every route outside the API that needs no path parameter, as a path."""
    parametrized = ("<", "(", "[", "^", "$", "\\")
    return sorted(
        "/" + route
        for route in _routes()
        if not route.startswith("api/") and not any(mark in route for mark in parametrized)
    )


def _post_forms(html: str) -> list[str]:
    return [match.group(0) for match in FORM.finditer(html) if POST_FORM.match(match.group(0))]


def test_the_admin_login_page_is_among_the_pages():
    assert "/admin/login/" in _pages()


@pytest.mark.parametrize("who", ["anonymous", "org_admin", "system_admin"])
def test_every_post_form_on_every_page_carries_a_csrf_token(tenant, system_admin, who):
    client = Client()
    if who != "anonymous":
        login_verified(client, system_admin if who == "system_admin" else tenant.admin)
    forms_seen = 0
    for path in _pages():
        response = client.get(path)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        for form in _post_forms(response.content.decode()):
            forms_seen += 1
            assert 'name="csrfmiddlewaretoken"' in form, f"a POST form on {path} has no CSRF token"
    if who == "anonymous":
        assert forms_seen >= 1  # at least the admin login form was checked


def test_the_admin_login_refuses_a_post_without_the_csrf_token(system_admin):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/admin/login/", {"username": system_admin.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_the_admin_login_accepts_a_post_with_the_csrf_token(system_admin):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": system_admin.email, "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(system_admin.id)


def test_a_session_authenticated_api_write_needs_the_csrf_token(tenant):
    client = Client(enforce_csrf_checks=True)
    login_verified(client, tenant.admin)
    assert client.get("/api/v1/me").status_code == 200
    response = client.post(
        "/api/v1/departments", {"name": "Sales", "monthly_limit": "10.00"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]
