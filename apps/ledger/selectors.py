import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import Prefetch, QuerySet

from apps.tenancy.models import Organization

from .models import Account, ChartOfAccounts, Entry, EntryHistory, GLAccount, GLMapping

# Kept here for the callers that read the ledger through its selectors (the verify API, tests).
from .verification import ledger_verify as ledger_verify


def account_list(*, organization: Organization) -> QuerySet[Account]:
    """The organization's accounts by name, with the department or employee that owns each."""
    return Account.objects.of(organization).select_related("department", "employee").order_by("name", "id")


def entry_list(*, organization: Organization, transaction_id: uuid.UUID | None = None) -> QuerySet[Entry]:
    entries = Entry.objects.of(organization).select_related("account", "seal")
    if transaction_id:
        entries = entries.filter(transaction_id=transaction_id)
    return entries.order_by("id")


def gl_account_list(
    *, organization: Organization, type_: str | None = None, active: bool | None = None
) -> QuerySet[GLAccount]:
    """The organization's GL accounts by code, each with the rules that map to it (`mappings`)."""
    accounts = GLAccount.objects.of(organization).prefetch_related(
        Prefetch("mappings", queryset=GLMapping.objects.select_related("department"))
    )
    if type_ is not None:
        accounts = accounts.filter(type=type_)
    if active is not None:
        accounts = accounts.filter(is_active=active)
    return accounts.order_by("code")


def chart_default_expense_code(*, organization: Organization) -> str | None:
    """The code of the account spends no rule maps post to; None before the organization has its chart."""
    return ChartOfAccounts.objects.of(organization).values_list("default_expense_account__code", flat=True).first()


@dataclass(frozen=True)
class AccountPostings:
    """One account over a period: the balance before it, its debits and credits in it, and the balance after."""

    account_id: uuid.UUID
    name: str
    kind: str
    currency: str
    opening_minor: int
    debits_minor: int
    credits_minor: int
    closing_minor: int


def account_postings(*, organization: Organization, starts_at: datetime, ends_at: datetime) -> list[AccountPostings]:
    """Every account with an entry before `ends_at`, summed from its entries in one pass.

    The closing balance is summed from the entries themselves, not derived from the other three, so a
    caller that checks opening + debits - credits = closing checks the ledger. The audit tie-out reads
    this; the journal export (issue 23) is meant to read its per-account postings here too.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.id, a.name, a.kind, a.currency,
                   COALESCE(SUM(e.amount) FILTER (WHERE NOT e.within), 0)::bigint,
                   COALESCE(SUM(e.amount) FILTER (WHERE e.within AND e.amount > 0), 0)::bigint,
                   COALESCE(-SUM(e.amount) FILTER (WHERE e.within AND e.amount < 0), 0)::bigint,
                   SUM(e.amount)::bigint
            FROM (
                SELECT account_id, amount_minor AS amount, created_at >= %(start)s AS within
                FROM ledger_entry_history
                WHERE organization_id = %(organization)s AND created_at < %(ends_at)s
            ) e JOIN ledger_account a ON a.id = e.account_id
            GROUP BY a.id, a.name, a.kind, a.currency
            ORDER BY a.kind, a.name, a.id
            """,
            {"organization": organization.id, "start": starts_at, "ends_at": ends_at},
        )
        return [AccountPostings(*row) for row in cursor.fetchall()]


def transactions_paid_out(*, transaction_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """The bills (or claims) among these whose journal has a payment leg: payout clearing or the bank."""
    return set(
        EntryHistory.objects.filter(
            transaction_id__in=transaction_ids, account__kind__in=[Account.Kind.PAYOUT_CLEARING, Account.Kind.BANK]
        )
        .values_list("transaction_id", flat=True)
        .distinct()
    )


def claims_paid_out(*, claim_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """The reimbursement claims among these that a payout has paid: their journal has a payout clearing leg."""
    return set(
        EntryHistory.objects.filter(transaction_id__in=claim_ids, account__kind=Account.Kind.PAYOUT_CLEARING)
        .values_list("transaction_id", flat=True)
        .distinct()
    )
