"""Writes of the ledger: accounts, and the journal writer every posting goes through."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.db import connection

from apps.tenancy.models import Department, Organization, User
from ledgerx.db import json_rows

from .chart import LegCodes, chart_rules
from .models import CREDIT_ACCOUNT_OF_KIND, Account, EntryHistory, Transaction


def account_open_card_funding(*, organization: Organization) -> Account:
    account, _ = Account.objects.get_or_create(
        organization=organization,
        kind=Account.Kind.CARD_FUNDING,
        defaults={"name": f"{organization.name} card funding", "currency": organization.currency},
    )
    return account


def account_open_expense(*, department: Department) -> Account:
    account, _ = Account.objects.get_or_create(
        organization_id=department.organization_id,
        kind=Account.Kind.EXPENSE,
        department=department,
        defaults={"name": f"{department.name} expenses", "currency": department.organization.currency},
    )
    return account


def credit_account_kind(transaction_kind: str) -> str:
    """The account a spend's journal credits, by the spend's kind (models.CREDIT_ACCOUNT_OF_KIND)."""
    return CREDIT_ACCOUNT_OF_KIND[transaction_kind]


class ExpenseShare(NamedTuple):
    """One expense line of a journal whose spend is split over GL accounts (a bill's GL lines): its GL code,
    and its weight, the line's amount as billed, by which the journal's base amount is shared out."""

    gl_code: str
    weight_minor: int


# Reads the expense lines of the spends of a kind that are split (by transaction id); a spend it does not name
# is posted on one line, as the chart decides. Registered by the app that keeps the lines (apps/payables for
# bills, from its AppConfig.ready): the ledger sits below it and never imports it.
ExpenseSplitReader = Callable[[set[uuid.UUID]], dict[uuid.UUID, list[ExpenseShare]]]
_EXPENSE_SPLIT_READERS: dict[str, ExpenseSplitReader] = {}


def expense_split_register(*, kind: str, reader: ExpenseSplitReader) -> None:
    _EXPENSE_SPLIT_READERS[kind] = reader


def shares_of(amount_minor: int, weights: list[int]) -> list[int]:
    """`amount_minor` shared out in proportion to `weights`, summing to it exactly: each share rounded down,
    the minor units left over given to the largest remainders (the earlier line on a tie).

    Our own, a few lines: the journal needs integer minor units that sum exactly, with a rule stated here."""
    total = sum(weights)
    floors = [amount_minor * weight // total for weight in weights]
    order = sorted(range(len(weights)), key=lambda i: (-(amount_minor * weights[i] % total), i))
    for index in order[: amount_minor - sum(floors)]:
        floors[index] += 1
    return floors


@dataclass
class Journal:
    """Debit a department's expenses, credit the account of `kind` (credit_account_kind) by `amount_minor`.

    `kind` is the spend's kind (a reversal's is its original's), `employee_id` the spender, whose payable a
    reimbursement credits; `merchant` and `category` the spend's, which the chart of accounts maps. A
    reversal is a journal with a negative amount, which flips its legs, and names the transaction it
    `reverses`: its lines are that transaction's, flipped, with their GL codes and cost centres, not today's
    chart. A spend of a split kind (expense_split_register) debits one expense line per share it was split in.
    """

    transaction_id: uuid.UUID
    department_id: uuid.UUID
    amount_minor: int
    kind: str
    employee_id: uuid.UUID
    merchant: str
    category: str
    reverses: uuid.UUID | None = None


@dataclass
class Payout:
    """Pay out a reimbursement claim: debit its employee's payable, credit payout clearing, by `amount_minor`."""

    claim_id: uuid.UUID
    employee_id: uuid.UUID
    amount_minor: int


@dataclass
class BillPayment:
    """Pay a bill to its vendor (debit accounts payable by `amount_minor`, its base amount at approval; credit
    the bank by `paid_minor`, the base amount of the payment at the run's rate; the difference to realised FX
    gain/loss), or, `returned`, undo that payment when the bank sends it back (the bill is owed again). Both
    in the organization's currency; the same for a bill in it."""

    bill_id: uuid.UUID
    amount_minor: int
    paid_minor: int
    returned: bool = False


class Leg(NamedTuple):
    """One entry to write: its journal, account, signed amount, and the chart's codes for it."""

    transaction_id: uuid.UUID
    account_id: uuid.UUID
    amount_minor: int
    gl_code: str
    cost_centre: str


def journal_write(*, organization: Organization, journals: list[Journal], now: datetime) -> None:
    """Insert each journal's entries in one statement: +X to the department's expenses (on one line, or on
    one per share of a split spend), -X from the account its kind credits (card funding, the employee's
    payable, opened here on a first claim, or accounts payable for a bill, opened here on a first bill), each
    with its GL code and cost centre (chart.py), the chart read once for the whole call."""
    if not journals:
        return
    payables = _payable_accounts(
        organization=organization,
        employee_ids={j.employee_id for j in journals if j.kind == Transaction.Kind.REIMBURSEMENT},
    )
    accounts_payable = (
        _organization_account(organization=organization, kind=Account.Kind.ACCOUNTS_PAYABLE, name="accounts payable")
        if any(journal.kind == Transaction.Kind.BILL for journal in journals)
        else None
    )
    accounts = Account.objects.filter(
        organization=organization, kind__in=[Account.Kind.CARD_FUNDING, Account.Kind.EXPENSE]
    )
    card_account = None
    expense_accounts = {}
    for account_id, kind, department_id in accounts.values_list("id", "kind", "department_id"):
        if kind == Account.Kind.CARD_FUNDING:
            card_account = account_id
        else:
            expense_accounts[department_id] = account_id
    reversed_ids = {journal.reverses for journal in journals if journal.reverses is not None}
    posted = _posted_legs(transaction_ids=reversed_ids)
    split = {
        kind: reader({j.transaction_id for j in journals if j.kind == kind and j.reverses is None})
        for kind, reader in _EXPENSE_SPLIT_READERS.items()
        if any(j.kind == kind and j.reverses is None for j in journals)
    }
    chart = chart_rules(organization=organization) if len(reversed_ids) < len(journals) else None

    def legs(journal: Journal) -> list[Leg]:
        credit_kind = credit_account_kind(journal.kind)
        credit = {
            Account.Kind.EMPLOYEE_PAYABLE: lambda: payables[journal.employee_id],
            Account.Kind.ACCOUNTS_PAYABLE: lambda: accounts_payable,
            Account.Kind.CARD_FUNDING: lambda: card_account,
        }[credit_kind]()
        expense = expense_accounts[journal.department_id]
        if journal.reverses is not None:
            original = posted[journal.reverses]
            return [
                Leg(journal.transaction_id, credit, -journal.amount_minor, *original[credit][0][1]),
                *(Leg(journal.transaction_id, expense, -amount, *codes) for amount, codes in original[expense]),
            ]
        credit_codes = chart.leg_codes(account_kind=credit_kind)
        expense_codes = chart.leg_codes(
            account_kind=Account.Kind.EXPENSE,
            department_id=journal.department_id,
            merchant=journal.merchant,
            category=journal.category,
        )
        shares = split.get(journal.kind, {}).get(journal.transaction_id)
        if not shares:
            expense_legs = [Leg(journal.transaction_id, expense, journal.amount_minor, *expense_codes)]
        else:
            # The department's cost centre stays on every line; each line carries its own GL code.
            amounts = shares_of(journal.amount_minor, [share.weight_minor for share in shares])
            expense_legs = [
                Leg(journal.transaction_id, expense, amount, share.gl_code, expense_codes.cost_centre)
                for share, amount in zip(shares, amounts, strict=True)
                if amount
            ]
        return [Leg(journal.transaction_id, credit, -journal.amount_minor, *credit_codes), *expense_legs]

    _entries_insert(organization=organization, legs=[leg for journal in journals for leg in legs(journal)], now=now)


def payout_journal_write(*, organization: Organization, payouts: list[Payout], now: datetime) -> None:
    """Insert two entries per payout, on the claim's own journal: +X to the employee's payable, which it
    clears, -X from the organization's payout clearing (opened here on a first payout), each with the GL
    code its ledger account kind maps to.

    The caller (apps/reimbursements batch release) has every claim locked and knows none was paid before.
    """
    if not payouts:
        return
    payables = _payable_accounts(organization=organization, employee_ids={p.employee_id for p in payouts})
    clearing = _organization_account(
        organization=organization, kind=Account.Kind.PAYOUT_CLEARING, name="payout clearing"
    )
    chart = chart_rules(organization=organization)
    payable_codes = chart.leg_codes(account_kind=Account.Kind.EMPLOYEE_PAYABLE)
    clearing_codes = chart.leg_codes(account_kind=Account.Kind.PAYOUT_CLEARING)
    _entries_insert(
        organization=organization,
        legs=[
            leg
            for payout in payouts
            for leg in (
                Leg(payout.claim_id, payables[payout.employee_id], payout.amount_minor, *payable_codes),
                Leg(payout.claim_id, clearing, -payout.amount_minor, *clearing_codes),
            )
        ],
        now=now,
    )


def bill_payment_journal_write(*, organization: Organization, payments: list[BillPayment], now: datetime) -> None:
    """Insert the entries of each payment of a bill, on the bill's own journal: +X to accounts payable (its
    base amount at approval, so the payable returns to zero) and -Y from the organization's bank (opened here
    on a first payment), and Y-X to realised FX gain/loss when they differ (a bill in a foreign currency paid
    at another rate: a loss debited, a gain credited); the same legs flipped when the bank returns the
    payment, which owes the bill to its vendor again.

    The caller (apps/payables: a payment run's release, a return) has every bill locked and knows each
    payment is due (a bill is paid once at a time, a return follows a payment).
    """
    if not payments:
        return
    payable = _organization_account(
        organization=organization, kind=Account.Kind.ACCOUNTS_PAYABLE, name="accounts payable"
    )
    bank = _organization_account(organization=organization, kind=Account.Kind.BANK, name="bank")
    fx = (
        _organization_account(organization=organization, kind=Account.Kind.FX_GAIN_LOSS, name="realised FX gain/loss")
        if any(payment.paid_minor != payment.amount_minor for payment in payments)
        else None
    )
    chart = chart_rules(organization=organization)
    payable_codes = chart.leg_codes(account_kind=Account.Kind.ACCOUNTS_PAYABLE)
    bank_codes = chart.leg_codes(account_kind=Account.Kind.BANK)
    fx_codes = chart.leg_codes(account_kind=Account.Kind.FX_GAIN_LOSS) if fx else None
    legs = []
    for payment in payments:
        sign = -1 if payment.returned else 1
        legs += [
            Leg(payment.bill_id, payable, sign * payment.amount_minor, *payable_codes),
            Leg(payment.bill_id, bank, -sign * payment.paid_minor, *bank_codes),
        ]
        if payment.paid_minor != payment.amount_minor:
            legs.append(Leg(payment.bill_id, fx, sign * (payment.paid_minor - payment.amount_minor), *fx_codes))
    _entries_insert(organization=organization, legs=legs, now=now)


def _organization_account(*, organization: Organization, kind: str, name: str) -> uuid.UUID:
    """The id of the organization's one account of `kind`, opened on first use (race-safe by its unique key)."""
    account, _ = Account.objects.get_or_create(
        organization=organization,
        kind=kind,
        defaults={"name": f"{organization.name} {name}", "currency": organization.currency},
    )
    return account.id


def _posted_legs(*, transaction_ids: set[uuid.UUID]) -> dict[uuid.UUID, dict[uuid.UUID, list[tuple[int, LegCodes]]]]:
    """The amount, GL code and cost centre of each entry of these transactions, by transaction and account,
    in the order they were written: a reversal flips its original's accrual line by line."""
    legs: dict[uuid.UUID, dict[uuid.UUID, list[tuple[int, LegCodes]]]] = {}
    if not transaction_ids:
        return legs
    entries = (
        EntryHistory.objects.filter(transaction_id__in=transaction_ids)
        .order_by("id")
        .values_list("transaction_id", "account_id", "amount_minor", "gl_code", "cost_centre")
    )
    for transaction_id, account_id, amount, gl, cc in entries:
        legs.setdefault(transaction_id, {}).setdefault(account_id, []).append((amount, LegCodes(gl, cc)))
    return legs


def _payable_accounts(*, organization: Organization, employee_ids: set[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """The payable accounts of these employees by employee, opened for those who have none yet.

    Opened on demand, in the transaction that first credits one: most employees never claim, and a
    payable opened with the user would be one more account per user for nothing.
    """
    if not employee_ids:
        return {}
    found = dict(
        Account.objects.filter(
            organization=organization, kind=Account.Kind.EMPLOYEE_PAYABLE, employee_id__in=employee_ids
        ).values_list("employee_id", "id")
    )
    missing = employee_ids - set(found)
    if missing:
        Account.objects.bulk_create(
            [
                Account(
                    organization=organization,
                    kind=Account.Kind.EMPLOYEE_PAYABLE,
                    employee_id=employee_id,
                    name=f"Owed to {email}",
                    currency=organization.currency,
                )
                for employee_id, email in User.objects.of(organization)
                .filter(id__in=missing)
                .values_list("id", "email")
            ],
            ignore_conflicts=True,
        )
        found = dict(
            Account.objects.filter(
                organization=organization, kind=Account.Kind.EMPLOYEE_PAYABLE, employee_id__in=employee_ids
            ).values_list("employee_id", "id")
        )
    return found


def _entries_insert(*, organization: Organization, legs: list[Leg], now: datetime) -> None:
    """The one INSERT of ledger entries, in the organization's currency."""
    rows = [
        {"transaction": t, "account": a, "amount": amount, "gl_code": gl, "cost_centre": cc}
        for t, a, amount, gl, cc in legs
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO ledger_entry
                (organization_id, transaction_id, account_id, amount_minor, currency, created_at, gl_code, cost_centre)
            SELECT %s, v.transaction, v.account, v.amount, %s, %s, v.gl_code, v.cost_centre
            FROM json_to_recordset(%s::json)
                AS v(transaction uuid, account uuid, amount bigint, gl_code text, cost_centre text)
            """,
            [organization.id, organization.currency, now, json_rows(rows)],
        )
