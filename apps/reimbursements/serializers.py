"""The HTTP shapes of reimbursement claims and payout batches (docs/api.md)."""

from rest_framework import serializers

from apps.ledger.models import Transaction
from ledgerx.fields import AmountField, CurrencyField, QueryFilters, StrictCharField
from ledgerx.money import to_decimal_string

from .models import PayoutBatch
from .selectors import ClaimStatus, claim_status


class ClaimSubmitInput(serializers.Serializer):
    amount = AmountField()
    currency = CurrencyField()
    merchant = StrictCharField(max_length=200)
    category = StrictCharField(max_length=64)
    incurred_on = serializers.DateField(help_text="The day you paid, in your organization's timezone.")
    description = StrictCharField(max_length=1000, required=False, allow_blank=True, default="")
    department = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="Your own unless given; employees claim from theirs."
    )
    receipt = serializers.FileField(
        required=False,
        allow_empty_file=False,
        help_text="A photo (JPEG, PNG, HEIC) or PDF of the receipt; every claim needs one.",
    )


class ClaimListFilters(QueryFilters):
    status = serializers.ChoiceField(choices=ClaimStatus.ALL, required=False)


class _Ref(serializers.Serializer):
    id = serializers.UUIDField()


class _ClaimDepartment(_Ref):
    name = serializers.CharField()


class _ClaimEmployee(_Ref):
    email = serializers.EmailField()


class _ClaimPayoutBatch(_Ref):
    reference = serializers.CharField()


class ClaimOutput(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(
        choices=ClaimStatus.ALL, help_text="`paid` once its payout batch is released; `approved` is owed."
    )
    amount = serializers.CharField()
    currency = serializers.CharField()
    merchant = serializers.CharField()
    category = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    incurred_on = serializers.DateField()
    department = _ClaimDepartment()
    employee = _ClaimEmployee()
    created_at = serializers.DateTimeField()
    processed_at = serializers.DateTimeField(allow_null=True)
    rejection_reason = serializers.CharField(allow_blank=True)
    payout_batch = _ClaimPayoutBatch(allow_null=True)


def claim_representation(claim: Transaction, *, as_accepted: bool = False) -> dict:
    """A claim as its employee and finance see it; `as_accepted` renders it as the 202 answer showed it, for
    replays. Needs claims_visible's annotations unless `as_accepted`."""
    batch = None if as_accepted else getattr(claim, "payout_batch_id", None)
    return {
        "id": str(claim.id),
        "status": ClaimStatus.SUBMITTED if as_accepted else claim_status(claim),
        "amount": to_decimal_string(claim.amount_minor, claim.currency),
        "currency": claim.currency,
        "merchant": claim.merchant,
        "category": claim.category,
        "description": claim.description,
        "incurred_on": claim.incurred_on.isoformat(),
        "department": {"id": str(claim.department_id), "name": claim.department.name},
        "employee": {"id": str(claim.employee_id), "email": claim.employee.email},
        "created_at": claim.created_at.isoformat(),
        "processed_at": None if as_accepted or claim.processed_at is None else claim.processed_at.isoformat(),
        "rejection_reason": "" if as_accepted else claim.rejection_reason,
        "payout_batch": None if batch is None else {"id": str(batch), "reference": claim.payout_batch_reference},
    }


class BatchCreateInput(serializers.Serializer):
    claims = serializers.ListField(
        child=serializers.UUIDField(), required=False, allow_empty=False, max_length=1000, help_text="These claims."
    )
    approved_until = serializers.DateField(
        required=False, help_text="Or every approved, unbatched claim approved up to this day (inclusive)."
    )


class _LineOutput(serializers.Serializer):
    claim = serializers.UUIDField()
    employee = _ClaimEmployee()
    amount = serializers.CharField()


class BatchOutput(serializers.Serializer):
    id = serializers.UUIDField()
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=PayoutBatch.Status.choices)
    total = serializers.CharField()
    currency = serializers.CharField()
    created_by = serializers.EmailField()
    created_at = serializers.DateTimeField()
    released_by = serializers.EmailField(allow_null=True)
    released_at = serializers.DateTimeField(allow_null=True)
    export_sha256 = serializers.CharField(allow_blank=True, help_text="The SHA-256 of export.csv, once released.")
    lines = _LineOutput(many=True)


class BatchListOutput(serializers.Serializer):
    results = BatchOutput(many=True)


def batch_representation(batch: PayoutBatch) -> dict:
    return {
        "id": str(batch.id),
        "reference": batch.reference,
        "status": batch.status,
        "total": to_decimal_string(batch.total_minor, batch.currency),
        "currency": batch.currency,
        "created_by": batch.created_by.email,
        "created_at": batch.created_at.isoformat(),
        "released_by": batch.released_by.email if batch.released_by else None,
        "released_at": batch.released_at.isoformat() if batch.released_at else None,
        "export_sha256": batch.export_sha256,
        "lines": [
            {
                "claim": str(line.claim_id),
                "employee": {"id": str(line.employee_id), "email": line.employee_email},
                "amount": to_decimal_string(line.amount_minor, batch.currency),
            }
            for line in batch.lines.all()
        ],
    }
