from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from apps.tenancy.admin_scoping import ActionForm, OrganizationScopedAdmin, action_form, action_form_page, role_in
from apps.tenancy.permissions import FINANCE_ROLES
from ledgerx.errors import LedgerXError
from ledgerx.money import MoneyError, format_money, parse_amount

from . import services
from .models import BudgetPeriod


class BudgetLimitForm(ActionForm):
    limit = forms.CharField(
        max_length=40,
        help_text="In the organization's currency, as a decimal such as 50000.00. It may be below "
        "what is already spent: that blocks further spend this period.",
    )


@admin.register(BudgetPeriod)
class BudgetPeriodAdmin(OrganizationScopedAdmin):
    list_display = ("department", "month_display", "spent", "held", "limit", "available", "used")
    list_filter = ("month", ("department", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("department", "department__organization")
    search_fields = ("department__name",)
    ordering = ("-month", "department__name")
    actions = ("set_limit",)
    # A period changes only through the set-limit action and settlement: its page shows it in money, read-only.
    fields = ("department", "month_display", "spent", "held", "limit", "available", "used")
    readonly_fields = fields

    def _money(self, period: BudgetPeriod, minor: int) -> str:
        return format_money(minor, period.department.organization.currency)

    @admin.display(description="Month", ordering="month")
    def month_display(self, period: BudgetPeriod) -> str:
        return f"{period.month:%Y-%m}"

    @admin.display(description="Spent", ordering="spent_minor")
    def spent(self, period: BudgetPeriod) -> str:
        return self._money(period, period.spent_minor)

    @admin.display(description="Held for approval", ordering="held_minor")
    def held(self, period: BudgetPeriod) -> str:
        return self._money(period, period.held_minor)

    @admin.display(description="Limit", ordering="limit_minor")
    def limit(self, period: BudgetPeriod) -> str:
        return self._money(period, period.limit_minor)

    @admin.display(description="Available")
    def available(self, period: BudgetPeriod) -> str:
        return self._money(period, period.available_minor)

    @admin.display(description="Used")
    def used(self, period: BudgetPeriod) -> str:
        percent = period.used_percent
        return format_html('<progress max="100" value="{}">{}%</progress> {}%', min(percent, 100), percent, percent)

    def has_set_limit_permission(self, request) -> bool:
        return role_in(request, FINANCE_ROLES)

    @admin.action(description="Set the limit of the selected budget periods", permissions=["set_limit"])
    def set_limit(self, request, queryset):
        form = action_form(BudgetLimitForm, request)
        if not (form.is_bound and form.is_valid()):
            return action_form_page(
                self, request, queryset, form=form, title="Set a budget limit", submit_label="Set limit"
            )
        for period in queryset.select_related("department__organization"):
            currency = period.department.organization.currency
            try:
                limit_minor = parse_amount(form.cleaned_data["limit"], currency, allow_zero=True)
                period, notice = services.budget_period_set_limit(
                    department=period.department, month=period.month, limit_minor=limit_minor, actor=request.user
                )
            except MoneyError as error:
                self.message_user(request, f"{period}: {error}", messages.ERROR)
                continue
            except LedgerXError as error:
                self.message_user(request, f"{period}: {error.message}", messages.ERROR)
                continue
            self.message_user(request, f"{period}: the limit is now {format_money(limit_minor, currency)}.")
            if notice:
                self.message_user(request, f"{period}: {notice}", messages.WARNING)
        return None
