"""/api/v1/reimbursements and /api/v1/payout-batches: each flow's happy path, who may call it, another
tenant's ids (404) and bad input (400, changing nothing). The full role x route x tenant grid is in
tests/security/test_access_matrix.py; these check what each answer says.

transaction=True: claims are settled for real.
"""

import base64
import hashlib
from datetime import timedelta

import pytest

from apps.ledger.models import Transaction
from apps.reimbursements.models import PayoutBatch
from apps.reimbursements.selectors import local_today
from apps.tenancy.models import Role
from tests.factories import DepartmentFactory
from tests.reimbursements.claims import batch_of, claim_submit, photo_jpeg, receipt_file
from tests.spends import settle_all

pytestmark = pytest.mark.django_db(transaction=True)

CLAIMS = "/api/v1/reimbursements"
BATCHES = "/api/v1/payout-batches"


# The same photo in every body, so that a replay of a claim is the same request.
PHOTO = photo_jpeg()


def claim_body(tenant, **changes) -> dict:
    body = {
        "amount": "42.50",
        "currency": "USD",
        "merchant": "Taxi Co",
        "category": "Travel",
        "incurred_on": str(local_today(tenant.organization)),
        "description": "Airport to office",
        "receipt": receipt_file(content=PHOTO),
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


def post_claim(client, body, key="claim-1"):
    return client.post(CLAIMS, body, format="multipart", HTTP_IDEMPOTENCY_KEY=key)


def approved(tenant, amount="30.00", user=None):
    claim = claim_submit(user or tenant.employee, amount)
    settle_all(tenant.organization)
    return claim


# Claims


def test_an_employee_claims_an_expense_with_its_receipt_and_sees_it_approved(api, tenant):
    client = api(tenant.employee)
    response = post_claim(client, claim_body(tenant))
    assert response.status_code == 202, response.content
    claim = response.json()
    assert claim["status"] == "submitted" and claim["amount"] == "42.50" and claim["category"] == "travel"
    assert claim["incurred_on"] == str(local_today(tenant.organization)) and claim["payout_batch"] is None
    assert response["Location"] == f"{CLAIMS}/{claim['id']}"
    assert Transaction.objects.get(id=claim["id"]).kind == Transaction.Kind.REIMBURSEMENT

    replay = post_claim(client, claim_body(tenant))
    assert replay.status_code == 202 and replay["Idempotent-Replayed"] == "true" and replay.json() == claim

    settle_all(tenant.organization)
    assert client.get(response["Location"]).json()["status"] == "approved"


def test_an_employee_lists_their_own_claims_and_finance_lists_all(api, tenant):
    own = approved(tenant)
    other = approved(tenant, user=tenant.other_employee)
    mine = api(tenant.employee).get(CLAIMS).json()["results"]
    assert [claim["id"] for claim in mine] == [str(own.id)]
    assert api(tenant.employee).get(f"{CLAIMS}/{other.id}").status_code == 404
    for role in (Role.FINANCE_MANAGER, Role.ORG_ADMIN):
        every = api(tenant.user(role)).get(CLAIMS, {"status": "approved"}).json()["results"]
        assert {claim["id"] for claim in every} == {str(own.id), str(other.id)}
    assert api(tenant.finance).get(CLAIMS, {"status": "paid"}).json()["results"] == []


def test_a_claim_of_another_tenant_is_not_found(api, tenant, other_tenant):
    theirs = approved(other_tenant)
    assert api(tenant.finance).get(f"{CLAIMS}/{theirs.id}").status_code == 404
    body = claim_body(tenant, department=str(other_tenant.department.id))
    assert post_claim(api(tenant.finance), body).status_code == 404
    assert not Transaction.objects.filter(organization=tenant.organization).exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"receipt": None}, "receipt"),
        ({"receipt": receipt_file("notes.txt", b"taxi", "text/plain")}, "receipt"),
        ({"amount": "0.00"}, "amount"),
        ({"amount": "12.345"}, "amount"),
        ({"merchant": ""}, "merchant"),
        ({"incurred_on": "not-a-day"}, "incurred_on"),
        ({"currency": "EUR"}, "currency"),
        ({"tip": "5.00"}, "tip"),
    ],
)
def test_a_bad_claim_is_refused_by_field_and_nothing_is_recorded(api, tenant, changes, field):
    response = post_claim(api(tenant.employee), claim_body(tenant, **changes))
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    assert not Transaction.objects.exists()


def test_a_claim_for_a_day_to_come_is_refused(api, tenant):
    tomorrow = local_today(tenant.organization) + timedelta(days=1)
    response = post_claim(api(tenant.employee), claim_body(tenant, incurred_on=str(tomorrow)))
    assert response.status_code == 400 and "incurred_on" in response.json()["error"]["fields"]


