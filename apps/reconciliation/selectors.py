"""Reads of reconciliation: the spends a statement is matched against, and an import's reconciliation."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from apps.ledger.models import Transaction
from apps.tenancy.models import Organization

from .matching import Candidate, Decision, LineFacts, SpendFacts, decide
from .models import StatementImport, StatementLine, StatementMatch

# A statement lists card spends: spends of kind `spend` that settled (posted, or reversed since: the charge
# was on the card, and its refund is a line of its own). Reimbursement claims are paid in payout batches,
# not line by line, and a rejected or pending spend never reached the card.
RECONCILED_KINDS = (Transaction.Kind.SPEND,)
RECONCILED_STATUSES = (Transaction.Status.POSTED, Transaction.Status.REVERSED)


def local_day_bounds(organization: Organization, first_day: date, last_day: date) -> tuple[datetime, datetime]:
    """The instants from the start of `first_day` to the start of the day after `last_day`, local time."""
    zone = ZoneInfo(organization.timezone)
    return (
        datetime.combine(first_day, time.min, tzinfo=zone),
        datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=zone),
    )


def spends_reconcilable(organization: Organization) -> QuerySet[Transaction]:
    return Transaction.objects.of(organization).filter(kind__in=RECONCILED_KINDS, status__in=RECONCILED_STATUSES)


def spends_unmatched_between(
    *, organization: Organization, currency: str | None, first_day: date, last_day: date
) -> QuerySet[Transaction]:
    """Reconcilable spends of those local days (in `currency` as spent, if given) no statement line matches."""
    start, end = local_day_bounds(organization, first_day, last_day)
    spends = spends_reconcilable(organization).filter(
        created_at__gte=start, created_at__lt=end, statement_match__isnull=True
    )
    if currency is not None:
        spends = spends.filter(original_currency=currency)
    return spends.select_related("employee", "department").order_by("created_at", "id")


def line_facts(line: StatementLine) -> LineFacts:
    return LineFacts(
        id=line.id,
        position=line.position,
        posted_on=line.posted_on,
        amount_minor=line.amount_minor,
        currency=line.currency,
        description=line.description,
    )


def spend_facts(spend: Transaction, organization: Organization) -> SpendFacts:
    return SpendFacts(
        id=spend.id,
        spent_on=spend.created_at.astimezone(ZoneInfo(organization.timezone)).date(),
        amount_minor=spend.original_amount_minor,
        currency=spend.original_currency,
        merchant=spend.merchant,
        order=(spend.created_at, spend.id),
    )


def import_decision(statement_import: StatementImport) -> Decision:
    """What matching.decide says of the import's lines not yet matched, against the spends no line matches."""
    organization = statement_import.organization
    window = statement_import.source.date_window_days
    lines = list(statement_import.lines.filter(match__isnull=True).order_by("position"))
    spends = spends_unmatched_between(
        organization=organization,
        currency=statement_import.currency,
        first_day=statement_import.first_day - timedelta(days=window),
        last_day=statement_import.last_day + timedelta(days=window),
    ).filter(original_amount_minor__in={line.amount_minor for line in lines if line.amount_minor > 0})
    return decide(
        [line_facts(line) for line in lines],
        [spend_facts(spend, organization) for spend in spends],
        window_days=window,
    )


@dataclass(frozen=True)
class Reconciliation:
    statement_import: StatementImport
    matched: list[StatementMatch]
    unmatched_lines: list[StatementLine]
    # Per unmatched line id, its suggested spends with their scores, best first.
    suggestions: dict[uuid.UUID, list[tuple[Transaction, Candidate]]]
    # Reconcilable spends of the statement's days, in its currency, that no line of any statement matches.
    unmatched_spends: list[Transaction]


def import_suggestions(statement_import: StatementImport) -> dict[uuid.UUID, list[tuple[Transaction, Candidate]]]:
    """Per unmatched line id, its suggested spends with their candidacy, best first."""
    decision = import_decision(statement_import)
    suggested_ids = {c.transaction_id for ranked in decision.suggested.values() for c in ranked}
    suggested_spends = Transaction.objects.select_related("employee").in_bulk(suggested_ids)
    return {
        line_id: [(suggested_spends[c.transaction_id], c) for c in ranked]
        for line_id, ranked in decision.suggested.items()
    }


def import_reconciliation(statement_import: StatementImport) -> Reconciliation:
    matches = list(
        StatementMatch.objects.filter(line__statement_import=statement_import)
        .select_related("line", "transaction", "transaction__employee", "matched_by")
        .order_by("line__position")
    )
    unmatched_lines = list(statement_import.lines.filter(match__isnull=True).order_by("position"))
    suggestions = import_suggestions(statement_import)
    unmatched_spends = list(
        spends_unmatched_between(
            organization=statement_import.organization,
            currency=statement_import.currency,
            first_day=statement_import.first_day,
            last_day=statement_import.last_day,
        )
    )
    return Reconciliation(
        statement_import=statement_import,
        matched=matches,
        unmatched_lines=unmatched_lines,
        suggestions=suggestions,
        unmatched_spends=unmatched_spends,
    )


def lines_with_state(statement_import: StatementImport) -> QuerySet[StatementLine]:
    return statement_import.lines.select_related("match", "match__matched_by").order_by("position")


def imports_of(organization: Organization) -> QuerySet[StatementImport]:
    return StatementImport.objects.of(organization).select_related("source", "imported_by")
