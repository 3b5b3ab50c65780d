from django.contrib import admin

from apps.tenancy.admin_scoping import OrganizationScopedAdmin
from ledgerx.money import format_money

from .models import Account, Entry


@admin.register(Account)
class AccountAdmin(OrganizationScopedAdmin):
    list_display = ("name", "kind", "department", "employee", "currency", "organization")
    list_filter = ("kind",)
    list_select_related = ("department", "employee", "organization")
    search_fields = ("name",)


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
