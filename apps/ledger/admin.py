from django import forms
from django.contrib import admin, messages

from apps.tenancy.admin_scoping import (
    ActionForm,
    OrganizationScopedAdmin,
    action_form,
    action_form_page,
    role_in,
)
from apps.tenancy.permissions import FINANCE_ROLES
from ledgerx.errors import LedgerXError
from ledgerx.money import format_money

from . import services
from .models import Account, Entry, Transaction


class TransactionReverseForm(ActionForm):
    reason = forms.CharField(
        max_length=1000, widget=forms.Textarea(attrs={"rows": 3}), help_text="Why; it is kept with the reversal."
    )


@admin.register(Account)
class AccountAdmin(OrganizationScopedAdmin):
    list_display = ("name", "kind", "department", "currency", "organization")
    list_filter = ("kind",)
    list_select_related = ("department", "organization")
    search_fields = ("name",)


@admin.register(Transaction)
class TransactionAdmin(OrganizationScopedAdmin):
    """Read-only: a spend changes only by settlement or by a reversal, which the action below makes."""

    list_display = ("created_at", "employee", "department", "merchant", "amount", "status")
    list_filter = ("status", "kind", ("department", admin.RelatedOnlyFieldListFilter), "category", "created_at")
    list_select_related = ("employee", "department")
    search_fields = ("=id", "merchant", "description", "category", "employee__email", "department__name")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    actions = ("reverse",)
    exclude = ("request_fingerprint",)

    @admin.display(description="Amount", ordering="amount_minor")
    def amount(self, transaction: Transaction) -> str:
        return format_money(transaction.amount_minor, transaction.currency)

    def has_reverse_permission(self, request) -> bool:
        # A reversal belongs to one organization's books: its finance staff make it, not the platform's admins.
        return role_in(request, FINANCE_ROLES)

    @admin.action(description="Reverse the selected posted spends", permissions=["reverse"])
    def reverse(self, request, queryset):
        form = action_form(TransactionReverseForm, request)
        if not (form.is_bound and form.is_valid()):
            return action_form_page(
                self, request, queryset, form=form, title="Reverse spends", submit_label="Reverse them"
            )
        request_id = form.cleaned_data["request_id"]
        for original in queryset:
            label = f"{original.merchant} {format_money(original.amount_minor, original.currency)}"
            try:
                _, replayed = services.transaction_reverse(
                    actor=request.user,
                    original_id=original.id,
                    reason=form.cleaned_data["reason"],
                    idempotency_key=f"admin:{request_id}:{original.id}",
                )
            except LedgerXError as error:
                self.message_user(request, f"{label}: {error.message}", messages.ERROR)
                continue
            if not replayed:
                self.message_user(request, f"{label}: reversed; its budget is released.")
        return None


@admin.register(Entry)
class EntryAdmin(OrganizationScopedAdmin):
    """Append-only, as in the database: no add, change or delete, for anyone."""

    list_display = ("id", "created_at", "transaction", "account", "amount")
    list_filter = ("account__kind",)
    list_select_related = ("account", "transaction")
    search_fields = ("=transaction__id", "account__name")
    ordering = ("-id",)

    @admin.display(description="Amount", ordering="amount_minor")
    def amount(self, entry: Entry) -> str:
        return format_money(entry.amount_minor, entry.currency)
