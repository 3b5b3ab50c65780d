"""Vendor payments in the back office, changed only through the services.

Vendors and their payment details read-only (a change is asked for and approved through the API or the
pages: two people); bank detail changes waiting are approved or rejected by an action, by a finance user
other than the one who asked; bills are listed with their GL lines; draft payment runs are released or
discarded by actions, and a released run's bank file is downloaded as it was written; the bank's return
files are uploaded (payment_returns.return_file_import) and read with what each entry came to.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from apps.tenancy.admin_scoping import OrganizationScopedAdmin, role_in
from apps.tenancy.permissions import FINANCE_ROLES
from ledgerx.errors import LedgerXError
from ledgerx.money import format_money

from . import payment_returns, payment_runs, vendors
from .models import Bill, BillLine, PaymentLine, PaymentRun, ReturnFile, Vendor, VendorBankChange
from .selectors import bill_status


class _FinanceActions:
    def has_pay_permission(self, request) -> bool:
        # Money leaves one organization's books: its finance staff decide, not the platform's admins.
        return role_in(request, FINANCE_ROLES)


@admin.register(Vendor)
class VendorAdmin(OrganizationScopedAdmin):
    list_display = ("legal_name", "contact_email", "payment_details", "bank_details_version", "default_department")
    search_fields = ("legal_name", "contact_email")
    readonly_fields = [field.name for field in Vendor._meta.fields]

    @admin.display(description="Payment details")
    def payment_details(self, vendor: Vendor) -> str:
        details = vendor.bank_details()
        return details.masked() if details else "— (none approved)"


@admin.register(VendorBankChange)
class VendorBankChangeAdmin(_FinanceActions, OrganizationScopedAdmin):
    list_display = ("vendor", "status", "payment_details", "requested_by", "requested_at", "decided_by")
    list_filter = ("status",)
    list_select_related = ("vendor", "requested_by", "decided_by")
    actions = ("approve", "reject")
    readonly_fields = [field.name for field in VendorBankChange._meta.fields]

    @admin.display(description="New payment details")
    def payment_details(self, change: VendorBankChange) -> str:
        return change.bank_details().masked()

    def _decide(self, request, queryset, *, approve: bool) -> None:
        for change in queryset:
            try:
                vendors.vendor_bank_change_decide(actor=request.user, change_id=change.id, approve=approve)
            except LedgerXError as error:
                self.message_user(request, f"{change.vendor}: {error.message}", messages.ERROR)
                continue
            self.message_user(request, f"{change.vendor}: {'approved' if approve else 'rejected'}.")

    @admin.action(description="Approve the selected changes (you must not have asked for them)", permissions=["pay"])
    def approve(self, request, queryset) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description="Reject the selected changes", permissions=["pay"])
    def reject(self, request, queryset) -> None:
        self._decide(request, queryset, approve=False)


class BillLineInline(admin.TabularInline):
    model = BillLine
    fields = ("position", "gl_account", "amount", "description")
    readonly_fields = fields
    can_delete = False
    extra = 0

    @admin.display(description="Amount")
    def amount(self, line: BillLine) -> str:
        return format_money(line.amount_minor, line.bill.currency)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Bill)
class BillAdmin(OrganizationScopedAdmin):
    list_display = ("invoice_number", "vendor", "amount", "bill_date", "due_date", "status", "gl_codes")
    list_select_related = ("vendor", "transaction")
    search_fields = ("invoice_number", "vendor__legal_name", "=id")
    readonly_fields = [field.name for field in Bill._meta.fields]
    inlines = (BillLineInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("lines__gl_account")

    @admin.display(description="GL lines")
    def gl_codes(self, bill: Bill) -> str:
        return ", ".join(
            f"{line.gl_account.code} {format_money(line.amount_minor, bill.currency)}" for line in bill.lines.all()
        )

    @admin.display(description="Amount", ordering="amount_minor")
    def amount(self, bill: Bill) -> str:
        return format_money(bill.amount_minor, bill.currency)

    @admin.display(description="Status")
    def status(self, bill: Bill) -> str:
        return bill_status(bill).replace("_", " ")


class PaymentLineInline(admin.TabularInline):
    model = PaymentLine
    fields = (
        "bill",
        "vendor_name",
        "amount",
        "paid_base",
        "end_to_end_id",
        "trace_number",
        "returned_at",
        "return_reason",
        "return_file",
    )
    readonly_fields = fields
    can_delete = False
    extra = 0

    @admin.display(description="Amount")
    def amount(self, line: PaymentLine) -> str:
        return format_money(line.amount_minor, line.run.currency)

    @admin.display(description="Cost in the base currency")
    def paid_base(self, line: PaymentLine) -> str:
        return format_money(line.paid_base_amount_minor, line.organization.currency)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PaymentRun)
class PaymentRunAdmin(_FinanceActions, OrganizationScopedAdmin):
    list_display = ("reference", "status", "paying_account", "total", "execution_date", "released_at", "bank_file")
    list_filter = ("status",)
    list_select_related = ("paying_account",)
    actions = ("release", "discard")
    inlines = (PaymentLineInline,)
    exclude = ("file_content",)
    readonly_fields = [field.name for field in PaymentRun._meta.fields if field.name != "file_content"]

    @admin.display(description="Total", ordering="total_minor")
    def total(self, run: PaymentRun) -> str:
        return format_money(run.total_minor, run.currency)

    @admin.display(description="Bank file")
    def bank_file(self, run: PaymentRun) -> str:
        if run.status != PaymentRun.Status.RELEASED:
            return "—"
        url = reverse("admin:payables_paymentrun_file", args=[run.id])
        return format_html('<a href="{}">{}</a> <small>sha256 {}</small>', url, run.file_name, run.file_sha256[:12])

    @admin.action(description="Release the selected draft runs (pays their bills)", permissions=["pay"])
    def release(self, request, queryset) -> None:
        for run in queryset:
            try:
                payment_runs.payment_run_release(actor=request.user, run_id=run.id)
            except LedgerXError as error:
                self.message_user(request, f"{run.reference}: {error.message}", messages.ERROR)
                continue
            self.message_user(request, f"{run.reference}: released; its bank file is ready.")

    @admin.action(description="Discard the selected draft runs", permissions=["pay"])
    def discard(self, request, queryset) -> None:
        for run in queryset:
            try:
                payment_runs.payment_run_discard(actor=request.user, run_id=run.id)
            except LedgerXError as error:
                self.message_user(request, f"{run.reference}: {error.message}", messages.ERROR)
                continue
            self.message_user(request, f"{run.reference}: discarded; its bills can be paid in another run.")

    def get_urls(self):
        download = self.admin_site.admin_view(self.file_view)
        return [path("<uuid:run_id>/file", download, name="payables_paymentrun_file"), *super().get_urls()]

    def file_view(self, request, run_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        run = get_object_or_404(self.get_queryset(request), id=run_id, status=PaymentRun.Status.RELEASED)
        response = HttpResponse(bytes(run.file_content), content_type="application/octet-stream")
        response["Content-Disposition"] = f'attachment; filename="{run.file_name}"'
        return response


class ReturnFileUploadForm(forms.Form):
    file = forms.FileField(help_text="The bank's NACHA return file, or its pain.002 payment status report.")


@admin.register(ReturnFile)
class ReturnFileAdmin(_FinanceActions, OrganizationScopedAdmin):
    list_display = ("file_name", "format", "uploaded_at", "uploaded_by", "returned", "unknown")
    list_select_related = ("uploaded_by",)
    exclude = ("content",)
    readonly_fields = [field.name for field in ReturnFile._meta.fields if field.name != "content"]
    change_list_template = "admin/payables/returnfile/change_list.html"

    @admin.display(description="Payments returned")
    def returned(self, return_file: ReturnFile) -> int:
        return sum(outcome["outcome"] == "returned" for outcome in return_file.outcomes)

    @admin.display(description="References unknown")
    def unknown(self, return_file: ReturnFile) -> int:
        return sum(outcome["outcome"] == "unknown" for outcome in return_file.outcomes)

    def get_urls(self):
        upload = self.admin_site.admin_view(self.upload_view)
        return [path("upload/", upload, name="payables_returnfile_upload"), *super().get_urls()]

    def upload_view(self, request):
        if not self.has_pay_permission(request):
            raise PermissionDenied
        form = ReturnFileUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                return_file = payment_returns.return_file_import(
                    actor=request.user, file_name=upload.name, content=upload.read()
                )
            except LedgerXError as error:
                form.add_error("file" if "file" in error.fields else None, error.message)
            else:
                unknown = [o["reference"] for o in return_file.outcomes if o["outcome"] == "unknown"]
                messages.success(request, f"{return_file.file_name}: {self.returned(return_file)} payments returned.")
                if unknown:
                    messages.warning(request, f"No payment of yours has these references: {', '.join(unknown)}.")
                return redirect("admin:payables_returnfile_change", return_file.id)
        context = {
            **self.admin_site.each_context(request),
            "title": "Upload the bank's return file",
            "subtitle": None,
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/payables/returnfile/upload.html", context)
