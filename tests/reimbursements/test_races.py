"""Paying claims concurrently, against the real PostgreSQL: threads, each with its own connection, released
together. Whatever finance does at once, each claim is paid exactly once.

transaction=True: every contender commits for real.
"""

import pytest

from apps.ledger.models import Account, Entry, Transaction
from apps.ledger.selectors import ledger_verify
from apps.reimbursements import services
from apps.reimbursements.models import PayoutBatch, PayoutLine
from ledgerx.errors import Conflict, InvalidInput
from tests.conftest import run_in_threads
from tests.reimbursements.claims import batch_of, batch_of_all, claim_submit
from tests.spends import refreshed, settle_all, spend_reverse

pytestmark = pytest.mark.django_db(transaction=True)


def _approved_claims(tenant, count: int) -> list:
    claims = [claim_submit(tenant.employee if i % 2 else tenant.other_employee, f"{10 + i}.00") for i in range(count)]
    settle_all(tenant.organization)
    return claims


def _payout_legs_per_claim() -> dict:
    legs: dict = {}
    for claim_id in Entry.objects.filter(account__kind=Account.Kind.PAYOUT_CLEARING).values_list(
        "transaction_id", flat=True
    ):
        legs[claim_id] = legs.get(claim_id, 0) + 1
    return legs


def test_two_releases_of_one_batch_at_once_pay_each_claim_once(tenant):
    claims = _approved_claims(tenant, 6)
    batch = batch_of(tenant.finance, claims)

    def release(index):
        try:
            services.batch_release(actor=tenant.finance, batch_id=batch.id)
        except Conflict:
            return "refused"
        return "released"

    outcomes = run_in_threads(4, release)

    assert sorted(outcomes) == ["refused", "refused", "refused", "released"]
    assert _payout_legs_per_claim() == {claim.id: 1 for claim in claims}
    report = ledger_verify()
    assert report["ok"], report["problems"]


def test_overlapping_batches_made_and_released_at_once_pay_each_claim_once(tenant):
    claims = _approved_claims(tenant, 8)
    # Four finance users at once: two gather every approved claim, two name overlapping halves.
    named = [claims[:5], claims[3:]]

    def make(index):
        try:
            if index < 2:
                return batch_of_all(tenant.finance)
            return batch_of(tenant.finance, named[index - 2])
        except InvalidInput:
            return None

    batches = [batch for batch in run_in_threads(4, make) if batch is not None]
    assert batches
    # Every claim is on one line at most, and the batches made hold them all between them.
    assert sorted(PayoutLine.objects.values_list("claim_id", flat=True)) == sorted(claim.id for claim in claims)

    def release(index):
        services.batch_release(actor=tenant.finance, batch_id=batches[index % len(batches)].id)

    with pytest.raises(Conflict):  # each batch is released by one of its two contenders only
        run_in_threads(2 * len(batches), release)
    assert set(PayoutBatch.objects.values_list("status", flat=True)) == {PayoutBatch.Status.RELEASED}
    assert _payout_legs_per_claim() == {claim.id: 1 for claim in claims}
    report = ledger_verify()
    assert report["ok"], report["problems"]


def test_a_release_and_a_reversal_of_its_claim_at_once_do_one_or_the_other(tenant):
    for _ in range(5):
        claim = _approved_claims(tenant, 1)[0]
        batch = batch_of(tenant.finance, [claim])

        def contend(index, claim, batch):
            try:
                if index == 0:
                    services.batch_release(actor=tenant.finance, batch_id=batch.id)
                else:
                    spend_reverse(tenant.finance, refreshed(claim))
            except Conflict:
                return "refused"
            return "done"

        assert sorted(run_in_threads(2, contend, claim, batch)) == ["done", "refused"]
        paid = PayoutBatch.objects.get(id=batch.id).status == PayoutBatch.Status.RELEASED
        assert refreshed(claim).status == (Transaction.Status.POSTED if paid else Transaction.Status.REVERSED)
    report = ledger_verify()
    assert report["ok"], report["problems"]
