"""/api/v1/vendors, /bills, /paying-accounts and /payment-runs: vendor payments, for finance (paying accounts:
org admins add them). Returned payments: api_returns.py."""

import base64

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from apps.tenancy.api_base import TenantAPIView, validated
from apps.tenancy.permissions import ADMIN_ROLES, FINANCE_ROLES
from ledgerx.errors import Conflict
from ledgerx.money import to_decimal_string
from ledgerx.pagination import NewestFirst
from ledgerx.schema import CURSOR_PARAMETERS, IDEMPOTENCY_KEY, cursor_page, error_responses

from . import bills, payment_runs, selectors, vendors
from .bank_details import bank_details_validate
from .models import PayingAccount, PaymentRun, Vendor, VendorBankChange
from .serializers import (
    BankChangeDecisionInput,
    BankChangeOutput,
    BankDetailsInput,
    BillListFilters,
    BillOutput,
    BillSubmitInput,
    PayingAccountInput,
    PayingAccountOutput,
    PayingAccountScheduleInput,
    PaymentRunInput,
    PaymentRunListOutput,
    PaymentRunOutput,
    PreviewFilters,
    PreviewOutput,
    VendorInput,
    VendorOutput,
    VendorUpdateInput,
    bank_change_representation,
    bill_representation,
    paying_account_representation,
    payment_run_representation,
    vendor_representation,
)


class VendorListCreateApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    @extend_schema(operation_id="vendors_list", responses={200: VendorOutput(many=True)})
    def get(self, request):
        return Response([vendor_representation(v) for v in Vendor.objects.of(self.organization)])

    @extend_schema(
        operation_id="vendors_create",
        request=VendorInput,
        responses={201: VendorOutput, **error_responses(400, 404, 409)},
        description="A vendor. Its `bank_details`, when given, wait for a second finance user's approval "
        "(`/vendor-bank-changes/{id}/decision`) before anything is paid to them.",
    )
    def post(self, request):
        data = validated(VendorInput, request.data)
        details = data["bank_details"]
        vendor = vendors.vendor_create(
            actor=request.user,
            legal_name=data["legal_name"],
            contact_name=data["contact_name"],
            contact_email=data["contact_email"],
            default_gl_account_id=data["default_gl_account"],
            default_department_id=data["default_department"],
            bank_details=bank_details_validate(**details) if details else None,
        )
        return Response(vendor_representation(vendor), status=status.HTTP_201_CREATED)


class VendorDetailApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    @extend_schema(operation_id="vendors_retrieve", responses={200: VendorOutput, **error_responses(404)})
    def get(self, request, vendor_id):
        return Response(vendor_representation(self.get_scoped(Vendor.objects, vendor_id)))

    @extend_schema(
        operation_id="vendors_update",
        request=VendorUpdateInput,
        responses={200: VendorOutput, **error_responses(400, 404)},
        description="Change a vendor's name, contact or defaults. Payment details change through `bank-changes`.",
    )
    def patch(self, request, vendor_id):
        vendor = self.get_scoped(Vendor.objects, vendor_id)
        data = validated(VendorUpdateInput, request.data)
        renamed = {"default_gl_account": "default_gl_account_id", "default_department": "default_department_id"}
        vendor = vendors.vendor_update(
            actor=request.user, vendor_id=vendor.id, **{renamed.get(k, k): v for k, v in data.items()}
        )
        return Response(vendor_representation(vendor))


class VendorBankChangeCreateApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    @extend_schema(
        operation_id="vendor_bank_changes_create",
        request=BankDetailsInput,
        responses={201: BankChangeOutput, **error_responses(400, 404, 409)},
        description="Ask to pay the vendor to other details. They are the vendor's once another finance user "
        "approves; until then the vendor is not paid at all. One change waits at a time (409).",
    )
    def post(self, request, vendor_id):
        vendor = self.get_scoped(Vendor.objects, vendor_id)
        details = bank_details_validate(**validated(BankDetailsInput, request.data))
        change = vendors.vendor_bank_change_request(actor=request.user, vendor_id=vendor.id, details=details)
        return Response(bank_change_representation(change), status=status.HTTP_201_CREATED)


class VendorBankChangeDecisionApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    @extend_schema(
        operation_id="vendor_bank_changes_decide",
        request=BankChangeDecisionInput,
        responses={200: BankChangeOutput, **error_responses(400, 403, 404, 409)},
        description="Approve or reject a waiting change. Whoever asked for it cannot decide it (403).",
    )
    def post(self, request, change_id):
        change = self.get_scoped(VendorBankChange.objects, change_id)
        data = validated(BankChangeDecisionInput, request.data)
        change = vendors.vendor_bank_change_decide(
            actor=request.user, change_id=change.id, approve=data["approve"], note=data["note"]
        )
        return Response(bank_change_representation(change))


class BillListCreateApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES
    filters_class = BillListFilters
    paginator_class = NewestFirst
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="bills_list",
        parameters=[BillListFilters, *CURSOR_PARAMETERS],
        responses={200: cursor_page("BillPage", BillOutput), **error_responses(400)},
    )
    def get(self, request):
        found = selectors.bills_of(organization=self.organization)
        if self.filters.get("vendor"):
            found = found.filter(vendor_id=self.filters["vendor"])
        if self.filters.get("status"):
            wanted = self.filters["status"]
            ids = [bill.id for bill in found if selectors.bill_status(bill) == wanted]
            found = found.filter(id__in=ids)
        return self.paginated(found, bill_representation)

    @extend_schema(
        operation_id="bills_submit",
        parameters=[IDEMPOTENCY_KEY],
        request={"multipart/form-data": BillSubmitInput},
        responses={202: BillOutput, **error_responses(400, 403, 404, 409, 422, 429)},
        description="Enter a vendor's bill with its invoice file and its GL `lines` (a JSON array; they sum to its "
        "amount exactly, else 400; omitted, one line on the vendor's default GL account). Settled like a spend "
        "(the budget of its department in the bill's month, approval policies with a hold); once approved its "
        "expense is booked one line per GL line, owed on accounts payable. A bill of the same vendor, invoice "
        "number and amount as one not rejected: 409.",
    )
    def post(self, request):
        data = validated(BillSubmitInput, request.data)
        transaction, replayed = bills.bill_submit(
            user=request.user,
            idempotency_key=request.headers.get("Idempotency-Key"),
            vendor_id=data["vendor"],
            invoice_number=data["invoice_number"],
            amount=data["amount"],
            currency=data["currency"],
            bill_date=data["bill_date"],
            due_date=data["due_date"],
            department_id=data["department"],
            description=data["description"],
            invoice=data["invoice"],
            lines=[
                bills.BillLineInput(line["gl_account"], line["amount"], line["description"]) for line in data["lines"]
            ]
            if data["lines"]
            else None,
        )
        bill = selectors.bills_of(organization=self.organization).get(transaction_id=transaction.id)
        headers = {"Location": reverse("bill-detail", args=[bill.id])}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(bill_representation(bill), status=status.HTTP_202_ACCEPTED, headers=headers)


class BillDetailApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    @extend_schema(operation_id="bills_retrieve", responses={200: BillOutput, **error_responses(404)})
    def get(self, request, bill_id):
        return Response(
            bill_representation(self.get_scoped(selectors.bills_of(organization=self.organization), bill_id))
        )


class PayingAccountListCreateApi(TenantAPIView):
    allowed_roles = {"GET": FINANCE_ROLES, "POST": ADMIN_ROLES}

    @extend_schema(operation_id="paying_accounts_list", responses={200: PayingAccountOutput(many=True)})
    def get(self, request):
        return Response([paying_account_representation(a) for a in PayingAccount.objects.of(self.organization)])

    @extend_schema(
        operation_id="paying_accounts_create",
        request=PayingAccountInput,
        responses={201: PayingAccountOutput, **error_responses(400, 409)},
        description="One of the organization's own accounts to pay from: SEPA (EUR) or ACH (USD, with the "
        "company identification and name your bank gave you).",
    )
    def post(self, request):
        data = validated(PayingAccountInput, request.data)
        name = data.pop("name")
        company_id, company_name = data.pop("ach_company_id"), data.pop("ach_company_name")
        account = vendors.paying_account_create(
            actor=request.user,
            name=name,
            details=bank_details_validate(**data),
            ach_company_id=company_id,
            ach_company_name=company_name,
        )
        return Response(paying_account_representation(account), status=status.HTTP_201_CREATED)


class PayingAccountDetailApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    @extend_schema(
        operation_id="paying_accounts_update",
        request=PayingAccountScheduleInput,
        responses={200: PayingAccountOutput, **error_responses(400, 404)},
        description="Put the account's payment runs on a schedule: every hour, when no draft of the account is "
        "open, a draft of the approved bills due within `scheduled_due_within_days` is made, for a finance user "
        "to review and release (null: runs are drafted by hand only).",
    )
    def patch(self, request, paying_account_id):
        account = self.get_scoped(PayingAccount.objects, paying_account_id)
        data = validated(PayingAccountScheduleInput, request.data)
        account = vendors.paying_account_schedule_set(
            actor=request.user, account_id=account.id, due_within_days=data["scheduled_due_within_days"]
        )
        return Response(paying_account_representation(account))


class PaymentPreviewApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES
    filters_class = PreviewFilters

    @extend_schema(
        operation_id="payment_runs_preview",
        parameters=[PreviewFilters],
        responses={200: PreviewOutput, **error_responses(400)},
        description="What runs due by `due_until` would pay, per paying account (so per currency), and the "
        "bills held back with why (details not approved, a change waiting, no account for the currency).",
    )
    def get(self, request):
        due_until = self.filters["due_until"]
        previews = selectors.payment_preview(organization=self.organization, due_until=due_until)
        held = selectors.bills_held(organization=self.organization, due_until=due_until)
        return Response(
            {
                "accounts": [
                    {
                        "paying_account": paying_account_representation(p.paying_account),
                        "bills": [bill.id for bill in p.bills],
                        "total": to_decimal_string(p.total_minor, p.paying_account.currency),
                        "currency": p.paying_account.currency,
                    }
                    for p in previews
                ],
                "held": [{"bill": bill.id, "reason": reason} for bill, reason in held],
            }
        )


def run_of(view: TenantAPIView, run_id) -> PaymentRun:
    return view.get_scoped(PaymentRun.objects.select_related("organization").prefetch_related("lines"), run_id)


class PaymentRunListCreateApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    @extend_schema(operation_id="payment_runs_list", responses={200: PaymentRunListOutput})
    def get(self, request):
        runs = selectors.runs_of(organization=self.organization).prefetch_related("lines")
        return Response({"results": [payment_run_representation(run) for run in runs]})

    @extend_schema(
        operation_id="payment_runs_create",
        request=PaymentRunInput,
        responses={201: PaymentRunOutput, **error_responses(400, 404)},
        description="A draft run from a paying account: the `bills` named, or every payable bill due by "
        "`due_until`. No money moves until it is released.",
    )
    def post(self, request):
        data = validated(PaymentRunInput, request.data)
        run = payment_runs.payment_run_create(
            actor=request.user,
            paying_account_id=data["paying_account"],
            due_until=data["due_until"],
            execution_date=data["execution_date"],
            bill_ids=data.get("bills"),
        )
        return Response(payment_run_representation(run_of(self, run.id)), status=status.HTTP_201_CREATED)


class PaymentRunDetailApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    @extend_schema(operation_id="payment_runs_retrieve", responses={200: PaymentRunOutput, **error_responses(404)})
    def get(self, request, payment_run_id):
        return Response(payment_run_representation(run_of(self, payment_run_id)))

    @extend_schema(
        operation_id="payment_runs_discard",
        responses={204: None, **error_responses(404, 409)},
        description="Discard a draft run, freeing its bills. A released run: 409.",
    )
    def delete(self, request, payment_run_id):
        run = run_of(self, payment_run_id)
        payment_runs.payment_run_discard(actor=request.user, run_id=run.id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PaymentRunReleaseApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES
    body_methods = ()

    @extend_schema(
        operation_id="payment_runs_release",
        request=None,
        responses={200: PaymentRunOutput, **error_responses(400, 404, 409)},
        description="Pay the run: accounts payable cleared against the bank in the ledger, the bank file "
        "(pain.001 for SEPA, NACHA for ACH) written once and kept with its SHA-256. 409 once released, or when "
        "a bill was reversed or a vendor's payment details changed since the draft. A run in a currency other "
        "than the organization's is converted at the day's rate: none, 400 `fx_rate_missing`.",
    )
    def post(self, request, payment_run_id):
        run = run_of(self, payment_run_id)
        payment_runs.payment_run_release(actor=request.user, run_id=run.id)
        return Response(payment_run_representation(run_of(self, payment_run_id)))


class PaymentRunFileApi(TenantAPIView):
    allowed_roles = FINANCE_ROLES

    @extend_schema(
        operation_id="payment_runs_file",
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The bank file as written at release, byte for byte; `Repr-Digest` is its SHA-256.",
            ),
            **error_responses(404, 409),
        },
    )
    def get(self, request, payment_run_id):
        run = run_of(self, payment_run_id)
        if run.status != PaymentRun.Status.RELEASED:
            raise Conflict(f"Payment run {run.reference} is a draft: release it, then download its bank file.")
        response = HttpResponse(bytes(run.file_content), content_type="application/octet-stream")
        response["Content-Disposition"] = f'attachment; filename="{run.file_name}"'
        response["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(run.file_sha256)).decode()}:"
        return response
