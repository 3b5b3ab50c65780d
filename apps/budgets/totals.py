"""The one writer of `spent_minor` and `held_minor`, and the one rule that decides whether money fits.

Every path that moves money into or out of a budget (settlement, approval, rejection, expiry,
reversal, a department moving in the tree) locks the periods it touches through `BudgetTotals`,
changes them through its methods, and writes them with `write()`. The rule lives in `over_limit`:
money fits when `spent + held + amount <= limit` at the department and every ancestor. A trigger
(migration 0004) refuses any UPDATE that raises spent or held past the limit, so a path that
forgot to ask is stopped by the database too.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import connection

from ledgerx.db import json_rows
from ledgerx.errors import Conflict
from ledgerx.money import format_money

from .locks import lock_budget_periods
from .models import BudgetPeriod

PeriodKey = tuple[uuid.UUID, date]


class BudgetExceeded(Conflict):
    """Money would take a period past its limit; `reason` names the department and the figures."""

    code = "budget_exceeded"

    def __init__(self, reason: str, *, key: PeriodKey) -> None:
        super().__init__(reason)
        self.reason = reason
        self.key = key


def budget_periods_open(*, department_ids: list[uuid.UUID], month: date) -> None:
    """Open the month's periods of these departments from their standing limits, if not open yet."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO budgets_budgetperiod
                (organization_id, department_id, month, limit_minor, spent_minor, held_minor,
                 spent_at_limit_change_minor, updated_at)
            SELECT d.organization_id, d.id, %s, d.monthly_limit_minor, 0, 0, 0, now()
            FROM tenancy_department d WHERE d.id = ANY(%s)
            ON CONFLICT (department_id, month, organization_id) DO NOTHING
            """,
            [month, list(department_ids)],
        )


def lineage_of(department_id: uuid.UUID, parents: dict[uuid.UUID, uuid.UUID | None]) -> list[uuid.UUID]:
    """The department and its ancestors, nearest first."""
    lineage = [department_id]
    while parents[lineage[-1]] is not None:
        lineage.append(parents[lineage[-1]])
    return lineage


def exceeded_reason(*, department_name: str, limit: int, current: int, requested: int, currency: str) -> str:
    return (
        f"Department '{department_name}' budget exceeded. Limit: {format_money(limit, currency)}, "
        f"Current (spent plus held): {format_money(current, currency)}, Requested: {format_money(requested, currency)}"
    )


@dataclass
class BudgetTotals:
    """Locked periods with running totals; decisions read the totals, `write()` stores what changed."""

    organization_id: uuid.UUID
    periods: dict[PeriodKey, BudgetPeriod]
    spent: dict[PeriodKey, int] = field(default_factory=dict)
    held: dict[PeriodKey, int] = field(default_factory=dict)

    @classmethod
    def lock(
        cls, *, organization_id: uuid.UUID, department_ids: Iterable[uuid.UUID], months: Iterable[date]
    ) -> "BudgetTotals":
        """Open (if need be) and lock the periods of these departments and months.

        The caller holds the organization's settlement lock inside a SERIALIZABLE transaction.
        """
        department_ids, months = set(department_ids), set(months)
        for month in months:
            budget_periods_open(department_ids=list(department_ids), month=month)
        periods = lock_budget_periods(organization_id=organization_id, department_ids=department_ids, months=months)
        return cls(
            organization_id=organization_id,
            periods=periods,
            spent={key: period.spent_minor for key, period in periods.items()},
            held={key: period.held_minor for key, period in periods.items()},
        )

    def over_limit(self, keys: Iterable[PeriodKey], amount: int) -> PeriodKey | None:
        """The first period where `amount` more would not fit, counting what is spent and held; None if it fits."""
        return next(
            (key for key in keys if self.spent[key] + self.held[key] + amount > self.periods[key].limit_minor), None
        )

    def refusal(self, key: PeriodKey, *, amount: int, department_name: str, currency: str) -> BudgetExceeded:
        return BudgetExceeded(
            exceeded_reason(
                department_name=department_name,
                limit=self.periods[key].limit_minor,
                current=self.spent[key] + self.held[key],
                requested=amount,
                currency=currency,
            ),
            key=key,
        )

    def post(self, keys: Iterable[PeriodKey], amount: int) -> None:
        """Count `amount` as spent; the caller asked `over_limit` first."""
        for key in keys:
            self.spent[key] += amount

    def hold(self, keys: Iterable[PeriodKey], amount: int) -> None:
        """Reserve `amount` for a spend awaiting approval; the caller asked `over_limit` first."""
        for key in keys:
            self.held[key] += amount

    def post_held(
        self, keys: list[PeriodKey], amount: int, *, department_names: dict[uuid.UUID, str], currency: str
    ) -> None:
        """Turn a hold into spend, if everything spent and held still fits (a limit may have been lowered).

        Raises BudgetExceeded naming the first period it no longer fits, changing nothing.
        """
        self.release(keys, amount)
        failing = self.over_limit(keys, amount)
        if failing is not None:
            self.hold(keys, amount)
            raise self.refusal(failing, amount=amount, department_name=department_names[failing[0]], currency=currency)
        self.post(keys, amount)

    def release(self, keys: Iterable[PeriodKey], amount: int) -> None:
        """Give back a hold (a rejected or expired spend)."""
        for key in keys:
            self.held[key] -= amount

    def unpost(self, keys: Iterable[PeriodKey], amount: int) -> None:
        """Give back spend (a reversal, or a department leaving a subtree)."""
        for key in keys:
            self.spent[key] -= amount

    def used_after(self) -> dict[PeriodKey, int]:
        return {key: self.spent[key] + self.held[key] for key in self.periods}

    def write(self, *, now: datetime) -> None:
        """Store the periods whose totals changed, in one statement."""
        changed = [
            {"id": period.pk, "spent": self.spent[key], "held": self.held[key]}
            for key, period in self.periods.items()
            if (self.spent[key], self.held[key]) != (period.spent_minor, period.held_minor)
        ]
        if not changed:
            return
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE budgets_budgetperiod p SET spent_minor = v.spent, held_minor = v.held, updated_at = %s
                FROM json_to_recordset(%s::json) AS v(id bigint, spent bigint, held bigint) WHERE p.id = v.id
                """,
                [now, json_rows(changed)],
            )
