"""A frozen spender in the spend workflow: a spend accepted before the freeze still replays, settlement
rejects it with the reason, and a held spend of theirs cannot be approved. Intake's 403:
tests/spending/test_fraud_review.py. transaction=True: settlement takes its lock outside any transaction.
"""

import uuid

import pytest

from apps.approvals.models import ApprovalRequest
from apps.approvals.services import approval_policy_create
from apps.ledger.models import Transaction
from apps.tenancy import services as tenancy_services
from tests.spends import period_now, settle_all, spend_settled

SPEND = {"amount": "20.00", "currency": "USD", "merchant": "Dell", "category": "equipment"}


def submit(api, user, key: str | None = None):
    return api(user).post("/api/v1/transactions", SPEND, format="json", HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex)


def frozen(tenant):
    return tenancy_services.user_freeze(actor=tenant.finance, user=tenant.employee, reason="Card stolen.")


@pytest.mark.django_db(transaction=True)
def test_a_spend_accepted_before_the_freeze_replays_and_is_rejected_at_settlement(api, tenant):
    accepted = submit(api, tenant.employee, key="before-the-freeze")
    assert accepted.status_code == 202
    employee = frozen(tenant)

    replay = submit(api, employee, key="before-the-freeze")
    assert (replay.status_code, replay.headers["Idempotent-Replayed"]) == (202, "true")
    assert replay.json()["id"] == accepted.json()["id"]
    assert submit(api, employee).status_code == 403  # a new key is a new spend

    settle_all(tenant.organization)
    spend = Transaction.objects.get(id=accepted.json()["id"])
    assert spend.status == Transaction.Status.REJECTED
    assert spend.rejection_reason == (
        f"Spending by {employee.email} is frozen: Card stolen. An org admin can lift the freeze."
    )
    assert period_now(tenant.department).spent_minor == 0
    # Settlement refuses only the frozen: a colleague's spend in the same batch posts.
    assert spend_settled(tenant.other_employee, "20.00").status == Transaction.Status.POSTED


@pytest.mark.django_db(transaction=True)
def test_a_frozen_employees_held_spend_cannot_be_approved_but_can_be_rejected(api, tenant):
    approval_policy_create(
        organization=tenant.organization, name="Large", min_amount_minor=500_000, levels=["finance_manager"]
    )
    approval = spend_settled(tenant.employee, "6000.00").approval
    frozen(tenant)
    client = api(tenant.finance)
    approve = client.post(f"/api/v1/approvals/{approval.id}/approve", {}, format="json")
    assert approve.status_code == 409
    assert approve.json()["error"]["message"].endswith("Until then this spend can only be rejected.")
    approval.refresh_from_db()
    assert approval.status == ApprovalRequest.Status.PENDING
    reject = client.post(f"/api/v1/approvals/{approval.id}/reject", {"note": "Frozen for fraud."}, format="json")
    assert reject.status_code == 200
    assert Transaction.objects.get(id=approval.transaction_id).status == Transaction.Status.REJECTED
