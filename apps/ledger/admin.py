"""The ledger in the back office: accounts and entries, read-only; the chart of accounts, which finance
edits through apps/ledger/chart_edits.py (finance managers and org admins their organization's,
system admins any organization's); the month-end closes, made and undone through apps/ledger/closing.py."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from apps.tenancy.admin_scoping import OrganizationScopedAdmin, role_in
from apps.tenancy.models import Role
from apps.tenancy.permissions import FINANCE_ROLES, PLATFORM_ROLES
from ledgerx.errors import LedgerXError
from ledgerx.money import format_money
from ledgerx.months import month_parse, month_text

from . import chart_edits, closing
from .models import Account, ChartOfAccounts, Entry, GLAccount, GLMapping, MonthClose

EDITOR_ROLES = (*FINANCE_ROLES, *PLATFORM_ROLES)


@admin.register(Account)
class AccountAdmin(OrganizationScopedAdmin):
    list_display = ("name", "kind", "department", "employee", "currency", "organization")
    list_filter = ("kind",)
    list_select_related = ("department", "employee", "organization")
    search_fields = ("name",)


@admin.register(Entry)
class EntryAdmin(OrganizationScopedAdmin):
    """Append-only, as in the database: no add, change or delete, for anyone."""

    list_display = ("id", "created_at", "transaction", "account", "amount", "gl_code", "cost_centre")
    list_filter = ("account__kind",)
    list_select_related = ("account", "transaction")
    search_fields = ("=transaction__id", "account__name", "=gl_code", "=cost_centre")
    ordering = ("-id",)
    fields = ("transaction", "account", "amount", "gl_code", "cost_centre", "created_at")
    readonly_fields = fields

    @admin.display(description="Amount", ordering="amount_minor")
    def amount(self, entry: Entry) -> str:
        return format_money(entry.amount_minor, entry.currency)


def _form_errors(form: forms.Form, error: LedgerXError) -> None:
    """A service's refusal on the form, each problem beside the field it names."""
    if not error.fields:
        form.add_error(None, error.message)
    for name, problems in error.fields.items():
        form.add_error(name if name in form.fields else None, problems)


class _ChartForm(forms.ModelForm):
    """A form of the chart: the organization is the edited row's, or the user's (a system admin picks one)."""

    user_organization = None

    def chart_organization(self, cleaned: dict):
        return (
            self.instance.organization
            if not self.instance._state.adding
            else cleaned.get("organization", self.user_organization)
        )


class GLAccountForm(_ChartForm):
    class Meta:
        model = GLAccount
        fields = ("organization", "code", "name", "type", "is_active")

    def clean(self) -> dict:
        cleaned = super().clean()
        organization = self.chart_organization(cleaned)
        if self.errors or organization is None:
            return cleaned
        fields = chart_edits.AccountFields(
            code=cleaned["code"], name=cleaned["name"], type=cleaned["type"], is_active=cleaned["is_active"]
        )
        account = None if self.instance._state.adding else self.instance
        try:
            fields = chart_edits.gl_account_check(organization=organization, fields=fields, account=account)
        except LedgerXError as error:
            _form_errors(self, error)
            return cleaned
        return {**cleaned, "organization": organization, "account_fields": fields}


class _ChartAdmin(OrganizationScopedAdmin):
    add_roles = EDITOR_ROLES
    change_roles = EDITOR_ROLES

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user_organization = request.user.organization
        return form

    def get_readonly_fields(self, request, obj=None):
        return ("organization",) if obj is not None else ()

    def get_exclude(self, request, obj=None):
        # Anyone but a system admin adds to their own organization's chart.
        return ("organization",) if obj is None and request.user.role != Role.SYSTEM_ADMIN else ()


@admin.register(GLAccount)
class GLAccountAdmin(_ChartAdmin):
    """Accounts are deactivated, never deleted: posted entries carry their codes."""

    form = GLAccountForm
    list_display = ("code", "name", "type", "is_active", "organization")
    list_filter = ("type", "is_active")
    list_select_related = ("organization",)
    search_fields = ("code", "name")

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        account = chart_edits.gl_account_save(
            organization=data["organization"], fields=data["account_fields"], account=obj if change else None
        )
        obj.pk = account.pk


