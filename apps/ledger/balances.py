"""Balances from the entries at any instant, fast on a large ledger: an account's latest balance
checkpoint at or before the instant, plus the entries it does not cover (balance_checkpoints.py).

The entries dated at or before the instant that a checkpoint R does not cover are:
- those dated after its cut, up to the instant (one date range of the account's entries);
- those dated at or before its cut that got their ids after its bound (they committed late). Up to the
  account's latest checkpoint, each was found by the checkpoint whose id range holds it, which noted it in
  `late_since`; after that latest checkpoint, they are among the few entries it has not reached yet.
Each is an index range on the account (entry_account_created, entry_account_id, balance_checkpoint_late),
so the work does not grow with the ledger. The answer is exactly the sum over the entries.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils import timezone

from ledgerx.db import prepared_cursor
from ledgerx.errors import InvalidInput

# Each account's debits and credits over its entries dated at or before %(as_of)s.
_TOTALS_SQL = """
SELECT a.id,
       (coalesce(r.debits_minor, 0) + coalesce(sum(d.amount_minor) FILTER (WHERE d.amount_minor > 0), 0))::bigint,
       (coalesce(r.credits_minor, 0) + coalesce(-sum(d.amount_minor) FILTER (WHERE d.amount_minor < 0), 0))::bigint
FROM unnest(%(accounts)s::uuid[]) AS a(id)
LEFT JOIN LATERAL (
    SELECT c.cut_at, c.upto_entry_id, c.debits_minor, c.credits_minor FROM ledger_balancecheckpoint c
    WHERE c.account_id = a.id AND c.cut_at <= %(as_of)s ORDER BY c.cut_at DESC LIMIT 1
) r ON true
LEFT JOIN LATERAL (
    SELECT c.upto_entry_id FROM ledger_balancecheckpoint c
    WHERE c.account_id = a.id ORDER BY c.cut_at DESC LIMIT 1
) latest ON true
LEFT JOIN LATERAL (
    SELECT e.amount_minor FROM ledger_entry_history e
    WHERE e.account_id = a.id AND e.created_at > coalesce(r.cut_at, '-infinity') AND e.created_at <= %(as_of)s
    UNION ALL
    SELECT e.amount_minor FROM ledger_balancecheckpoint later
    JOIN ledger_entry_history e ON e.account_id = later.account_id
         AND e.id > later.after_entry_id AND e.id <= later.upto_entry_id
    WHERE later.account_id = a.id AND later.late_since IS NOT NULL AND later.late_since <= r.cut_at
      AND later.cut_at > r.cut_at AND e.created_at <= r.cut_at
    UNION ALL
    SELECT e.amount_minor FROM ledger_entry_history e
    WHERE e.account_id = a.id AND e.id > latest.upto_entry_id AND e.created_at <= r.cut_at
) d ON true
GROUP BY a.id, r.debits_minor, r.credits_minor
"""


@dataclass(frozen=True)
class AccountTotals:
    """An account's entries dated at or before an instant: debits (the positive amounts), credits (the
    negative ones, as a positive number) and the balance, debits less credits."""

    debits_minor: int
    credits_minor: int

    @property
    def balance_minor(self) -> int:
        return self.debits_minor - self.credits_minor


def account_totals_as_of(*, account_ids: Iterable[uuid.UUID], as_of: datetime) -> dict[uuid.UUID, AccountTotals]:
    """The totals of each account over its entries dated at or before `as_of`, in one statement."""
    ids = list(account_ids)
    if not ids:
        return {}
    # Prepared: the statement is planned once per connection, where planning it costs about what running it does.
    with prepared_cursor() as cursor:
        cursor.execute(_TOTALS_SQL, {"accounts": ids, "as_of": as_of})
        return {account_id: AccountTotals(debits, credits) for account_id, debits, credits in cursor.fetchall()}


def balance_as_of(*, account_id: uuid.UUID, as_of: datetime) -> int:
    """The balance of the account over its entries dated at or before `as_of`, in minor units."""
    return account_totals_as_of(account_ids=[account_id], as_of=as_of)[account_id].balance_minor


def balance_summed(*, account_id: uuid.UUID, as_of: datetime) -> int:
    """The same balance summed over every entry, checkpoints aside: what balance_as_of must equal
    (its tests, and the benchmark's reference time)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(amount_minor), 0)::bigint FROM ledger_entry_history"
            " WHERE account_id = %s AND created_at <= %s",
            [account_id, as_of],
        )
        return cursor.fetchone()[0]


def account_balance(*, account_id: uuid.UUID, as_of: datetime) -> AccountTotals:
    """What the balance API answers: the account's totals at an instant up to now (never a future one,
    which later entries could still change)."""
    if as_of > timezone.now():
        raise InvalidInput(
            "A balance is as of an instant up to now, not in the future.", fields={"as_of": ["In the future."]}
        )
    return account_totals_as_of(account_ids=[account_id], as_of=as_of)[account_id]
