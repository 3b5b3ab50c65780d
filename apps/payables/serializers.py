"""The HTTP shapes of vendors, bills, paying accounts and payment runs (docs/api.md)."""

from rest_framework import serializers

from ledgerx.fields import AmountField, CurrencyField, QueryFilters, StrictCharField, StrictIntegerField
from ledgerx.money import to_decimal_string

from .bank_details import ACH_ACCOUNT_TYPES, RAILS
from .models import Bill, PayingAccount, PaymentRun, Vendor, VendorBankChange
from .selectors import BillStatus, bill_status
from .vendors import SCHEDULE_DAYS_MAX


class BankDetailsInput(serializers.Serializer):
    rail = serializers.ChoiceField(choices=RAILS)
    iban = StrictCharField(max_length=42, required=False, allow_blank=True, default="")
    bic = StrictCharField(max_length=11, required=False, allow_blank=True, default="")
    routing_number = StrictCharField(max_length=9, required=False, allow_blank=True, default="")
    account_number = StrictCharField(max_length=20, required=False, allow_blank=True, default="")
    account_type = serializers.ChoiceField(choices=ACH_ACCOUNT_TYPES, required=False, default="")


class VendorInput(serializers.Serializer):
    legal_name = StrictCharField(max_length=140)
    contact_name = StrictCharField(max_length=140, required=False, allow_blank=True, default="")
    contact_email = serializers.EmailField(required=False, allow_blank=True, default="")
    default_gl_account = serializers.UUIDField(required=False, allow_null=True, default=None)
    default_department = serializers.UUIDField(required=False, allow_null=True, default=None)
    bank_details = BankDetailsInput(
        required=False, default=None, help_text="Asked for here; the vendor's once a second person approves."
    )


class VendorUpdateInput(serializers.Serializer):
    legal_name = StrictCharField(max_length=140, required=False)
    contact_name = StrictCharField(max_length=140, required=False, allow_blank=True)
    contact_email = serializers.EmailField(required=False, allow_blank=True)
    default_gl_account = serializers.UUIDField(required=False, allow_null=True)
    default_department = serializers.UUIDField(required=False, allow_null=True)


class BankChangeDecisionInput(serializers.Serializer):
    approve = serializers.BooleanField()
    note = StrictCharField(max_length=1000, required=False, allow_blank=True, default="")


class VendorOutput(serializers.Serializer):
    id = serializers.UUIDField()
    legal_name = serializers.CharField()
    contact_name = serializers.CharField(allow_blank=True)
    contact_email = serializers.CharField(allow_blank=True)
    default_gl_account = serializers.UUIDField(allow_null=True)
    default_department = serializers.UUIDField(allow_null=True)
    payment_details = serializers.CharField(
        allow_blank=True, help_text="The approved details, masked; empty until a second person approves them."
    )
    bank_details_version = serializers.IntegerField()
    pending_bank_change = serializers.UUIDField(allow_null=True)


def vendor_representation(vendor: Vendor) -> dict:
    details = vendor.bank_details()
    pending = vendor.bank_changes.filter(status=VendorBankChange.Status.PENDING).values_list("id", flat=True).first()
    return {
        "id": vendor.id,
        "legal_name": vendor.legal_name,
        "contact_name": vendor.contact_name,
        "contact_email": vendor.contact_email,
        "default_gl_account": vendor.default_gl_account_id,
        "default_department": vendor.default_department_id,
        "payment_details": details.masked() if details else "",
        "bank_details_version": vendor.bank_details_version,
        "pending_bank_change": pending,
    }


class BankChangeOutput(serializers.Serializer):
    id = serializers.UUIDField()
    vendor = serializers.UUIDField()
    status = serializers.ChoiceField(choices=VendorBankChange.Status.choices)
    payment_details = serializers.CharField()
    requested_by = serializers.EmailField()
    decided_by = serializers.EmailField(allow_null=True)


def bank_change_representation(change: VendorBankChange) -> dict:
    return {
        "id": change.id,
        "vendor": change.vendor_id,
        "status": change.status,
        "payment_details": change.bank_details().masked(),
        "requested_by": change.requested_by.email,
        "decided_by": change.decided_by.email if change.decided_by else None,
    }


class BillSubmitInput(serializers.Serializer):
    vendor = serializers.UUIDField()
    invoice_number = StrictCharField(max_length=64)
    amount = AmountField()
    currency = CurrencyField()
    bill_date = serializers.DateField()
    due_date = serializers.DateField()
    department = serializers.UUIDField(required=False, allow_null=True, default=None)
    description = StrictCharField(max_length=1000, required=False, allow_blank=True, default="")
    invoice = serializers.FileField(allow_empty_file=False, help_text="The vendor's invoice, a PDF or an image.")


class BillListFilters(QueryFilters):
    status = serializers.ChoiceField(choices=BillStatus.ALL, required=False)
    vendor = serializers.UUIDField(required=False)


