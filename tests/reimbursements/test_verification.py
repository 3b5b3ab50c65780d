"""verify_ledger on reimbursements: each check named here fails on the tamper it is there for.

transaction=True: claims are settled and batches released for real; tampers are committed.
"""

import pytest

from apps.ledger.models import Account, Entry
from apps.ledger.verification import ledger_verify
from apps.reimbursements import services
from apps.reimbursements.models import PayoutLine
from tests.owner import owner_cursor
from tests.reimbursements.claims import batch_of, claim_submit
from tests.spends import refreshed, settle_all

pytestmark = pytest.mark.django_db(transaction=True)


def approved(tenant, amount: str):
    claim = claim_submit(tenant.employee, amount)
    settle_all(tenant.organization)
    return refreshed(claim)


def test_a_claim_journaled_as_a_card_spend_is_named(tenant):
    claim = approved(tenant, "20.00")
    with owner_cursor() as cursor:
        cursor.execute("UPDATE ledger_transaction SET kind = 'spend' WHERE id = %s", [claim.id])
    problems = ledger_verify()["problems"]
    assert (
        f"Spend {claim.id} (posted) of 2000 USD should be journaled as -2000 on card funding and 2000 on its "
        f"department's expenses, in USD; its entries are -2000 USD on the payable to {tenant.employee.email}, "
        "2000 USD on the expenses of 'Engineering'."
    ) in problems


def test_a_released_line_without_its_payout_is_named(tenant):
    paid, unpaid = approved(tenant, "20.00"), approved(tenant, "5.00")
    batch = batch_of(tenant.finance, [paid])
    services.batch_release(actor=tenant.finance, batch_id=batch.id)
    assert ledger_verify()["ok"]
    # A line slipped into the released batch below the services: paid on paper, never in the ledger.
    PayoutLine.objects.create(
        organization=tenant.organization,
        batch=batch,
        claim=unpaid,
        employee=tenant.employee,
        employee_email=tenant.employee.email,
        amount_minor=500,
    )
    problems = ledger_verify()["problems"]
    assert f"Claim {unpaid.id}: on a released payout line of 500, paid out 0 in the ledger." in problems
    assert (
        f"The payable to {tenant.employee.email} says 500 is owed; approved claims total 2500, of which 2500 "
        "was paid out."
    ) in problems


def test_a_payable_moved_below_the_services_is_named(tenant):
    claim = approved(tenant, "20.00")
    payable = Account.objects.get(kind=Account.Kind.EMPLOYEE_PAYABLE, employee=tenant.employee)
    other = claim_submit(tenant.other_employee, "1.00")
    settle_all(tenant.organization)
    theirs = Account.objects.get(kind=Account.Kind.EMPLOYEE_PAYABLE, employee=tenant.other_employee)
    entry = Entry.objects.get(transaction=claim, account=payable)
    with owner_cursor() as cursor:
        cursor.execute("ALTER TABLE ledger_entry DISABLE TRIGGER USER")
        try:
            cursor.execute("UPDATE ledger_entry SET account_id = %s WHERE id = %s", [theirs.id, entry.id])
        finally:
            cursor.execute("ALTER TABLE ledger_entry ENABLE TRIGGER USER")
    problems = ledger_verify()["problems"]
    assert any(problem.startswith(f"Reimbursement {claim.id} (posted)") for problem in problems)
    assert (
        f"The payable to {tenant.other_employee.email} says 2100 is owed; approved claims total 100, of which 0 "
        "was paid out."
    ) in problems
    assert refreshed(other).status == "posted"
