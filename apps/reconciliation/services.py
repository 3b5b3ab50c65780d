"""Writes of reconciliation: sources saved, statements imported and auto-matched, matches confirmed or
removed, and spends created from lines no spend explains (through apps/spending's intake).

Every person's decision is an audit event (apps/audit) in the transaction that makes it.
"""

import hashlib
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record
from apps.ledger.models import Transaction
from apps.spending.services import transaction_submit
from apps.tenancy.models import Organization, User
from ledgerx.errors import Conflict, InvalidInput, NotFound
from ledgerx.money import MoneyError, currency_exponent, to_decimal_string

from .matching import pair_score, same_money
from .models import StatementImport, StatementLine, StatementMatch, StatementSource
from .selectors import RECONCILED_STATUSES, import_decision, line_facts, spend_facts, spends_reconcilable
from .statement_files import ParsedStatement, statement_parse

# The largest statement file taken: what ledgerx/body_limit.py lets an upload route (UPLOAD_PATHS) carry.
STATEMENT_MAX_BYTES = settings.RECEIPT_MAX_BYTES


def source_validate(source: StatementSource) -> None:
    """Refuse a source whose mapping cannot read a file: an unknown currency, no amount column, or a date format
    without a day."""
    try:
        currency_exponent(source.currency)
    except MoneyError as error:
        raise InvalidInput(str(error), fields={"currency": [str(error)]}) from None
    if bool(source.amount_column) == bool(source.debit_column or source.credit_column):
        raise InvalidInput(
            "Map either one amount column, or a debit and a credit column.",
            fields={"amount_column": ["Either this, or both debit_column and credit_column."]},
        )
    if not source.amount_column and not (source.debit_column and source.credit_column):
        raise InvalidInput("Map both the debit and the credit column.", fields={"credit_column": ["Both or neither."]})
    if "%d" not in source.date_format and "%j" not in source.date_format:
        raise InvalidInput("The date format has no day (%d).", fields={"date_format": ["Needs %d."]})


def source_save(*, source: StatementSource) -> StatementSource:
    """Create or change a statement source (the back office's form), its mapping validated first."""
    source_validate(source)
    try:
        with transaction.atomic():
            source.save()
    except IntegrityError:
        raise InvalidInput(
            f"The organization has a statement source named {source.name!r} already.",
            fields={"name": ["Taken."]},
        ) from None
    return source


@dataclass(frozen=True)
class ImportResult:
    statement_import: StatementImport
    lines: int
    matched: int


def statement_import(*, actor: User, source: StatementSource, file_name: str, content: bytes) -> ImportResult:
    """Import a statement file for `source` and match what matches automatically (matching.decide).

    The same file (by SHA-256) is imported once per organization, and an issuer's line id (OFX FITID) once
    per source: either again is a 400 and nothing is stored, as for any bad row.
    """
    if len(content) > STATEMENT_MAX_BYTES:
        raise InvalidInput(
            f"A statement file is at most {STATEMENT_MAX_BYTES:,} bytes.", fields={"file": ["Too large."]}
        )
    sha256 = hashlib.sha256(content).hexdigest()
    organization = source.organization
    earlier = StatementImport.objects.of(organization).filter(sha256=sha256).first()
    if earlier is not None:
        raise InvalidInput(
            f"This file was imported already, on {earlier.imported_at:%Y-%m-%d}, as {earlier.file_name}.",
            fields={"file": ["Imported already."]},
        )
    parsed = statement_parse(source=source, file_name=file_name, content=content)
    _refuse_known_external_ids(source, parsed)
    try:
        with transaction.atomic():
            imported = _store(actor=actor, source=source, file_name=file_name, sha256=sha256, parsed=parsed)
            matched = _match_automatically(imported)
            audit_record(
                actor=actor,
                action=AuditEvent.Action.STATEMENT_IMPORTED,
                target=imported,
                after={"source": source.name, "file": file_name, "lines": len(parsed.lines), "matched": matched},
            )
    except IntegrityError:
        # The same file, or a line id, imported by a request that committed in between.
        raise InvalidInput(
            "This file, or a line of it, was imported already.", fields={"file": ["Imported already."]}
        ) from None
    return ImportResult(statement_import=imported, lines=len(parsed.lines), matched=matched)


def _refuse_known_external_ids(source: StatementSource, parsed: ParsedStatement) -> None:
    ids = [line.external_id for line in parsed.lines if line.external_id]
    repeated = sorted({external_id for external_id in ids if ids.count(external_id) > 1})
    known = sorted(
        StatementLine.objects.filter(source=source, external_id__in=ids).values_list("external_id", flat=True)
    )
    if repeated or known:
        named = ", ".join((repeated or known)[:10])
        message = (
            f"The file repeats the line ids {named}."
            if repeated
            else f"Lines {named} were imported already for {source.name}."
        )
        raise InvalidInput(message, fields={"file": [message]})


def _store(
    *, actor: User, source: StatementSource, file_name: str, sha256: str, parsed: ParsedStatement
) -> StatementImport:
    days = [line.posted_on for line in parsed.lines]
    imported = StatementImport.objects.create(
        organization=source.organization,
        source=source,
        file_name=file_name[:255],
        file_format=parsed.file_format,
        sha256=sha256,
        currency=parsed.currency,
        first_day=min(days),
        last_day=max(days),
        imported_by=actor,
    )
    StatementLine.objects.bulk_create(
        StatementLine(
            organization=source.organization,
            statement_import=imported,
            source=source,
            position=line.position,
            posted_on=line.posted_on,
            amount_minor=line.amount_minor,
            currency=parsed.currency,
            description=line.description,
            reference=line.reference,
            external_id=line.external_id,
        )
        for line in parsed.lines
    )
    return imported


