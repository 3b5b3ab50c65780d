"""The trial balance of a month: per account, its balance before the month, its debits and credits in
it and its balance after, all from the balance checkpoints (balances.py), in the organization's month."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.utils import timezone

from apps.tenancy.models import Organization
from ledgerx.errors import InvalidInput
from ledgerx.months import month_bounds

from .balances import account_totals_as_of
from .models import Account

# Entries are stored to the microsecond: "before the month" is at or before its start less one.
_RESOLUTION = timedelta(microseconds=1)


@dataclass(frozen=True)
class TrialBalanceLine:
    account: Account
    gl_codes: list[str]  # the GL codes its entries of the month carry, where they carry one
    opening_minor: int
    debits_minor: int
    credits_minor: int
    closing_minor: int


@dataclass(frozen=True)
class TrialBalance:
    month: date
    starts_at: datetime
    ends_at: datetime
    lines: list[TrialBalanceLine]

    @property
    def debits_minor(self) -> int:
        return sum(line.debits_minor for line in self.lines)

    @property
    def credits_minor(self) -> int:
        return sum(line.credits_minor for line in self.lines)


def trial_balance(*, organization: Organization, month: date) -> TrialBalance:
    """Every account with an entry before the month's end. A month that has not started is refused."""
    this_month = timezone.localtime(timezone.now(), ZoneInfo(organization.timezone)).date().replace(day=1)
    if month > this_month:
        raise InvalidInput("The month has not started yet.", fields={"month": ["Not started yet."]})
    starts_at, ends_at = month_bounds(month, organization.timezone)
    accounts = list(
        Account.objects.of(organization).select_related("department", "employee").order_by("kind", "name", "id")
    )
    ids = [account.id for account in accounts]
    before = account_totals_as_of(account_ids=ids, as_of=starts_at - _RESOLUTION)
    through = account_totals_as_of(account_ids=ids, as_of=ends_at - _RESOLUTION)
    gl_codes = _gl_codes(account_ids=ids, starts_at=starts_at, ends_at=ends_at)
    lines = [
        TrialBalanceLine(
            account=account,
            gl_codes=gl_codes.get(account.id, []),
            opening_minor=before[account.id].balance_minor,
            debits_minor=through[account.id].debits_minor - before[account.id].debits_minor,
            credits_minor=through[account.id].credits_minor - before[account.id].credits_minor,
            closing_minor=through[account.id].balance_minor,
        )
        for account in accounts
        if through[account.id].debits_minor or through[account.id].credits_minor
    ]
    return TrialBalance(month=month, starts_at=starts_at, ends_at=ends_at, lines=lines)


def _gl_codes(*, account_ids: list[uuid.UUID], starts_at: datetime, ends_at: datetime) -> dict[uuid.UUID, list[str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.id, codes.gl_codes FROM unnest(%s::uuid[]) AS a(id)
            CROSS JOIN LATERAL (
                SELECT array_agg(DISTINCT e.gl_code ORDER BY e.gl_code) AS gl_codes FROM ledger_entry_history e
                WHERE e.account_id = a.id AND e.created_at >= %s AND e.created_at < %s AND e.gl_code <> ''
            ) codes
            WHERE codes.gl_codes IS NOT NULL
            """,
            [account_ids, starts_at, ends_at],
        )
        return dict(cursor.fetchall())
