"""Writes of the ledger: accounts, and the journal writer every posting goes through."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from apps.tenancy.models import Department, Organization, User
from ledgerx.db import json_rows

from .models import CREDIT_ACCOUNT_OF_KIND, Account, Transaction


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


@dataclass
class Journal:
    """Debit a department's expenses, credit the account of `kind` (credit_account_kind) by `amount_minor`.

    `kind` is the spend's kind (a reversal's is its original's), `employee_id` the spender, whose payable a
    reimbursement credits. A reversal is a journal with a negative amount, which flips both legs.
    """

    transaction_id: uuid.UUID
    department_id: uuid.UUID
    amount_minor: int
    kind: str
    employee_id: uuid.UUID


@dataclass
class Payout:
    """Pay out a reimbursement claim: debit its employee's payable, credit payout clearing, by `amount_minor`."""

    claim_id: uuid.UUID
    employee_id: uuid.UUID
    amount_minor: int


def journal_write(*, organization: Organization, journals: list[Journal], now: datetime) -> None:
    """Insert two entries per journal in one statement: +X to the department's expenses, -X from the
    account its kind credits (card funding, or the employee's payable, opened here on a first claim)."""
    if not journals:
        return
    payables = _payable_accounts(
        organization=organization,
        employee_ids={j.employee_id for j in journals if j.kind == Transaction.Kind.REIMBURSEMENT},
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

    def credit_account(journal: Journal) -> uuid.UUID:
        if credit_account_kind(journal.kind) == Account.Kind.EMPLOYEE_PAYABLE:
            return payables[journal.employee_id]
        return card_account

    _entries_insert(
        organization=organization,
        legs=[
            (journal.transaction_id, account_id, amount_minor)
            for journal in journals
            for account_id, amount_minor in (
                (credit_account(journal), -journal.amount_minor),
                (expense_accounts[journal.department_id], journal.amount_minor),
            )
        ],
        now=now,
    )


def payout_journal_write(*, organization: Organization, payouts: list[Payout], now: datetime) -> None:
    """Insert two entries per payout, on the claim's own journal: +X to the employee's payable, which it
    clears, -X from the organization's payout clearing (opened here on a first payout).

    The caller (apps/reimbursements batch release) has every claim locked and knows none was paid before.
    """
    if not payouts:
        return
    payables = _payable_accounts(organization=organization, employee_ids={p.employee_id for p in payouts})
    clearing, _ = Account.objects.get_or_create(
        organization=organization,
        kind=Account.Kind.PAYOUT_CLEARING,
        defaults={"name": f"{organization.name} payout clearing", "currency": organization.currency},
    )
    _entries_insert(
        organization=organization,
        legs=[
            leg
            for payout in payouts
            for leg in (
                (payout.claim_id, payables[payout.employee_id], payout.amount_minor),
                (payout.claim_id, clearing.id, -payout.amount_minor),
            )
        ],
        now=now,
    )


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


def _entries_insert(*, organization: Organization, legs: list[tuple[uuid.UUID, uuid.UUID, int]], now: datetime) -> None:
    """The one INSERT of ledger entries: (transaction, account, amount) legs, in the organization's currency."""
    rows = [
        {"transaction": transaction_id, "account": account_id, "amount": amount}
        for transaction_id, account_id, amount in legs
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO ledger_entry (organization_id, transaction_id, account_id, amount_minor, currency, created_at)
            SELECT %s, v.transaction, v.account, v.amount, %s, %s
            FROM json_to_recordset(%s::json) AS v(transaction uuid, account uuid, amount bigint)
            """,
            [organization.id, organization.currency, now, json_rows(rows)],
        )
