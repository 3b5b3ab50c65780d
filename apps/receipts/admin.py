"""Receipts in the back office: on each spend (an inline of spending's transaction admin, added here so
that neither app imports the other), in a list of their own, and the spends missing one.

Read-only: receipts are attached and removed by their spenders, through the API and the pages. The
previews and files are the API's authorised views, which finance and org admins may open."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from apps.ledger.models import Transaction
from apps.tenancy.admin_scoping import OrganizationScopedAdmin, role_in
from apps.tenancy.models import Role
from apps.tenancy.permissions import FINANCE_ROLES, STAFF_ROLES
from ledgerx.money import format_money

from . import selectors
from .models import ReadingStatus, Receipt, SpendMissingReceipt


def _preview(receipt: Receipt) -> str:
    """The thumbnail, linking to the file: for finance and org admins (the API serves the tenant's roles)."""
    file_url = reverse("receipt-file", args=[receipt.id])
    if not receipt.thumbnail_name:
        return format_html('<a href="{}">{}</a>', file_url, receipt.get_status_display())
    return format_html(
        '<a href="{}"><img src="{}" alt="Receipt {}" style="max-height:80px"></a>',
        file_url,
        reverse("receipt-thumbnail", args=[receipt.id]),
        receipt.original_name,
    )


def _reading(receipt: Receipt) -> str:
    """What was read, and each disagreement with the spend on a line of its own, flagged."""
    if receipt.reading_status != ReadingStatus.READ:
        return receipt.get_reading_status_display()
    read = " · ".join(
        str(part)
        for part in (
            f"{receipt.read_total} {receipt.read_currency}".strip(),
            receipt.read_date or "",
            receipt.read_merchant,
        )
        if part
    )
    flags = format_html_join(
        "", '<br><strong class="errornote">⚠ {}</strong>', ((m["message"],) for m in receipt.mismatches)
    )
    return format_html("{}{}", read or "Nothing read", flags)


class ReadingDisagrees(admin.SimpleListFilter):
    title = "reading"
    parameter_name = "reading"

    def lookups(self, request, model_admin):
        return (("disagrees", "Disagrees with its spend"), ("agrees", "Agrees"))

    def queryset(self, request, queryset):
        if self.value() == "disagrees":
            return queryset.exclude(mismatches=[])
        if self.value() == "agrees":
            return queryset.filter(reading_status=ReadingStatus.READ, mismatches=[])
        return queryset


class ReceiptInline(admin.TabularInline):
    model = Receipt
    fields = ("preview", "original_name", "content_type", "size", "status", "reading", "uploaded_by", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description="Receipt")
    def preview(self, receipt: Receipt) -> str:
        return _preview(receipt)

    @admin.display(description="Read on it")
    def reading(self, receipt: Receipt) -> str:
        return _reading(receipt)

    def has_view_permission(self, request, obj=None) -> bool:
        return role_in(request, FINANCE_ROLES)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


_transaction_admin = admin.site.get_model_admin(Transaction)
_transaction_admin.inlines = (*_transaction_admin.inlines, ReceiptInline)


@admin.register(Receipt)
class ReceiptAdmin(OrganizationScopedAdmin):
    view_roles = FINANCE_ROLES
    list_display = ("created_at", "preview", "spend", "uploaded_by", "content_type", "size", "status", "reading")
    list_filter = (ReadingDisagrees, "status", "content_type", "created_at")
    list_select_related = ("transaction", "uploaded_by")
    search_fields = ("=id", "=transaction__id", "original_name", "uploaded_by__email", "transaction__merchant")
    date_hierarchy = "created_at"
    exclude = ("file_name", "thumbnail_name")

    @admin.display(description="Receipt")
    def preview(self, receipt: Receipt) -> str:
        return _preview(receipt)

    @admin.display(description="Read on it")
    def reading(self, receipt: Receipt) -> str:
        return _reading(receipt)

    @admin.display(description="Spend")
    def spend(self, receipt: Receipt) -> str:
        spend = receipt.transaction
        return format_html(
            '<a href="{}">{} {}</a>',
            reverse("admin:ledger_transaction_change", args=[spend.id]),
            spend.merchant,
            format_money(spend.amount_minor, spend.currency),
        )


@admin.register(SpendMissingReceipt)
class SpendMissingReceiptAdmin(OrganizationScopedAdmin):
    """Posted spends above their policy's receipt amount with no receipt; the spender is reminded daily."""

    view_roles = STAFF_ROLES
    list_display = ("created_at", "employee", "department", "merchant", "amount", "policy_version")
    list_select_related = ("employee", "department")
    search_fields = ("merchant", "employee__email")
    ordering = ("created_at",)

    def get_queryset(self, request):
        if request.user.role == Role.SYSTEM_ADMIN:
            ids = [
                spend_id
                for organization_id in selectors.organizations_requiring_receipts()
                for spend_id in selectors.spends_missing_receipts(organization_id=organization_id).values_list(
                    "id", flat=True
                )
            ]
        else:
            ids = selectors.spends_missing_receipts(organization_id=request.user.organization_id).values("id")
        return SpendMissingReceipt.objects.filter(id__in=ids).select_related("employee", "department")

    @admin.display(description="Amount", ordering="amount_minor")
    def amount(self, spend: Transaction) -> str:
        return format_money(spend.amount_minor, spend.currency)
