"""Reimbursement claims and payout batches in the back office, changed only through the services.

Finance picks approved claims and pays them in a new draft batch (an action on the claims), releases or
discards drafts (actions on the batches), and downloads a released batch's CSV for the bank.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from apps.ledger.models import Transaction
from apps.spending.story_page import story_page
from apps.tenancy.admin_scoping import OrganizationScopedAdmin, role_in
from apps.tenancy.permissions import FINANCE_ROLES
from ledgerx.errors import LedgerXError
from ledgerx.money import format_money

from . import services
from .export import batch_export_lines
from .models import Claim, PayoutBatch, PayoutLine
from .selectors import ClaimStatus, claim_payout_annotations, claim_status


class _FinanceActions:
    def has_pay_permission(self, request) -> bool:
        # Money leaves one organization's books: its finance staff decide, not the platform's admins.
        return role_in(request, FINANCE_ROLES)


@admin.register(Claim)
class ClaimAdmin(_FinanceActions, OrganizationScopedAdmin):
    list_display = ("created_at", "employee", "department", "merchant", "incurred_on", "amount", "claim_status")
    list_filter = ("status", ("department", admin.RelatedOnlyFieldListFilter), "category")
    list_select_related = ("employee", "department")
    search_fields = ("=id", "merchant", "employee__email")
    ordering = ("-created_at",)
    actions = ("pay_in_new_batch",)
    exclude = ("request_fingerprint",)

    def get_queryset(self, request):
        queryset = super().get_queryset(request).filter(kind=Transaction.Kind.REIMBURSEMENT)
        return queryset.annotate(**claim_payout_annotations())

    @admin.display(description="Amount", ordering="amount_minor")
    def amount(self, claim: Claim) -> str:
        return format_money(claim.amount_minor, claim.currency)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """A claim's page is its story, as a spend's is (apps/spending/story_page.py); it is paid in a batch."""
        claim = self.get_object(request, object_id)
        if claim is None:
            raise Http404("No such claim.")
        if not self.has_view_permission(request, claim):
            raise PermissionDenied
        return story_page(self, request, claim, can_reverse=False)

    @admin.display(description="Claim status")
    def claim_status(self, claim: Claim) -> str:
        return ClaimStatus.LABELS[claim_status(claim)]

    @admin.action(description="Pay the selected approved claims in a new payout batch", permissions=["pay"])
    def pay_in_new_batch(self, request, queryset) -> None:
        try:
            batch = services.batch_create(
                actor=request.user,
                organization=request.user.organization,
                claim_ids=list(queryset.values_list("id", flat=True)),
                approved_until=None,
            )
        except LedgerXError as error:
            self.message_user(request, error.message, messages.ERROR)
            return
        self.message_user(
            request,
            f"Draft payout batch {batch.reference} of {format_money(batch.total_minor, batch.currency)}: "
            "release it under Payout batches.",
        )


class PayoutLineInline(admin.TabularInline):
    model = PayoutLine
    fields = ("claim", "employee_email", "amount")
    readonly_fields = fields
    can_delete = False
    extra = 0

    @admin.display(description="Amount")
    def amount(self, line: PayoutLine) -> str:
        return format_money(line.amount_minor, line.batch.currency)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PayoutBatch)
class PayoutBatchAdmin(_FinanceActions, OrganizationScopedAdmin):
    list_display = ("reference", "status", "total", "created_by", "created_at", "released_at", "export")
    list_filter = ("status",)
    list_select_related = ("created_by",)
    ordering = ("-created_at",)
    actions = ("release", "discard")
    inlines = (PayoutLineInline,)

    @admin.display(description="Total", ordering="total_minor")
    def total(self, batch: PayoutBatch) -> str:
        return format_money(batch.total_minor, batch.currency)

    @admin.display(description="Bank file")
    def export(self, batch: PayoutBatch) -> str:
        if batch.status != PayoutBatch.Status.RELEASED:
            return "—"
        url = reverse("admin:reimbursements_payoutbatch_export", args=[batch.id])
        return format_html('<a href="{}">CSV</a> <small>sha256 {}</small>', url, batch.export_sha256[:12])

    @admin.action(description="Release the selected draft batches (pays their claims)", permissions=["pay"])
    def release(self, request, queryset) -> None:
        for batch in queryset:
            try:
                services.batch_release(actor=request.user, batch_id=batch.id)
            except LedgerXError as error:
                self.message_user(request, f"{batch.reference}: {error.message}", messages.ERROR)
                continue
            self.message_user(request, f"{batch.reference}: released; its claims are paid.")

    @admin.action(description="Discard the selected draft batches", permissions=["pay"])
    def discard(self, request, queryset) -> None:
        for batch in queryset:
            try:
                services.batch_discard(actor=request.user, batch_id=batch.id)
            except LedgerXError as error:
                self.message_user(request, f"{batch.reference}: {error.message}", messages.ERROR)
                continue
            self.message_user(request, f"{batch.reference}: discarded; its claims can be batched again.")

    def get_urls(self):
        export = self.admin_site.admin_view(self.export_view)
        return [
            path("<uuid:batch_id>/export.csv", export, name="reimbursements_payoutbatch_export"),
            *super().get_urls(),
        ]

    def export_view(self, request, batch_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        batch = get_object_or_404(self.get_queryset(request), id=batch_id, status=PayoutBatch.Status.RELEASED)
        response = StreamingHttpResponse(batch_export_lines(batch), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{batch.reference}.csv"'
        return response
