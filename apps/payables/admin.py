"""Vendor payments in the back office, changed only through the services.

Vendors and their payment details read-only (a change is asked for and approved through the API or the
pages: two people); bank detail changes waiting are approved or rejected by an action, by a finance user
other than the one who asked; bills are listed; draft payment runs are released or discarded by actions,
and a released run's bank file is downloaded as it was written.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from apps.tenancy.admin_scoping import OrganizationScopedAdmin, role_in
from apps.tenancy.permissions import FINANCE_ROLES
from ledgerx.errors import LedgerXError
from ledgerx.money import format_money

from . import payment_runs, vendors
from .models import Bill, PaymentLine, PaymentRun, Vendor, VendorBankChange
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


@admin.register(Bill)
class BillAdmin(OrganizationScopedAdmin):
    list_display = ("invoice_number", "vendor", "amount", "bill_date", "due_date", "status")
    list_select_related = ("vendor", "transaction")
    search_fields = ("invoice_number", "vendor__legal_name", "=id")
    readonly_fields = [field.name for field in Bill._meta.fields]

    @admin.display(description="Amount", ordering="amount_minor")
    def amount(self, bill: Bill) -> str:
        return format_money(bill.amount_minor, bill.currency)

    @admin.display(description="Status")
    def status(self, bill: Bill) -> str:
        return bill_status(bill).replace("_", " ")


class PaymentLineInline(admin.TabularInline):
    model = PaymentLine
    fields = ("bill", "vendor_name", "amount", "end_to_end_id", "returned_at", "return_reason")
    readonly_fields = fields
    can_delete = False
    extra = 0

    @admin.display(description="Amount")
    def amount(self, line: PaymentLine) -> str:
        return format_money(line.amount_minor, line.run.currency)

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
