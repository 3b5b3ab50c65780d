"""Writes of the ledger: accounts, and the journal writer every posting goes through."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from apps.tenancy.models import Department, Organization
from ledgerx.db import json_rows

from .models import Account


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


@dataclass
class Journal:
    transaction_id: uuid.UUID
    department_id: uuid.UUID
    amount_minor: int


def journal_write(*, organization: Organization, journals: list[Journal], now: datetime) -> None:
    """Insert two entries per journal in one statement: -X from card funding, +X to the department's expenses.

    A reversal is a journal with a negative amount, which flips both legs.
    """
    if not journals:
        return
    accounts = Account.objects.filter(organization=organization).values_list("id", "kind", "department_id")
    card_account = next(account_id for account_id, kind, _ in accounts if kind == Account.Kind.CARD_FUNDING)
    expense_accounts = {
        department_id: account_id for account_id, kind, department_id in accounts if kind == Account.Kind.EXPENSE
    }
    legs = [
        {"transaction": journal.transaction_id, "account": account_id, "amount": amount_minor}
        for journal in journals
        for account_id, amount_minor in (
            (card_account, -journal.amount_minor),
            (expense_accounts[journal.department_id], journal.amount_minor),
        )
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO ledger_entry (organization_id, transaction_id, account_id, amount_minor, currency, created_at)
            SELECT %s, v.transaction, v.account, v.amount, %s, %s
            FROM json_to_recordset(%s::json) AS v(transaction uuid, account uuid, amount bigint)
            """,
            [organization.id, organization.currency, now, json_rows(legs)],
        )
