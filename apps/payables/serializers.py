"""The HTTP shapes of vendors, bills, paying accounts, payment runs and return files (docs/api.md)."""

import json

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ledgerx.fields import AmountField, CurrencyField, QueryFilters, StrictCharField, StrictIntegerField
from ledgerx.money import rate_text, to_decimal_string

from .bank_details import ACH_ACCOUNT_TYPES, RAILS
from .bills import BILL_LINES_MAX
from .models import Bill, PayingAccount, PaymentRun, ReturnFile, Vendor, VendorBankChange
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


class BillLineInput(serializers.Serializer):
    gl_account = serializers.UUIDField(help_text="An active expense account of the organization's chart.")
    amount = AmountField(help_text="In the bill's currency; the lines sum to the bill's amount exactly.")
    description = StrictCharField(max_length=200, required=False, allow_blank=True, default="")


@extend_schema_field(
    {
        "type": "string",
        "description": "A JSON array of GL lines, each {gl_account, amount, description?}; they sum to the bill's "
        f"amount exactly. Omitted: one line on the vendor's default GL account. Up to {BILL_LINES_MAX}.",
    }
)
class BillLinesField(serializers.Field):
    """The bill's GL lines, a JSON array in a multipart form field (the invoice file travels beside them). Each
    line is checked like a body: a key it does not declare is refused by name."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                raise serializers.ValidationError("A JSON array of lines.") from None
        if not isinstance(data, list) or not data or len(data) > BILL_LINES_MAX:
            raise serializers.ValidationError(f"A JSON array of 1 to {BILL_LINES_MAX} lines.")
        lines, problems = [], []
        for number, item in enumerate(data, start=1):
            if not isinstance(item, dict):
                problems.append(f"Line {number}: an object.")
                continue
            line = BillLineInput(data=item)
            unknown = sorted(set(item) - set(line.fields))
            if unknown:
                problems.append(f"Line {number}: unknown field {', '.join(unknown)}.")
            elif not line.is_valid():
                problems += [
                    f"Line {number}: {name}: {' '.join(map(str, errors))}" for name, errors in line.errors.items()
                ]
            else:
                lines.append(line.validated_data)
        if problems:
            raise serializers.ValidationError(problems)
        return lines


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
    lines = BillLinesField(required=False, default=None)


class BillListFilters(QueryFilters):
    status = serializers.ChoiceField(choices=BillStatus.ALL, required=False)
    vendor = serializers.UUIDField(required=False)


class BillLineOutput(serializers.Serializer):
    position = serializers.IntegerField()
    gl_account = serializers.UUIDField()
    gl_code = serializers.CharField()
    amount = serializers.CharField()
    description = serializers.CharField(allow_blank=True)


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
    lines = BillLineOutput(many=True)


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
        "lines": [
            {
                "position": line.position,
                "gl_account": line.gl_account_id,
                "gl_code": line.gl_account.code,
                "amount": to_decimal_string(line.amount_minor, bill.currency),
                "description": line.description,
            }
            for line in bill.lines.all()
        ],
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
    paid_base_amount = serializers.CharField(
        help_text="What it cost in the organization's base currency, at the rate of its release (in a draft: "
        "what the bill is owed at)."
    )
    trace_number = serializers.CharField(allow_blank=True, help_text="ACH: the entry's trace number in the file.")
    returned_at = serializers.DateTimeField(allow_null=True)
    return_reason = serializers.CharField(allow_blank=True)
    return_file = serializers.UUIDField(allow_null=True)


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
    fx_rate = serializers.CharField(
        allow_null=True, help_text="The run's currency in base units, read at release, when it is not the base."
    )
    fx_rate_date = serializers.DateField(allow_null=True)
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
        "fx_rate": rate_text(run.fx_rate) if run.fx_rate is not None else None,
        "fx_rate_date": run.fx_rate_date,
        "lines": [
            {
                "id": line.id,
                "bill": line.bill_id,
                "vendor_name": line.vendor_name,
                "amount": to_decimal_string(line.amount_minor, run.currency),
                "end_to_end_id": line.end_to_end_id,
                "paid_base_amount": to_decimal_string(line.paid_base_amount_minor, run.organization.currency),
                "trace_number": line.trace_number,
                "returned_at": line.returned_at,
                "return_reason": line.return_reason,
                "return_file": line.return_file_id,
            }
            for line in run.lines.all()
        ],
    }


class PaymentReturnInput(serializers.Serializer):
    reason = StrictCharField(max_length=200)


class ReturnFileInput(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=False, help_text="The bank's NACHA return file, or its pain.002 payment status report."
    )


class _ReturnOutcome(serializers.Serializer):
    reference = serializers.CharField(help_text="The trace number or end-to-end id the file names.")
    reason = serializers.CharField()
    outcome = serializers.ChoiceField(choices=["returned", "already_returned", "not_released", "unknown"])
    payment = serializers.IntegerField(required=False, help_text="The payment it names, when one of ours does.")


class ReturnFileOutput(serializers.Serializer):
    id = serializers.UUIDField()
    format = serializers.ChoiceField(choices=ReturnFile.Format.choices)
    file_name = serializers.CharField()
    sha256 = serializers.CharField()
    uploaded_by = serializers.EmailField()
    uploaded_at = serializers.DateTimeField()
    outcomes = _ReturnOutcome(many=True)


def return_file_representation(return_file: ReturnFile) -> dict:
    return {
        "id": return_file.id,
        "format": return_file.format,
        "file_name": return_file.file_name,
        "sha256": return_file.sha256,
        "uploaded_by": return_file.uploaded_by.email,
        "uploaded_at": return_file.uploaded_at,
        "outcomes": return_file.outcomes,
    }
