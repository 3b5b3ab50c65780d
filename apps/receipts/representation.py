"""The HTTP shapes of receipts and of the spends missing one."""

from django.urls import reverse
from rest_framework import serializers

from apps.ledger.models import Transaction
from ledgerx.money import to_decimal_string

from .models import ReadingStatus, Receipt


def receipt_representation(receipt: Receipt) -> dict:
    return {
        "id": str(receipt.id),
        "transaction": str(receipt.transaction_id),
        "status": receipt.status,
        "content_type": receipt.content_type,
        "size": receipt.size,
        "sha256": receipt.sha256,
        "original_name": receipt.original_name,
        "uploaded_by": receipt.uploaded_by.email,
        "created_at": receipt.created_at.isoformat(),
        "file_url": reverse("receipt-file", args=[receipt.id]),
        "thumbnail_url": reverse("receipt-thumbnail", args=[receipt.id]) if receipt.thumbnail_name else None,
        "reading": {
            "status": receipt.reading_status,
            "total": receipt.read_total or None,
            "currency": receipt.read_currency or None,
            "date": receipt.read_date.isoformat() if receipt.read_date else None,
            "merchant": receipt.read_merchant or None,
            "mismatches": receipt.mismatches,
        },
    }


def missing_representation(spend: Transaction) -> dict:
    return {
        "transaction": str(spend.id),
        "employee": spend.employee.email,
        "department": spend.department.name,
        "merchant": spend.merchant,
        "category": spend.category,
        "amount": to_decimal_string(spend.amount_minor, spend.currency),
        "currency": spend.currency,
        "created_at": spend.created_at.isoformat(),
        "policy_version": spend.policy_version,
    }


# The shapes above, for the OpenAPI schema.


class MismatchOutput(serializers.Serializer):
    code = serializers.ChoiceField(
        choices=["amount_differs", "currency_differs", "date_outside_period", "date_far_from_spend"]
    )
    message = serializers.CharField()


class ReadingOutput(serializers.Serializer):
    status = serializers.ChoiceField(choices=ReadingStatus.choices, help_text="pending, then read or unavailable.")
    total = serializers.CharField(allow_null=True, help_text="A decimal, as read.")
    currency = serializers.CharField(allow_null=True)
    date = serializers.DateField(allow_null=True)
    merchant = serializers.CharField(allow_null=True)
    mismatches = MismatchOutput(many=True, help_text="For a reviewer: a reading never blocks or changes a spend.")


class ReceiptOutput(serializers.Serializer):
    id = serializers.UUIDField()
    transaction = serializers.UUIDField()
    status = serializers.ChoiceField(
        choices=Receipt.Status.choices, help_text="processing, then ready (thumbnail made) or failed (no preview)."
    )
    content_type = serializers.ChoiceField(choices=["image/jpeg", "image/png", "application/pdf"])
    size = serializers.IntegerField(help_text="Bytes as stored: an image re-encoded, a PDF as uploaded.")
    sha256 = serializers.CharField(help_text="Of the stored bytes.")
    original_name = serializers.CharField(help_text="The uploaded file's name, for people.")
    uploaded_by = serializers.EmailField()
    created_at = serializers.DateTimeField()
    file_url = serializers.CharField()
    thumbnail_url = serializers.CharField(allow_null=True)
    reading = ReadingOutput(help_text="What was read on the receipt, and where it disagrees with the spend.")


class SpendMissingReceiptOutput(serializers.Serializer):
    transaction = serializers.UUIDField()
    employee = serializers.EmailField()
    department = serializers.CharField()
    merchant = serializers.CharField()
    category = serializers.CharField()
    amount = serializers.CharField()
    currency = serializers.CharField()
    created_at = serializers.DateTimeField()
    policy_version = serializers.IntegerField(help_text="The policy version whose receipt rule asks for one.")
