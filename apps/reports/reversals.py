"""Reversals in the period: who reversed which spend, for how much (and as spent, in another currency), and why."""

from apps.ledger.models import Transaction
from apps.tenancy.models import Organization
from ledgerx.money import to_decimal_string

from .models import ReportKind
from .periods import Period
from .report import Report, moment_text

COLUMNS = (
    "reversed at",
    "reversal",
    "original spend",
    "spent at",
    "spender",
    "merchant",
    "amount",
    "currency",
    "as spent",
    "reversed by",
    "reason",
)


def _as_spent(reversal: Transaction) -> str:
    """The amount as spent where it was another currency than the base: "123.45 EUR"; else empty."""
    if reversal.original_currency == reversal.currency:
        return ""
    return (
        f"{to_decimal_string(reversal.original_amount_minor, reversal.original_currency)} {reversal.original_currency}"
    )


def reversals(*, organization: Organization, period: Period) -> Report:
    found = (
        Transaction.objects.of(organization)
        .filter(kind=Transaction.Kind.REVERSAL, created_at__gte=period.starts_at, created_at__lt=period.ends_at)
        .select_related("created_by", "reversal_of__employee")
        .order_by("created_at", "id")
    )
    rows, total = [], 0
    for reversal in found:
        original = reversal.reversal_of
        total += reversal.amount_minor
        rows.append(
            (
                moment_text(reversal.created_at, period.timezone_name),
                str(reversal.id),
                str(original.id),
                moment_text(original.created_at, period.timezone_name),
                original.employee.email,
                original.merchant,
                to_decimal_string(reversal.amount_minor, reversal.currency),
                reversal.currency,
                _as_spent(reversal),
                reversal.created_by.email,
                reversal.reason,
            )
        )
    currency = organization.currency
    return Report(
        kind=ReportKind.REVERSALS,
        title=ReportKind.REVERSALS.label,
        organization=organization,
        period=period,
        columns=COLUMNS,
        rows=tuple(rows),
        summary=(("reversals", str(len(rows))), ("total reversed", f"{to_decimal_string(total, currency)} {currency}")),
    )
