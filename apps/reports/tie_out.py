"""The ledger tie-out: per account, opening balance + debits - credits = closing balance, each summed
from the entries (apps.ledger.selectors.account_postings), and the accounts together at zero."""

from apps.ledger.selectors import account_postings
from apps.tenancy.models import Organization
from ledgerx.money import to_decimal_string

from .models import ReportKind
from .periods import Period
from .report import Report

COLUMNS = ("account", "kind", "currency", "opening", "debits", "credits", "closing", "ties out")


def _yes(condition: bool) -> str:
    return "yes" if condition else "NO"


def ledger_tie_out(*, organization: Organization, period: Period) -> Report:
    accounts = account_postings(organization=organization, starts_at=period.starts_at, ends_at=period.ends_at)
    currency = organization.currency

    def money(minor: int) -> str:
        return to_decimal_string(minor, currency)

    rows = tuple(
        (
            account.name,
            account.kind,
            account.currency,
            money(account.opening_minor),
            money(account.debits_minor),
            money(account.credits_minor),
            money(account.closing_minor),
            _yes(account.opening_minor + account.debits_minor - account.credits_minor == account.closing_minor),
        )
        for account in accounts
    )
    opening = sum(account.opening_minor for account in accounts)
    debits = sum(account.debits_minor for account in accounts)
    credits = sum(account.credits_minor for account in accounts)
    closing = sum(account.closing_minor for account in accounts)
    every_account_ties = all(row[-1] == "yes" for row in rows)
    return Report(
        kind=ReportKind.LEDGER_TIE_OUT,
        title=ReportKind.LEDGER_TIE_OUT.label,
        organization=organization,
        period=period,
        columns=COLUMNS,
        rows=rows,
        summary=(
            ("total opening", money(opening)),
            ("total debits", money(debits)),
            ("total credits", money(credits)),
            ("total closing", money(closing)),
            ("every account ties out", _yes(every_account_ties)),
            # Double entry: every journal's legs sum to zero, so the accounts together do too.
            ("debits equal credits", _yes(debits == credits)),
            ("balances sum to zero", _yes(opening == 0 and closing == 0)),
        ),
    )
