"""The HTTP shapes of receipts and of the spends missing one."""

from django.urls import reverse
from rest_framework import serializers

from apps.ledger.models import Transaction
from ledgerx.money import to_decimal_string

from .models import Receipt


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
