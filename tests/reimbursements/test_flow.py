"""A claim's whole life through the real services: settled as a spend, owed, paid in a batch, verified.

transaction=True: settlement takes the organization's lock outside any transaction, as workers do.
"""

import pytest

from apps.approvals import services as approval_services
from apps.approvals.models import ApprovalRequest
from apps.budgets.services import budget_period_set_limit
from apps.ledger.models import Account, Entry, Transaction
from apps.ledger.selectors import ledger_verify
from apps.receipts import selectors as receipt_selectors
from apps.receipts.models import Receipt
from apps.reimbursements import selectors, services
from apps.reimbursements.models import PayoutBatch
from apps.spending import services as spending_services
from apps.webhooks.models import OutboxEvent
from ledgerx.errors import Conflict, IdempotencyKeyReused, InvalidInput
from tests.factories import DepartmentFactory, UserFactory
from tests.receipts.conftest import stored_files
from tests.reimbursements.claims import batch_of, batch_of_all, claim_submit, receipt_file, status_of
from tests.spends import period_now, refreshed, settle_all, spend_reverse

pytestmark = pytest.mark.django_db(transaction=True)


def _balance(kind: str, **account) -> int:
    return sum(
        Entry.objects.filter(account__kind=kind, **{f"account__{k}": v for k, v in account.items()}).values_list(
            "amount_minor", flat=True
        )
    )


def test_a_claim_is_approved_owed_paid_and_the_ledger_verifies(tenant):
    approval_services.approval_policy_create(
        organization=tenant.organization, name="Large", min_amount_minor=10_000, levels=["finance_manager"]
    )
    claim = claim_submit(tenant.employee, "250.00")
    assert claim.kind == Transaction.Kind.REIMBURSEMENT
    assert status_of(tenant.employee, claim) == "submitted"

    settle_all(tenant.organization)
    assert status_of(tenant.employee, claim) == "awaiting_approval"
    assert period_now(tenant.department).held_minor == 25_000
    request = ApprovalRequest.objects.get(transaction=claim)
    spending_services.approval_decide(actor=tenant.finance, request_id=request.id, approve=True, note="")

    assert status_of(tenant.employee, claim) == "approved"
    assert period_now(tenant.department).spent_minor == 25_000
    assert selectors.payable_balance_minor(employee=tenant.employee) == 25_000
    # The claim's journal: the department's expenses debited, the employee's payable credited; no card money.
    assert _balance(Account.Kind.EXPENSE, department=tenant.department) == 25_000
    assert _balance(Account.Kind.EMPLOYEE_PAYABLE, employee=tenant.employee) == -25_000
    assert not Entry.objects.filter(account__kind=Account.Kind.CARD_FUNDING).exists()

    batch = batch_of_all(tenant.finance)
    assert batch.total_minor == 25_000 and batch.status == PayoutBatch.Status.DRAFT
    assert status_of(tenant.employee, claim) == "approved"
    services.batch_release(actor=tenant.finance, batch_id=batch.id)

    assert status_of(tenant.employee, claim) == "paid"
    assert selectors.payable_balance_minor(employee=tenant.employee) == 0
    assert _balance(Account.Kind.PAYOUT_CLEARING) == -25_000
    assert Entry.objects.filter(transaction=claim).count() == 4
    report = ledger_verify()
    assert report["ok"], report["problems"]
    types = list(OutboxEvent.objects.order_by("created_at", "id").values_list("type", flat=True))
    for event in (
        "reimbursement.submitted",
        "approval.requested",
        "reimbursement.approved",
        "reimbursement.paid",
        "payout_batch.released",
    ):
        assert event in types


def test_a_claim_without_approval_posts_at_settlement_and_counts_in_the_spend_tallies(tenant):
    claim = claim_submit(tenant.employee, "40.00")
    settle_all(tenant.organization)
    assert refreshed(claim).status == Transaction.Status.POSTED
    assert selectors.payable_balance_minor(employee=tenant.employee) == 4_000
    assert ledger_verify()["ok"]


def test_a_claim_over_an_ancestors_limit_is_rejected_and_nothing_is_owed(tenant):
    budget_period_set_limit(
        actor=None, department=tenant.department, month=period_now(tenant.department).month, limit_minor=1_000_000
    )
    team = DepartmentFactory(
        organization=tenant.organization, name="Platform", parent=tenant.department, monthly_limit_minor=5_000_000
    )
    engineer = UserFactory(department=team)
    claim = claim_submit(engineer, "20000.00")
    settle_all(tenant.organization)

    claim = refreshed(claim)
    assert claim.status == Transaction.Status.REJECTED
    assert "Department 'Engineering' budget exceeded" in claim.rejection_reason
    assert status_of(engineer, claim) == "rejected"
    assert selectors.payable_balance_minor(employee=engineer) == 0
    assert OutboxEvent.objects.filter(type="reimbursement.rejected").count() == 1
    assert ledger_verify()["ok"]