class GLMappingForm(_ChartForm):
    class Meta:
        model = GLMapping
        fields = (
            "organization",
            "kind",
            "gl_account",
            "merchant",
            "category",
            "department",
            "ledger_account_kind",
            "cost_centre",
        )

    def clean(self) -> dict:
        cleaned = super().clean()
        organization = self.chart_organization(cleaned)
        if self.errors or organization is None:
            return cleaned
        account, department = cleaned.get("gl_account"), cleaned.get("department")
        fields = chart_edits.MappingFields(
            kind=cleaned["kind"],
            gl_account_id=account.id if account else None,
            merchant=cleaned["merchant"],
            category=cleaned["category"],
            department_id=department.id if department else None,
            ledger_account_kind=cleaned["ledger_account_kind"],
            cost_centre=cleaned["cost_centre"],
        )
        mapping = None if self.instance._state.adding else self.instance
        try:
            fields = chart_edits.gl_mapping_check(organization=organization, fields=fields, mapping=mapping)
        except LedgerXError as error:
            _form_errors(self, error)
            return cleaned
        return {**cleaned, "organization": organization, "mapping_fields": fields}


@admin.register(GLMapping)
class GLMappingAdmin(_ChartAdmin):
    """The rules that map spends to GL accounts; the precedence is apps/ledger/chart.py's."""

    form = GLMappingForm
    delete_roles = EDITOR_ROLES
    list_display = ("kind", "target", "gl_account", "cost_centre", "organization")
    list_filter = ("kind",)
    list_select_related = ("organization", "gl_account", "department")
    search_fields = ("merchant", "category", "department__name", "gl_account__code", "cost_centre")

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or chart_edits.gl_mapping_deletable(obj))

    @admin.display(description="Maps")
    def target(self, mapping: GLMapping) -> str:
        return str(mapping).removeprefix(f"{mapping.get_kind_display()} ")

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        mapping = chart_edits.gl_mapping_save(
            organization=data["organization"], fields=data["mapping_fields"], mapping=obj if change else None
        )
        obj.pk = mapping.pk

    def delete_model(self, request, obj) -> None:
        chart_edits.gl_mapping_delete(mapping=obj)

    def delete_queryset(self, request, queryset) -> None:
        for mapping in queryset:
            chart_edits.gl_mapping_delete(mapping=mapping)


class ChartOfAccountsForm(_ChartForm):
    class Meta:
        model = ChartOfAccounts
        fields = ("default_expense_account",)

    def clean(self) -> dict:
        cleaned = super().clean()
        account = cleaned.get("default_expense_account")
        if not self.errors:
            try:
                chart_edits.chart_default_check(organization=self.instance.organization, account_id=account.id)
            except LedgerXError as error:
                _form_errors(self, error)
        return cleaned


@admin.register(ChartOfAccounts)
class ChartOfAccountsAdmin(OrganizationScopedAdmin):
    """Each organization's one chart, made with its default (apps/ledger/chart.py): only its default
    expense account is changed here."""

    form = ChartOfAccountsForm
    change_roles = EDITOR_ROLES
    list_display = ("organization", "default_expense_account", "created_at")
    list_select_related = ("organization", "default_expense_account")
    fields = ("organization", "default_expense_account", "created_at")
    readonly_fields = ("organization", "created_at")

    def save_model(self, request, obj, form, change) -> None:
        chart_edits.chart_default_set(
            organization=obj.organization, account_id=form.cleaned_data["default_expense_account"].id
        )


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
                month = month_parse(form.cleaned_data["month"])
                if form.cleaned_data["act"] == "close":
                    closing.month_close(actor=request.user, month=month)
                else:
                    closing.month_reopen(actor=request.user, month=month, reason=form.cleaned_data["reason"])
            except LedgerXError as error:
                form.add_error(None, " ".join([error.message, *map(str, error.fields.get("transactions", []))]))
            else:
                done = "closed" if form.cleaned_data["act"] == "close" else "reopened"
                messages.success(request, f"{month_text(month)} is {done}.")
                return HttpResponseRedirect(reverse("admin:ledger_months"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Month-end close",
            "opts": self.model._meta,
            "form": form,
            "months": closing.month_list(organization=organization),
        }
        return TemplateResponse(request, "admin/ledger/months.html", context)
