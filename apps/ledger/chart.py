"""The chart of accounts at posting: which GL code and cost centre each journal line carries.

The journal writer (services.py) reads an organization's chart once per call (`chart_rules`: three
queries, however many journals) and asks `ChartRules.leg_codes` for every line. The line keeps what
it was given, so a later change of the chart rewrites nothing; a reversal copies its original's
lines instead of asking the chart again.

Precedence, for the expense line of a spend: a merchant rule (its name in any letter case), then
the category's rule, then the department's (the nearest of the department and its ancestors that
has one), then the chart's default expense account. The cost centre is the department rule's,
whichever account the line posts to. It is a dimension of the expense: the lines on the other side
(card liability, an employee's payable, payout clearing) carry the GL account their ledger account
kind maps to, and no cost centre.

An organization without a chart gets the default one (chart_defaults.py) from the first posting or
back-office edit that needs it (`chart_ensure`), in that transaction, as a first reimbursement opens
its employee's payable.
"""

import uuid
from dataclasses import dataclass
from typing import NamedTuple

from django.db import connection, transaction
from django.utils import timezone

from apps.tenancy.models import Department, Organization

from .chart_defaults import (
    DEFAULT_CATEGORY_CODES,
    DEFAULT_EXPENSE_CODE,
    DEFAULT_GL_ACCOUNTS,
    DEFAULT_LEDGER_ACCOUNT_CODES,
)
from .models import Account, ChartOfAccounts, GLAccount, GLMapping


class LegCodes(NamedTuple):
    gl_code: str
    cost_centre: str


@dataclass(frozen=True)
class ChartRules:
    """An organization's chart as one posting reads it."""

    default_expense_code: str
    merchant_codes: dict[str, str]  # merchant in lower case -> GL code
    category_codes: dict[str, str]
    department_rules: dict[uuid.UUID, LegCodes]
    parents: dict[uuid.UUID, uuid.UUID | None]  # the organization's departments, read when it has department rules
    ledger_account_codes: dict[str, str]  # Account.Kind (not expense) -> GL code

    def leg_codes(
        self, *, account_kind: str, department_id: uuid.UUID | None = None, merchant: str = "", category: str = ""
    ) -> LegCodes:
        """The GL code and cost centre of a journal line on an account of `account_kind`; for an expense
        line, of a spend by `department_id` at `merchant` in `category` (the precedence above)."""
        if account_kind != Account.Kind.EXPENSE:
            return LegCodes(self.ledger_account_codes[account_kind], "")
        department_code, cost_centre = self._department_rule(department_id)
        gl_code = (
            self.merchant_codes.get(merchant.strip().lower())
            or self.category_codes.get(category)
            or department_code
            or self.default_expense_code
        )
        return LegCodes(gl_code, cost_centre)

    def _department_rule(self, department_id: uuid.UUID | None) -> LegCodes:
        while department_id is not None:
            rule = self.department_rules.get(department_id)
            if rule is not None:
                return rule
            department_id = self.parents.get(department_id)
        return LegCodes("", "")


def chart_rules(*, organization: Organization) -> ChartRules:
    """The organization's chart (the default one made here if it has none), for a posting."""
    default_code = _default_expense_code(organization)
    if default_code is None:
        chart_ensure(organization=organization)
        default_code = _default_expense_code(organization)
    merchants, categories, departments, ledger_accounts = {}, {}, {}, {}
    rows = GLMapping.objects.filter(organization=organization).values_list(
        "kind", "merchant", "category", "department_id", "ledger_account_kind", "gl_account__code", "cost_centre"
    )
    for kind, merchant, category, department_id, ledger_account_kind, gl_code, cost_centre in rows:
        if kind == GLMapping.Kind.MERCHANT:
            merchants[merchant.strip().lower()] = gl_code
        elif kind == GLMapping.Kind.CATEGORY:
            categories[category] = gl_code
        elif kind == GLMapping.Kind.DEPARTMENT:
            departments[department_id] = LegCodes(gl_code, cost_centre)
        else:
            ledger_accounts[ledger_account_kind] = gl_code
    parents = (
        dict(Department.objects.filter(organization=organization).values_list("id", "parent_id")) if departments else {}
    )
    return ChartRules(
        default_expense_code=default_code,
        merchant_codes=merchants,
        category_codes=categories,
        department_rules=departments,
        parents=parents,
        ledger_account_codes=ledger_accounts,
    )


def _default_expense_code(organization: Organization) -> str | None:
    return (
        ChartOfAccounts.objects.filter(organization=organization)
        .values_list("default_expense_account__code", flat=True)
        .first()
    )


def chart_ensure(*, organization: Organization) -> None:
    """Give the organization the default chart if it has none yet, in the caller's transaction if any.

    Race-safe: the chart's row is inserted first, ON CONFLICT DO NOTHING on its organization, so of
    two transactions making it one waits for the other. Under READ COMMITTED the later one then does
    nothing and reads the chart the first committed; under SERIALIZABLE (the postings) it fails with
    a serialization error, which run_serializable retries, and the retry finds the chart.
    """
    if ChartOfAccounts.objects.filter(organization=organization).exists():
        return
    accounts = {
        code: GLAccount(organization=organization, code=code, name=name, type=type_)
        for code, name, type_ in DEFAULT_GL_ACCOUNTS
    }
    # Atomic for a caller outside a transaction: the chart's row names its default account before it exists.
    with transaction.atomic(), connection.cursor() as cursor:
        # The default expense account is inserted below: the foreign key is checked at commit.
        cursor.execute(
            "INSERT INTO ledger_chartofaccounts (id, organization_id, default_expense_account_id, created_at)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT (organization_id) DO NOTHING RETURNING id",
            [uuid.uuid4(), organization.id, accounts[DEFAULT_EXPENSE_CODE].id, timezone.now()],
        )
        if cursor.fetchone() is None:
            return
        GLAccount.objects.bulk_create(accounts.values())
        GLMapping.objects.bulk_create(
            [
                *(
                    GLMapping(
                        organization=organization,
                        kind=GLMapping.Kind.CATEGORY,
                        category=category,
                        gl_account=accounts[code],
                    )
                    for category, code in DEFAULT_CATEGORY_CODES.items()
                ),
                *(
                    GLMapping(
                        organization=organization,
                        kind=GLMapping.Kind.LEDGER_ACCOUNT,
                        ledger_account_kind=kind,
                        gl_account=accounts[code],
                    )
                    for kind, code in DEFAULT_LEDGER_ACCOUNT_CODES.items()
                ),
            ]
        )