def test_reversing_an_unpaid_claim_releases_its_budget_and_its_payable(tenant):
    claim = claim_submit(tenant.employee, "75.00")
    settle_all(tenant.organization)
    assert period_now(tenant.department).spent_minor == 7_500

    spend_reverse(tenant.finance, refreshed(claim), reason="Claimed twice")

    assert status_of(tenant.employee, claim) == "reversed"
    assert period_now(tenant.department).spent_minor == 0
    assert selectors.payable_balance_minor(employee=tenant.employee) == 0
    with pytest.raises(InvalidInput):
        batch_of(tenant.finance, [claim])
    report = ledger_verify()
    assert report["ok"], report["problems"]


def test_a_paid_claim_cannot_be_reversed(tenant):
    claim = claim_submit(tenant.employee, "30.00")
    settle_all(tenant.organization)
    services.batch_release(actor=tenant.finance, batch_id=batch_of(tenant.finance, [claim]).id)

    with pytest.raises(Conflict, match="paid out in a payout batch and cannot be reversed"):
        spend_reverse(tenant.finance, refreshed(claim))
    assert refreshed(claim).status == Transaction.Status.POSTED
    assert ledger_verify()["ok"]


def test_a_batch_is_released_once(tenant):
    claim = claim_submit(tenant.employee, "30.00")
    settle_all(tenant.organization)
    batch = batch_of(tenant.finance, [claim])
    services.batch_release(actor=tenant.finance, batch_id=batch.id)

    with pytest.raises(Conflict, match="already released"):
        services.batch_release(actor=tenant.finance, batch_id=batch.id)
    assert Entry.objects.filter(transaction=claim).count() == 4


def test_a_claim_reversed_after_its_batch_was_drafted_stops_the_release(tenant):
    claim = claim_submit(tenant.employee, "30.00")
    settle_all(tenant.organization)
    batch = batch_of(tenant.finance, [claim])
    spend_reverse(tenant.finance, refreshed(claim))

    with pytest.raises(Conflict, match="were reversed since it was made"):
        services.batch_release(actor=tenant.finance, batch_id=batch.id)
    services.batch_discard(actor=tenant.finance, batch_id=batch.id)
    assert not PayoutBatch.objects.exists()
    assert ledger_verify()["ok"]


def test_a_claim_is_in_one_batch_at_most(tenant):
    claim = claim_submit(tenant.employee, "30.00")
    settle_all(tenant.organization)
    batch_of(tenant.finance, [claim])
    with pytest.raises(InvalidInput, match="not yet in a batch"):
        batch_of(tenant.finance, [claim])
    with pytest.raises(InvalidInput, match="No approved claims"):
        batch_of_all(tenant.finance)


def test_a_claim_needs_a_receipt_of_a_known_type_and_nothing_is_written_without_one(tenant, receipts_storage):
    for receipt, message in (
        (None, "needs its receipt"),
        (receipt_file("r.jpg", b"taxi to the airport", "image/jpeg"), "is not a"),
    ):
        with pytest.raises(InvalidInput, match=message):
            services.claim_submit(
                user=tenant.employee,
                idempotency_key="k-1",
                amount="10.00",
                currency="USD",
                merchant="Taxi",
                category="travel",
                incurred_on=selectors.local_today(tenant.organization),
                description="",
                department_id=None,
                receipt=receipt,
            )
    assert not Transaction.objects.exists()
    assert not OutboxEvent.objects.exists()
    assert not Receipt.objects.exists()
    assert not stored_files(receipts_storage)


def test_a_claims_receipt_is_kept_as_a_receipt_of_its_transaction_that_finance_sees(tenant, receipts_storage):
    claim = claim_submit(tenant.employee, "10.00")
    [receipt] = Receipt.objects.filter(transaction=claim)
    assert receipt.uploaded_by == tenant.employee
    assert receipt.content_type == "image/jpeg"
    assert stored_files(receipts_storage) == [receipt.file_name]
    assert receipt_selectors.receipt_visible_to(user=tenant.finance, receipt=receipt)
    assert not receipt_selectors.receipt_visible_to(user=UserFactory(organization=tenant.organization), receipt=receipt)


def test_a_replay_with_another_receipt_is_refused(tenant):
    claim_submit(tenant.employee, "10.00", key="same")
    with pytest.raises(IdempotencyKeyReused):
        services.claim_submit(
            user=tenant.employee,
            idempotency_key="same",
            amount="10.00",
            currency="USD",
            merchant="Taxi Co",
            category="travel",
            incurred_on=selectors.local_today(tenant.organization),
            description="Airport taxi",
            department_id=None,
            receipt=receipt_file(content=b"\xff\xd8other\xff\xd9"),
        )
