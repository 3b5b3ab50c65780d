"""Budgets and the department tree in the back office. Every change goes through the services with
the acting user, so it is audited: a new department through department_create, a rename through
department_change, a standing limit through department_set_standing_limit, a head through
department_set_head, a move (its budget with it, under the settlement lock, so outside the form's
transaction) through the move action, a month's limit through budget_period_set_limit."""

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html

from apps.tenancy import selectors as tenancy_selectors
from apps.tenancy import services as tenancy_services
from apps.tenancy.admin_scoping import ActionForm, OrganizationScopedAdmin, action_form, action_form_page, role_in
from apps.tenancy.models import Department
from apps.tenancy.permissions import ADMIN_ROLES, FINANCE_ROLES
from ledgerx.errors import LedgerXError
from ledgerx.money import MoneyError, format_money, parse_amount, to_decimal_string

from . import department_moves, services
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


class DepartmentForm(forms.ModelForm):
    """A department's name, place and standing limit; what the services refuse shows beside its field."""

    monthly_limit = forms.CharField(
        label="Standing monthly limit",
        max_length=40,
        help_text="What each new month's budget opens with, in the organization's currency, as a decimal "
        "such as 50000.00. This month's budget changes under Budget periods.",
    )
    # Whoever fills the form in: their organization, for a new department.
    user = None

    class Meta:
        model = Department
        fields = ("name", "parent", "head")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        department = self.instance
        if not department._state.adding:
            self.initial["monthly_limit"] = to_decimal_string(
                department.monthly_limit_minor, department.organization.currency
            )

    def clean(self) -> dict:
        cleaned = super().clean()
        department = self.instance
        organization = self.user.organization if department._state.adding else department.organization
        try:
            cleaned["monthly_limit_minor"] = parse_amount(
                cleaned.get("monthly_limit", ""), organization.currency, allow_zero=True
            )
        except MoneyError as error:
            self.add_error("monthly_limit", str(error))
        name = (cleaned.get("name") or "").strip()
        parent = cleaned.get("parent", department.parent)
        if (
            "name" in self.fields
            and name
            and tenancy_selectors.department_name_taken(
                organization=organization, parent=parent, name=name, exclude_id=department.id
            )
        ):
            self.add_error("name", f"A department named '{name}' already exists there.")
        head = cleaned.get("head")
        if head is not None and not head.is_active:
            self.add_error("head", "A department head must be an active user.")
        if "head" in self.fields and head is None and department.head_id is not None:
            self.add_error("head", "A department keeps a head once it has one: choose who takes over.")
        return cleaned


class DepartmentMoveForm(ActionForm):
    parent = forms.ModelChoiceField(
        queryset=Department.objects.none(),
        required=False,
        empty_label="— the top of the tree —",
        help_text="Its spend and holds move with it, out of the budgets it leaves and into those it joins.",
    )


@admin.register(Department)
class DepartmentAdmin(OrganizationScopedAdmin):
    """As in the API: org admins add, rename, move and head departments; finance managers set standing limits."""

    form = DepartmentForm
    add_roles = ADMIN_ROLES
    change_roles = FINANCE_ROLES
    list_display = ("place_in_tree", "monthly_limit", "head", "organization")
    list_select_related = ("parent__parent__parent", "head", "organization")
    search_fields = ("name",)
    ordering = ("name",)
    actions = ("move",)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "parent", "monthly_limit")
        return ("organization", "name", "parent", "monthly_limit", "head", "created_at")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # A move carries budgets under the settlement lock: the move action, not this form.
        fixed = ("organization", "parent", "created_at")
        return fixed if role_in(request, ADMIN_ROLES) else (*fixed, "name", "head")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user
        return form

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        if not change:
            parent = data.get("parent")
            department = tenancy_services.department_create(
                organization=request.user.organization,
                name=data["name"],
                monthly_limit_minor=data["monthly_limit_minor"],
                parent_id=parent.id if parent else None,
                actor=request.user,
            )
            # The service made the department; the form's instance only carries its id to the log and the redirect.
            obj.pk = department.pk
            return
        department = Department.objects.get(pk=obj.pk)
        if "name" in form.changed_data:
            department = department_moves.department_change(
                department=department, name=data["name"], actor=request.user
            )
        if department.monthly_limit_minor != data["monthly_limit_minor"]:
            department = tenancy_services.department_set_standing_limit(
                department=department, limit_minor=data["monthly_limit_minor"], actor=request.user
            )
        if "head" in form.changed_data and data.get("head") is not None:
            tenancy_services.department_set_head(department=department, head=data["head"], actor=request.user)

    @admin.display(description="Department", ordering="name")
    def place_in_tree(self, department: Department) -> str:
        names = [department.name]
        above = department.parent
        while above is not None:
            names.append(above.name)
            above = above.parent
        return " / ".join(reversed(names))

    @admin.display(description="Standing monthly limit", ordering="monthly_limit_minor")
    def monthly_limit(self, department: Department) -> str:
        return format_money(department.monthly_limit_minor, department.organization.currency)

    def has_move_permission(self, request) -> bool:
        return role_in(request, ADMIN_ROLES)

    @admin.action(description="Move the selected departments under another", permissions=["move"])
    def move(self, request, queryset):
        form = action_form(DepartmentMoveForm, request)
        form.fields["parent"].queryset = Department.objects.of(request.user.organization)
        if not (form.is_bound and form.is_valid()):
            return action_form_page(
                self, request, queryset, form=form, title="Move departments", submit_label="Move them"
            )
        parent = form.cleaned_data["parent"]
        for department in queryset:
            try:
                department_moves.department_change(
                    department=department, parent_id=parent.id if parent else None, move=True, actor=request.user
                )
            except LedgerXError as error:
                self.message_user(request, f"{department.name}: {error.message}", messages.ERROR)
                continue
            self.message_user(request, f"{department.name} is now under {parent.name if parent else 'no department'}.")
        return None
