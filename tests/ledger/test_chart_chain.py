"""The hash chain covers each entry's GL code and cost centre, and the entries sealed before there were
any (empty codes) keep the payload, and the hash, they were sealed with.

Tampering is done as the database owner with the triggers off (tests.owner), committed: transaction=True.
"""

import hashlib

import pytest

from apps.ledger import chain
from apps.ledger.chain import EPOCH
from apps.ledger.models import Account, Entry, EntrySeal
from apps.ledger.verification import ledger_verify
from tests.owner import owner_cursor, triggers_off
from tests.spends import spend_reverse, spend_settled

pytestmark = pytest.mark.django_db(transaction=True)


def _changed_problem(entry: Entry) -> str:
    return f"Entry {entry.id} was changed after it was sealed: it no longer matches its hash"


def _expense_line(spend) -> Entry:
    return Entry.objects.get(transaction_id=spend.id, account__kind=Account.Kind.EXPENSE)


@pytest.mark.parametrize("tampered", ["6999", ""], ids=["recoded", "codes-erased"])
def test_an_entrys_gl_code_edited_after_sealing_is_named(tenant, tampered):
    spend = spend_settled(tenant.employee, "10.00", category="travel")
    chain.ledger_seal_all()
    entry = _expense_line(spend)
    assert entry.gl_code == "6100"
    with owner_cursor() as cursor, triggers_off(cursor, "ledger_entry"):
        cursor.execute("UPDATE ledger_entry SET gl_code = %s WHERE id = %s", [tampered, entry.id])

    report = ledger_verify(organization=tenant.organization)
    assert not report["ok"]
    assert any(problem.startswith(_changed_problem(entry)) for problem in report["problems"]), report["problems"]


def test_an_entrys_cost_centre_edited_after_sealing_is_named(tenant):
    spend = spend_settled(tenant.employee, "10.00", category="travel")
    chain.ledger_seal_all()
    entry = _expense_line(spend)
    with owner_cursor() as cursor, triggers_off(cursor, "ledger_entry"):
        cursor.execute("UPDATE ledger_entry SET cost_centre = 'CC-9' WHERE id = %s", [entry.id])

    assert any(problem.startswith(_changed_problem(entry)) for problem in ledger_verify()["problems"])


def test_entries_without_codes_keep_the_payload_they_were_sealed_with(tenant):
    """Entries as written before the chart of accounts (codes erased before the sealer reached them)."""
    old = spend_settled(tenant.employee, "10.00")
    with owner_cursor() as cursor, triggers_off(cursor, "ledger_entry"):
        cursor.execute("UPDATE ledger_entry SET gl_code = '', cost_centre = '' WHERE transaction_id = %s", [old.id])
    new = spend_settled(tenant.employee, "20.00")
    chain.ledger_seal_all()

    report = ledger_verify(organization=tenant.organization)
    assert report["ok"], report["problems"]
    for entry in Entry.objects.filter(transaction_id=old.id):
        before_the_chart = "|".join(
            str(value)
            for value in (
                entry.id,
                entry.organization_id,
                entry.transaction_id,
                entry.account_id,
                entry.amount_minor,
                entry.currency,
                (entry.created_at - EPOCH).days * 86_400_000_000
                + (entry.created_at - EPOCH).seconds * 1_000_000
                + (entry.created_at - EPOCH).microseconds,
            )
        )
        assert chain.entry_payload(entry) == before_the_chart
        seal = EntrySeal.objects.get(entry=entry)
        expected = hashlib.sha256(f"{seal.prev_hash}|{seal.sequence}|{before_the_chart}".encode()).hexdigest()
        assert seal.hash == expected
    # A coded entry's payload ends with its codes, and the sealer (PostgreSQL's payload) agrees with Python's.
    coded = _expense_line(new)
    assert chain.entry_payload(coded).endswith("|6300|")
    seal = EntrySeal.objects.get(entry=coded)
    assert seal.hash == chain.link_hash(coded, prev_hash=seal.prev_hash, sequence=seal.sequence)


def test_a_reversal_posted_to_other_codes_than_its_original_is_named(tenant):
    spend = spend_settled(tenant.employee, "10.00", category="travel")
    reversal = spend_reverse(tenant.finance, spend)
    assert ledger_verify(organization=tenant.organization)["ok"]
    with owner_cursor() as cursor, triggers_off(cursor, "ledger_entry"):
        cursor.execute(
            "UPDATE ledger_entry SET gl_code = '6000' WHERE transaction_id = %s AND gl_code = '6100'", [reversal.id]
        )

    assert (
        f"Reversal {reversal.id} does not post to the GL codes and cost centres of its original {spend.id}."
        in ledger_verify(organization=tenant.organization)["problems"]
    )
