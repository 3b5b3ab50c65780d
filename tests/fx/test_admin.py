"""FX rates in the back office: added through the service by finance, imported from the ECB file on its
own page, refused beside the field at fault, scoped to the organization; nothing changed or deleted."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from apps.fx.models import FxRate
from tests.factories import login_verified
from tests.fx.conftest import ECB_DAILY, rate_set, today

RATES = "/admin/fx/fxrate/"


def admin_client(user) -> Client:
    client = Client()
    login_verified(client, user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("editor", ["admin", "finance"])
def test_finance_adds_a_rate_through_the_service(tenant, editor):
    user = getattr(tenant, editor)
    client = admin_client(user)
    assert 'name="organization"' not in client.get(f"{RATES}add/").content.decode()
    response = client.post(
        f"{RATES}add/", {"currency": "EUR", "rate_date": today(tenant.organization).isoformat(), "rate": "1.0837"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rate = FxRate.objects.get()
    assert (rate.organization, rate.currency, rate.rate, rate.source, rate.entered_by) == (
        tenant.organization,
        "EUR",
        Decimal("1.0837"),
        FxRate.Source.MANUAL,
        user,
    )
    assert 'href="/admin/fx/fxrate/ecb-import/"' in client.get(RATES).content.decode()


@pytest.mark.django_db
def test_a_bad_rate_is_refused_beside_its_field(tenant):
    response = admin_client(tenant.finance).post(
        f"{RATES}add/", {"currency": "USD", "rate_date": today(tenant.organization).isoformat(), "rate": "1"}
    )
    assert response.status_code == 200
    assert "base currency" in str(response.context["adminform"].form.errors["currency"])
    assert not FxRate.objects.exists()


@pytest.mark.django_db
def test_rates_are_listed_per_organization_and_never_changed_or_deleted(tenant, other_tenant):
    own, theirs = rate_set(tenant, "EUR", "1.08"), rate_set(other_tenant, "EUR", "1.09")
    client = admin_client(tenant.finance)
    assert list(client.get(RATES).context["cl"].queryset) == [own]
    assert client.get(f"{RATES}{theirs.id}/change/").status_code == 302
    client.post(f"{RATES}{own.id}/change/", {"rate": "2"})
    client.post(f"{RATES}{own.id}/delete/", {"post": "yes"})
    own.refresh_from_db()
    assert own.rate == Decimal("1.08")


@pytest.mark.django_db
def test_finance_imports_the_ecb_file_on_its_page(tenant):
    client = admin_client(tenant.finance)
    page = client.get(f"{RATES}ecb-import/")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.content.decode()
    response = client.post(
        f"{RATES}ecb-import/",
        {"organization": str(tenant.organization.id), "file": SimpleUploadedFile("eurofxref.csv", ECB_DAILY)},
    )
    assert response.status_code == 302
    assert FxRate.objects.of(tenant.organization).count() == 29

    without_the_base = SimpleUploadedFile("x.csv", b"Date, GBP\n2026-12-02, 1\n")
    refused = client.post(
        f"{RATES}ecb-import/", {"organization": str(tenant.organization.id), "file": without_the_base}
    )
    assert refused.status_code == 200 and "no rate for USD" in str(refused.context["form"].errors["file"])
    assert FxRate.objects.count() == 29


@pytest.mark.django_db
def test_the_import_page_is_finances_and_of_their_own_organization(tenant, other_tenant):
    assert admin_client(tenant.employee).get(f"{RATES}ecb-import/").status_code == 302  # not staff: sign in
    response = admin_client(tenant.finance).post(
        f"{RATES}ecb-import/",
        {"organization": str(other_tenant.organization.id), "file": SimpleUploadedFile("e.csv", ECB_DAILY)},
    )
    assert response.status_code == 200 and "organization" in response.context["form"].errors
    assert not FxRate.objects.exists()
