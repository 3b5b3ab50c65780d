from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from apps.tenancy.admin_scoping import OrganizationScopedAdmin, role_in
from apps.tenancy.permissions import FINANCE_ROLES
from ledgerx.errors import LedgerXError
from ledgerx.money import format_money

from . import closing
from .models import Account, Entry, MonthClose


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


class MonthActForm(forms.Form):
    month = forms.CharField(max_length=7, help_text="YYYY-MM, in the organization's timezone.")
    act = forms.ChoiceField(
        choices=[("close", "Close the month"), ("reopen", "Reopen the month (org admins)")], widget=forms.RadioSelect
    )
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Why, to reopen.")
    confirm = forms.BooleanField(
        label="I confirm",
        help_text="A closed month takes no more posts, reversals or budget changes until an org admin reopens it.",
    )


@admin.register(MonthClose)
class MonthCloseAdmin(OrganizationScopedAdmin):
    """The history of closes, read-only, and a page to close or reopen a month through closing.py."""

    list_display = ("month_display", "act", "acted_by", "acted_at", "reason", "entry_count")
    list_filter = ("act",)
    list_select_related = ("acted_by",)
    ordering = ("-month", "-id")
    change_list_template = "admin/ledger/monthclose_change_list.html"

    @admin.display(description="Month", ordering="month")
    def month_display(self, act: MonthClose) -> str:
        return f"{act.month:%Y-%m}"

    def get_urls(self):
        return [
            path("months/", self.admin_site.admin_view(self.months_view), name="ledger_months"),
            *super().get_urls(),
        ]

    def months_view(self, request):
        """Every month with entries or a close, and the form to close or reopen one (confirmed)."""
        if not role_in(request, FINANCE_ROLES):
            raise PermissionDenied
        organization = request.user.organization
        form = MonthActForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                month = closing.month_parse(form.cleaned_data["month"])
                if form.cleaned_data["act"] == "close":
                    closing.month_close(actor=request.user, month=month)
                else:
                    closing.month_reopen(actor=request.user, month=month, reason=form.cleaned_data["reason"])
            except LedgerXError as error:
                form.add_error(None, " ".join([error.message, *map(str, error.fields.get("transactions", []))]))
            else:
                done = "closed" if form.cleaned_data["act"] == "close" else "reopened"
                messages.success(request, f"{closing.month_text(month)} is {done}.")
                return HttpResponseRedirect(reverse("admin:ledger_months"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Month-end close",
            "opts": self.model._meta,
            "form": form,
            "months": closing.month_list(organization=organization),
        }
        return TemplateResponse(request, "admin/ledger/months.html", context)