def _match_automatically(imported: StatementImport) -> int:
    """Store the automatic matches; one whose spend a person matched meanwhile elsewhere is left a suggestion."""
    matched = 0
    for candidate in import_decision(imported).automatic:
        try:
            with transaction.atomic():
                StatementMatch.objects.create(
                    organization=imported.organization,
                    line_id=candidate.line_id,
                    transaction_id=candidate.transaction_id,
                    how=StatementMatch.How.AUTOMATIC,
                    score=candidate.score,
                )
        except IntegrityError:
            continue
        matched += 1
    return matched


def _line_locked(organization: Organization, line_id: uuid.UUID) -> StatementLine:
    line = (
        StatementLine.objects.of(organization)
        .select_for_update(of=("self",))
        .select_related("statement_import__source", "organization")
        .filter(id=line_id)
        .first()
    )
    if line is None:
        raise NotFound("Statement line not found.")
    return line


def _match_summary(match: StatementMatch, line: StatementLine) -> dict:
    return {
        "line": str(line.id),
        "transaction": str(match.transaction_id),
        "how": match.how,
        "score": match.score,
        "amount": to_decimal_string(line.amount_minor, line.currency),
        "currency": line.currency,
        "description": line.description,
    }


def match_confirm(*, actor: User, line_id: uuid.UUID, transaction_id: uuid.UUID) -> StatementMatch:
    """Match a line to a spend a person chose (a suggestion, or any reconcilable spend for the same money).

    Either side already matched is a 409: the database's unique keys decide between two at once.
    """
    organization = actor.organization
    with transaction.atomic():
        line = _line_locked(organization, line_id)
        spend = spends_reconcilable(organization).filter(id=transaction_id).first()
        if spend is None:
            if Transaction.objects.of(organization).filter(id=transaction_id).exists():
                raise InvalidInput(
                    "Only a card spend that settled is matched to a statement line.",
                    fields={"transaction": [f"A spend of kind spend, {' or '.join(RECONCILED_STATUSES)}."]},
                )
            raise NotFound("Transaction not found.")
        facts, spent = line_facts(line), spend_facts(spend, organization)
        if not same_money(facts, spent):
            raise InvalidInput(
                f"The line is {to_decimal_string(line.amount_minor, line.currency)} {line.currency}; the spend was "
                f"{to_decimal_string(spend.original_amount_minor, spend.original_currency)} {spend.original_currency}.",
                fields={"transaction": ["Not the line's amount and currency."]},
            )
        if StatementMatch.objects.filter(line=line).exists():
            raise Conflict("This statement line is matched already; unmatch it first.")
        candidate = pair_score(facts, spent, window_days=line.statement_import.source.date_window_days)
        try:
            with transaction.atomic():
                match = StatementMatch.objects.create(
                    organization=organization,
                    line=line,
                    transaction=spend,
                    how=StatementMatch.How.CONFIRMED,
                    score=candidate.score,
                    matched_by=actor,
                )
        except IntegrityError:
            raise Conflict("That spend is matched to another statement line already.") from None
        audit_record(
            actor=actor,
            action=AuditEvent.Action.STATEMENT_MATCH_CONFIRMED,
            target=line,
            after=_match_summary(match, line),
        )
    return match


def match_remove(*, actor: User, line_id: uuid.UUID) -> None:
    """Unmatch a line: its spend and it are unmatched again (and suggested to each other if they still fit)."""
    organization = actor.organization
    with transaction.atomic():
        line = _line_locked(organization, line_id)
        match = StatementMatch.objects.filter(line=line).first()
        if match is None:
            raise Conflict("This statement line is not matched.")
        before = _match_summary(match, line)
        match.delete()
        audit_record(actor=actor, action=AuditEvent.Action.STATEMENT_MATCH_REMOVED, target=line, before=before)


def line_spend_create(
    *,
    actor: User,
    line_id: uuid.UUID,
    employee_id: uuid.UUID,
    department_id: uuid.UUID | None,
    category: str,
    merchant: str | None,
) -> Transaction:
    """A spend for an unmatched charge line, submitted as `employee`'s through the spend intake (admission,
    spend policy, budgets and approvals apply as to any spend), matched to the line as it is accepted.

    The Idempotency-Key is the line's, so the same line makes one spend however often it is asked.
    """
    organization = actor.organization
    line = StatementLine.objects.of(organization).filter(id=line_id).first()
    if line is None:
        raise NotFound("Statement line not found.")
    if line.amount_minor < 0:
        raise InvalidInput("A refund or payment line is not a spend.", fields={"line": ["Not a charge."]})
    if StatementMatch.objects.filter(line=line).exists():
        raise Conflict("This statement line is matched already.")
    employee = User.objects.of(organization).filter(id=employee_id, is_active=True).first()
    if employee is None:
        raise NotFound("Employee not found.")

    def on_accept(spend: Transaction) -> None:
        locked = _line_locked(organization, line.id)
        if StatementMatch.objects.filter(line=locked).exists():
            raise Conflict("This statement line was matched meanwhile.")
        match = StatementMatch.objects.create(
            organization=organization,
            line=locked,
            transaction=spend,
            how=StatementMatch.How.CREATED,
            score=100,
            matched_by=actor,
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.STATEMENT_LINE_SPEND_CREATED,
            target=locked,
            after={**_match_summary(match, locked), "employee": employee.email, "category": spend.category},
        )

    spend, _ = transaction_submit(
        user=employee,
        idempotency_key=f"statement-line-{line.id}",
        amount=to_decimal_string(line.amount_minor, line.currency),
        currency=line.currency,
        merchant=merchant if merchant else line.description[:200],
        category=category,
        description=f"From statement line {line.position} of {line.statement_import.file_name}",
        department_id=department_id,
        on_accept=on_accept,
    )
    return spend