def test_a_claim_as_json_or_without_a_key_is_refused(api, tenant):
    client = api(tenant.employee)
    as_json = client.post(CLAIMS, {"amount": "1.00"}, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert as_json.status_code == 415
    without_key = client.post(CLAIMS, claim_body(tenant), format="multipart")
    assert without_key.status_code == 400 and "Idempotency-Key" in without_key.json()["error"]["fields"]
    assert not Transaction.objects.exists()


def test_an_employee_claims_only_from_their_own_department(api, tenant):
    sales = DepartmentFactory(organization=tenant.organization, name="Sales")
    response = post_claim(api(tenant.employee), claim_body(tenant, department=str(sales.id)))
    assert response.status_code == 403


def test_a_system_admin_makes_no_claim(api, tenant, system_admin):
    assert post_claim(api(system_admin), claim_body(tenant)).status_code == 403
    assert api(system_admin).get(CLAIMS).status_code == 403


# Payout batches


def test_finance_makes_releases_and_exports_a_batch(api, tenant):
    first, second = approved(tenant, "30.00"), approved(tenant, "12.50")
    third = approved(tenant, "7.25", user=tenant.other_employee)
    client = api(tenant.finance)

    created = client.post(BATCHES, {"approved_until": str(local_today(tenant.organization))}, format="json")
    assert created.status_code == 201, created.content
    batch = created.json()
    assert batch["status"] == "draft" and batch["total"] == "49.75" and batch["export_sha256"] == ""
    assert {line["claim"] for line in batch["lines"]} == {str(first.id), str(second.id), str(third.id)}
    assert client.get(f"{BATCHES}/{batch['id']}/export.csv").status_code == 409

    released = client.post(f"{BATCHES}/{batch['id']}/release")
    assert released.status_code == 200, released.content
    assert released.json()["status"] == "released" and released.json()["released_by"] == tenant.finance.email
    assert api(tenant.employee).get(f"{CLAIMS}/{first.id}").json()["status"] == "paid"
    assert client.post(f"{BATCHES}/{batch['id']}/release").status_code == 409

    export = client.get(f"{BATCHES}/{batch['id']}/export.csv")
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    content = b"".join(export.streaming_content)
    digest = hashlib.sha256(content).digest()
    assert export["Repr-Digest"] == f"sha-256=:{base64.b64encode(digest).decode()}:"
    assert digest.hex() == released.json()["export_sha256"]
    rows = content.decode().splitlines()
    assert rows[0] == "employee,email,amount,currency,claims,reference"
    by_email = {row.split(",")[1]: row.split(",") for row in rows[1:]}
    assert by_email[tenant.employee.email][2:4] == ["42.50", "USD"]
    assert set(by_email[tenant.employee.email][4].split(";")) == {str(first.id), str(second.id)}
    assert by_email[tenant.other_employee.email][2] == "7.25"
    reference = PayoutBatch.objects.get().reference
    assert sorted(row[5] for row in by_email.values()) == [f"{reference}-0001", f"{reference}-0002"]


def test_finance_discards_a_draft_and_its_claims_are_free_again(api, tenant):
    claim = approved(tenant)
    client = api(tenant.admin)
    batch = client.post(BATCHES, {"claims": [str(claim.id)]}, format="json").json()
    assert client.delete(f"{BATCHES}/{batch['id']}").status_code == 204
    again = client.post(BATCHES, {"claims": [str(claim.id)]}, format="json")
    assert again.status_code == 201
    client.post(f"{BATCHES}/{again.json()['id']}/release")
    assert client.delete(f"{BATCHES}/{again.json()['id']}").status_code == 409


def test_employees_have_no_payout_batches(api, tenant):
    claim = approved(tenant)
    batch = batch_of(tenant.finance, [claim])
    client = api(tenant.employee)
    assert client.get(BATCHES).status_code == 403
    assert client.post(BATCHES, {"claims": [str(claim.id)]}, format="json").status_code == 403
    assert client.post(f"{BATCHES}/{batch.id}/release").status_code == 403
    assert client.get(f"{BATCHES}/{batch.id}/export.csv").status_code == 403
    assert PayoutBatch.objects.get().status == PayoutBatch.Status.DRAFT


def test_another_tenants_batch_and_claims_are_not_found(api, tenant, other_tenant):
    theirs = approved(other_tenant)
    their_batch = batch_of(other_tenant.finance, [theirs])
    client = api(tenant.finance)
    assert client.get(f"{BATCHES}/{their_batch.id}").status_code == 404
    assert client.post(f"{BATCHES}/{their_batch.id}/release").status_code == 404
    assert client.get(f"{BATCHES}/{their_batch.id}/export.csv").status_code == 404
    assert client.post(BATCHES, {"claims": [str(theirs.id)]}, format="json").status_code == 404
    assert PayoutBatch.objects.get().status == PayoutBatch.Status.DRAFT
    assert client.get(BATCHES).json() == {"results": []}


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"claims": []},
        {"claims": ["not-a-uuid"]},
        {"approved_until": "yesterday"},
        {"claims": ["00000000-0000-0000-0000-000000000001"], "approved_until": "2026-01-01"},
        {"approved_until": "2026-01-01", "bank": "x"},
    ],
)
def test_a_bad_batch_request_is_refused_and_makes_nothing(api, tenant, body):
    approved(tenant)
    response = api(tenant.finance).post(BATCHES, body, format="json")
    assert response.status_code == 400, response.content
    assert not PayoutBatch.objects.exists()


def test_a_batch_of_a_claim_not_approved_is_refused(api, tenant):
    pending = claim_submit(tenant.employee, "10.00")
    response = api(tenant.finance).post(BATCHES, {"claims": [str(pending.id)]}, format="json")
    assert response.status_code == 400 and str(pending.id) in response.json()["error"]["message"]
    assert api(tenant.finance).post(BATCHES, {"approved_until": "2020-01-01"}, format="json").status_code == 400
    assert not PayoutBatch.objects.exists()