class BillOutput(serializers.Serializer):
    id = serializers.UUIDField()
    transaction = serializers.UUIDField()
    status = serializers.ChoiceField(choices=BillStatus.ALL)
    vendor = serializers.UUIDField()
    vendor_name = serializers.CharField()
    invoice_number = serializers.CharField()
    amount = serializers.CharField()
    currency = serializers.CharField()
    bill_date = serializers.DateField()
    due_date = serializers.DateField()
    department = serializers.UUIDField()
    budget_month = serializers.DateField()
    rejection_reason = serializers.CharField(allow_blank=True)


def bill_representation(bill: Bill) -> dict:
    return {
        "id": bill.id,
        "transaction": bill.transaction_id,
        "status": bill_status(bill),
        "vendor": bill.vendor_id,
        "vendor_name": bill.vendor.legal_name,
        "invoice_number": bill.invoice_number,
        "amount": to_decimal_string(bill.amount_minor, bill.currency),
        "currency": bill.currency,
        "bill_date": bill.bill_date,
        "due_date": bill.due_date,
        "department": bill.transaction.department_id,
        "budget_month": bill.transaction.budget_month,
        "rejection_reason": bill.transaction.rejection_reason,
    }


class PayingAccountInput(BankDetailsInput):
    name = StrictCharField(max_length=70)
    ach_company_id = StrictCharField(max_length=10, required=False, allow_blank=True, default="")
    ach_company_name = StrictCharField(max_length=16, required=False, allow_blank=True, default="")


class PayingAccountScheduleInput(serializers.Serializer):
    scheduled_due_within_days = StrictIntegerField(
        allow_null=True,
        min_value=0,
        max_value=SCHEDULE_DAYS_MAX,
        help_text="Draft a run of the bills due within this many days whenever none is open; null: by hand only.",
    )


class PayingAccountOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    currency = serializers.CharField()
    rail = serializers.CharField()
    payment_details = serializers.CharField()
    scheduled_due_within_days = serializers.IntegerField(allow_null=True)


def paying_account_representation(account: PayingAccount) -> dict:
    return {
        "id": account.id,
        "name": account.name,
        "currency": account.currency,
        "rail": account.rail,
        "payment_details": account.bank_details().masked(),
        "scheduled_due_within_days": account.scheduled_due_within_days,
    }


class PaymentRunInput(serializers.Serializer):
    paying_account = serializers.UUIDField()
    due_until = serializers.DateField()
    execution_date = serializers.DateField()
    bills = serializers.ListField(child=serializers.UUIDField(), required=False, allow_empty=False, max_length=1000)


class PreviewFilters(QueryFilters):
    due_until = serializers.DateField()


class _PreviewAccount(serializers.Serializer):
    paying_account = PayingAccountOutput()
    bills = serializers.ListField(child=serializers.UUIDField())
    total = serializers.CharField()
    currency = serializers.CharField()


class _HeldBill(serializers.Serializer):
    bill = serializers.UUIDField()
    reason = serializers.CharField()


class PreviewOutput(serializers.Serializer):
    accounts = _PreviewAccount(many=True)
    held = _HeldBill(many=True)


class _PaymentLine(serializers.Serializer):
    id = serializers.IntegerField()
    bill = serializers.UUIDField()
    vendor_name = serializers.CharField()
    amount = serializers.CharField()
    end_to_end_id = serializers.CharField()
    returned_at = serializers.DateTimeField(allow_null=True)
    return_reason = serializers.CharField(allow_blank=True)


class PaymentRunOutput(serializers.Serializer):
    id = serializers.UUIDField()
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=PaymentRun.Status.choices)
    paying_account = serializers.UUIDField()
    currency = serializers.CharField()
    total = serializers.CharField()
    execution_date = serializers.DateField()
    due_until = serializers.DateField()
    file_name = serializers.CharField(allow_blank=True)
    file_sha256 = serializers.CharField(allow_blank=True)
    lines = _PaymentLine(many=True)


class PaymentRunListOutput(serializers.Serializer):
    results = PaymentRunOutput(many=True)


def payment_run_representation(run: PaymentRun) -> dict:
    return {
        "id": run.id,
        "reference": run.reference,
        "status": run.status,
        "paying_account": run.paying_account_id,
        "currency": run.currency,
        "total": to_decimal_string(run.total_minor, run.currency),
        "execution_date": run.execution_date,
        "due_until": run.due_until,
        "file_name": run.file_name,
        "file_sha256": run.file_sha256,
        "lines": [
            {
                "id": line.id,
                "bill": line.bill_id,
                "vendor_name": line.vendor_name,
                "amount": to_decimal_string(line.amount_minor, run.currency),
                "end_to_end_id": line.end_to_end_id,
                "returned_at": line.returned_at,
                "return_reason": line.return_reason,
            }
            for line in run.lines.all()
        ],
    }


class PaymentReturnInput(serializers.Serializer):
    reason = StrictCharField(max_length=200)
