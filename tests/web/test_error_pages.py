"""The project's error pages (templates/400.html ... 500.html) for what fails outside the API."""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory

from ledgerx import errors


@pytest.mark.django_db
def test_an_unknown_page_answers_the_404_page_in_the_site_layout():
    response = Client().get("/no-such-page")

    page = response.content.decode()
    assert response.status_code == 404
    assert "<title>Page not found · LedgerX</title>" in page
    assert 'class="skip-link"' in page  # templates/base.html


@pytest.mark.django_db
def test_a_bad_host_answers_the_400_page():
    response = Client().get("/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert '<h1 id="error-title">Bad request</h1>' in response.content.decode()


@pytest.mark.django_db
def test_a_refusal_outside_the_api_answers_the_403_page():
    response = errors.permission_denied(RequestFactory().get("/somewhere/"), PermissionDenied())

    assert response.status_code == 403
    assert "You may not open this page." in response.content.decode()


def test_a_server_error_answers_the_500_page_without_touching_the_database():
    response = errors.server_error(RequestFactory().get("/somewhere/"))

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
