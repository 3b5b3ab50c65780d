"""The HTTP shapes of statement sources, imports, lines and their matches (docs/api.md)."""

from rest_framework import serializers

from apps.ledger.models import Transaction
from ledgerx.fields import StrictCharField
from ledgerx.money import to_decimal_string

from .matching import Candidate
from .models import StatementImport, StatementLine, StatementMatch, StatementSource
from .selectors import Reconciliation


class StatementImportInput(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=False, help_text="A CSV laid out as the source's mapping says, or an OFX/QFX file."
    )


class MatchConfirmInput(serializers.Serializer):
    transaction = serializers.UUIDField(help_text="The spend this line is, usually one of its suggestions.")


class LineSpendInput(serializers.Serializer):
    employee = serializers.UUIDField(help_text="Whose card spend it was: the spend is theirs.")
    department = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="The employee's own unless given."
    )
    category = StrictCharField(max_length=64)
    merchant = StrictCharField(
        max_length=200, required=False, allow_blank=True, default="", help_text="The line's description unless given."
    )


class SourceOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=StatementSource.Kind.values)
    currency = serializers.CharField()
    date_window_days = serializers.IntegerField()


class SourceListOutput(serializers.Serializer):
    results = SourceOutput(many=True)


class _SpendOutput(serializers.Serializer):
    id = serializers.UUIDField()
    merchant = serializers.CharField()
    amount = serializers.CharField(help_text="As spent, in `currency`.")
    currency = serializers.CharField()
    created_at = serializers.DateTimeField()
    employee = serializers.EmailField()


class MatchOutput(serializers.Serializer):
    transaction = serializers.UUIDField()
    how = serializers.ChoiceField(choices=StatementMatch.How.values)
    score = serializers.IntegerField()
    matched_by = serializers.EmailField(allow_null=True)
    matched_at = serializers.DateTimeField()


class _SuggestionOutput(serializers.Serializer):
    transaction = _SpendOutput()
    score = serializers.IntegerField(help_text="0-100: 70% merchant similarity, 30% closeness of the days.")
    merchant_similarity = serializers.IntegerField()
    days_apart = serializers.IntegerField()


class LineOutput(serializers.Serializer):
    id = serializers.UUIDField()
    position = serializers.IntegerField()
    posted_on = serializers.DateField()
    amount = serializers.CharField(help_text="A charge is positive, a refund or payment negative.")
    currency = serializers.CharField()
    description = serializers.CharField()
    reference = serializers.CharField(allow_blank=True)
    external_id = serializers.CharField(allow_blank=True)
    state = serializers.ChoiceField(choices=["matched", "unmatched"])
    match = MatchOutput(allow_null=True)
    suggestions = _SuggestionOutput(many=True)


class LineSpendOutput(serializers.Serializer):
    transaction = serializers.UUIDField(help_text="The new spend, matched to the line.")
    status = serializers.CharField(help_text="`pending` until settlement decides it, as any new spend.")


class LineListOutput(serializers.Serializer):
    results = LineOutput(many=True)


class ImportOutput(serializers.Serializer):
    id = serializers.UUIDField()
    source = serializers.UUIDField()
    file_name = serializers.CharField()
    file_format = serializers.ChoiceField(choices=StatementImport.Format.values)
    sha256 = serializers.CharField()
    currency = serializers.CharField()
    first_day = serializers.DateField()
    last_day = serializers.DateField()
    imported_by = serializers.EmailField()
    imported_at = serializers.DateTimeField()
    lines = serializers.IntegerField()
    matched = serializers.IntegerField()
    unmatched_lines = serializers.IntegerField()
    unmatched_spends = _SpendOutput(many=True, help_text="Settled card spends of the statement's days no line matches.")


def source_representation(source: StatementSource) -> dict:
    return {
        "id": str(source.id),
        "name": source.name,
        "kind": source.kind,
        "currency": source.currency,
        "date_window_days": source.date_window_days,
    }


def spend_representation(spend: Transaction) -> dict:
    return {
        "id": str(spend.id),
        "merchant": spend.merchant,
        "amount": to_decimal_string(spend.original_amount_minor, spend.original_currency),
        "currency": spend.original_currency,
        "created_at": spend.created_at.isoformat(),
        "employee": spend.employee.email,
    }


def import_representation(reconciliation: Reconciliation) -> dict:
    imported = reconciliation.statement_import
    matched, unmatched = len(reconciliation.matched), len(reconciliation.unmatched_lines)
    return {
        "id": str(imported.id),
        "source": str(imported.source_id),
        "file_name": imported.file_name,
        "file_format": imported.file_format,
        "sha256": imported.sha256,
        "currency": imported.currency,
        "first_day": imported.first_day.isoformat(),
        "last_day": imported.last_day.isoformat(),
        "imported_by": imported.imported_by.email,
        "imported_at": imported.imported_at.isoformat(),
        "lines": matched + unmatched,
        "matched": matched,
        "unmatched_lines": unmatched,
        "unmatched_spends": [spend_representation(spend) for spend in reconciliation.unmatched_spends],
    }


def match_representation(match: StatementMatch) -> dict:
    return {
        "transaction": str(match.transaction_id),
        "how": match.how,
        "score": match.score,
        "matched_by": match.matched_by.email if match.matched_by else None,
        "matched_at": match.matched_at.isoformat(),
    }


def line_representation(line: StatementLine, suggestions: list[tuple[Transaction, Candidate]] | None = None) -> dict:
    match = getattr(line, "match", None)
    return {
        "id": str(line.id),
        "position": line.position,
        "posted_on": line.posted_on.isoformat(),
        "amount": to_decimal_string(line.amount_minor, line.currency),
        "currency": line.currency,
        "description": line.description,
        "reference": line.reference,
        "external_id": line.external_id,
        "state": "matched" if match is not None else "unmatched",
        "match": match_representation(match) if match is not None else None,
        "suggestions": [
            {
                "transaction": spend_representation(spend),
                "score": candidate.score,
                "merchant_similarity": candidate.merchant_similarity,
                "days_apart": candidate.days_apart,
            }
            for spend, candidate in (suggestions or [])
        ],
    }
