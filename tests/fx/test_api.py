"""/api/v1/fx-rates and spends abroad through the API: happy paths, another tenant's rates, bad input.
Which role may call what is in tests/security/test_access_matrix.py."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.fx.models import FxRate
from apps.ledger.models import Transaction
from tests.fx.conftest import ECB_DAILY, rate_set, today

RATES = "/api/v1/fx-rates"
IMPORT = "/api/v1/fx-rates/ecb-import"


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]


@pytest.mark.django_db
def test_finance_sets_a_rate_and_everyone_in_the_organization_reads_it(api, tenant):
    day = today(tenant.organization).isoformat()
    response = api(tenant.finance).post(RATES, {"currency": "EUR", "date": day, "rate": "1.0837"}, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert {key: created[key] for key in ("currency", "date", "rate", "source", "source_checksum", "entered_by")} == {
        "currency": "EUR",
        "date": day,
        "rate": "1.0837",
        "source": "manual",
        "source_checksum": None,
        "entered_by": tenant.finance.email,
    }
    listed = api(tenant.employee).get(RATES, {"currency": "EUR", "since": day}).json()
    assert [rate["id"] for rate in listed["results"]] == [created["id"]]
    assert api(tenant.employee).get(f"{RATES}/{created['id']}").json() == created


@pytest.mark.django_db
def test_another_tenants_rates_are_neither_listed_nor_found(api, tenant, other_tenant):
    theirs = rate_set(other_tenant, "EUR", "1.08")
    assert api(tenant.finance).get(RATES).json()["results"] == []
    assert error_of(api(tenant.finance).get(f"{RATES}/{theirs.id}"), 404)["code"] == "not_found"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"currency": "XYZ"}, "currency"),
        ({"currency": "eur"}, "currency"),
        ({"currency": "USD"}, "currency"),
        ({"rate": "0"}, "rate"),
        ({"rate": "1.1e2"}, "rate"),
        ({"rate": 1.08}, "rate"),
        ({"rate": "0.0000000000001"}, "rate"),
        ({"date": "2026-13-01"}, "date"),
        ({"date": "2999-01-01"}, "date"),
        ({"source": "ecb"}, "source"),
    ],
)
def test_a_bad_rate_is_400_naming_its_field_and_adds_nothing(api, tenant, change, field):
    body = {"currency": "EUR", "date": today(tenant.organization).isoformat(), "rate": "1.08", **change}
    error = error_of(api(tenant.finance).post(RATES, body, format="json"), 400)
    assert field in error["fields"]
    assert not FxRate.objects.exists()


@pytest.mark.django_db
def test_the_ecb_file_is_imported_by_upload_as_cross_rates_against_the_base(api, tenant):
    response = api(tenant.finance).post(IMPORT, {"file": SimpleUploadedFile("eurofxref.csv", ECB_DAILY)})
    assert response.status_code == 201, response.content
    result = response.json()
    assert (result["added"], result["unchanged"], result["first_date"], result["last_date"]) == (
        29,
        0,
        "2026-12-02",
        "2026-12-02",
    )
    assert "EUR" in result["currencies"] and "USD" not in result["currencies"]
    [euro] = api(tenant.employee).get(RATES, {"currency": "EUR"}).json()["results"]
    assert (euro["rate"], euro["source"], euro["source_checksum"]) == ("1.05", "ecb", result["checksum"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    "upload",
    [
        SimpleUploadedFile("eurofxref.csv", b"Date, USD\n2026-12-02, one\n"),
        SimpleUploadedFile("eurofxref.csv", b"Date, GBP\n2026-12-02, 0.84\n"),
        SimpleUploadedFile("eurofxref.csv", b""),
        "not a file",
    ],
)
def test_a_malformed_ecb_file_is_400_and_imports_nothing(api, tenant, upload):
    error = error_of(api(tenant.finance).post(IMPORT, {"file": upload}), 400)
    assert "file" in error["fields"]
    assert not FxRate.objects.exists()


@pytest.mark.django_db
def test_the_ecb_import_takes_a_file_not_json(api, tenant):
    assert api(tenant.finance).post(IMPORT, {"file": "x"}, format="json").status_code == 415


@pytest.mark.django_db(transaction=True)
def test_a_spend_abroad_answers_with_both_amounts_and_a_missing_rate_is_400(api, tenant):
    body = {"amount": "123.45", "currency": "EUR", "merchant": "Hotel Adlon", "category": "travel"}
    client = api(tenant.employee)
    missing = error_of(client.post("/api/v1/transactions", body, format="json", HTTP_IDEMPOTENCY_KEY="k1"), 400)
    assert missing["code"] == "fx_rate_missing" and "EUR" in missing["message"]
    rate_set(tenant, "EUR", "1.0837")
    response = client.post("/api/v1/transactions", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert response.status_code == 202, response.content
    spend = response.json()
    assert {key: spend[key] for key in ("amount", "currency", "original_amount", "original_currency", "fx_rate")} == {
        "amount": "133.78",
        "currency": "USD",
        "original_amount": "123.45",
        "original_currency": "EUR",
        "fx_rate": "1.0837",
    }
    assert spend["fx_rate_date"] == today(tenant.organization).isoformat()
    assert Transaction.objects.get().amount_minor == 13378
