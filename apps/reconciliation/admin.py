"""Reconciliation in the back office: statement sources and their CSV mapping, uploading a statement, and
each import's reconciliation page (matched, unmatched on either side, suggestions), from which finance
confirms a suggestion, unmatches a match or makes a spend of an unmatched line. Every write is a service's.
"""

import uuid

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from apps.tenancy.admin_scoping import OrganizationScopedAdmin, role_in
from apps.tenancy.models import Department, User
from apps.tenancy.permissions import FINANCE_ROLES
from ledgerx.errors import LedgerXError
from ledgerx.money import format_money

from . import selectors, services
from .models import StatementImport, StatementLine, StatementSource


def _form_errors(form: forms.Form, error: LedgerXError) -> None:
    """A service's refusal on the form: its message on top, each problem beside the field it names."""
    form.add_error(None, error.message)
    for name, problems in error.fields.items():
        if name in form.fields:
            form.add_error(name, problems)


def _page(model_admin, request, template: str, title: str, **context) -> TemplateResponse:
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "subtitle": None,
        "opts": model_admin.model._meta,
        **context,
    }
    return TemplateResponse(request, f"admin/reconciliation/{template}", context)


class StatementSourceForm(forms.ModelForm):
    organization = None

    class Meta:
        model = StatementSource
        fields = (
            "name",
            "kind",
            "currency",
            "date_column",
            "amount_column",
            "debit_column",
            "credit_column",
            "description_column",
            "reference_column",
            "external_id_column",
            "date_format",
            "decimal_separator",
            "sign_convention",
            "delimiter",
            "date_window_days",
        )

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        fields = {name: value for name, value in cleaned.items() if name in self.fields}
        try:
            services.source_validate(StatementSource(**fields))
        except LedgerXError as error:
            _form_errors(self, error)
        taken = StatementSource.objects.of(self.organization).filter(name=cleaned.get("name"))
        if taken.exclude(pk=self.instance.pk).exists():
            self.add_error("name", "The organization has a statement source of that name.")
        return cleaned


class StatementUploadForm(forms.Form):
    file = forms.FileField(help_text="A CSV laid out as this source's mapping says, or an OFX/QFX file.")


class LineSpendForm(forms.Form):
    employee = forms.ModelChoiceField(queryset=User.objects.none(), help_text="Whose card spend it was.")
    department = forms.ModelChoiceField(
        queryset=Department.objects.none(), required=False, help_text="The employee's own unless chosen."
    )
    category = forms.CharField(max_length=64)
    merchant = forms.CharField(max_length=200, required=False, help_text="The line's description unless given.")


def _amount(line: StatementLine) -> str:
    return format_money(line.amount_minor, line.currency)


@admin.register(StatementSource)
class StatementSourceAdmin(OrganizationScopedAdmin):
    form = StatementSourceForm
    add_roles = FINANCE_ROLES
    change_roles = FINANCE_ROLES
    list_display = ("name", "kind", "currency", "date_window_days", "upload")
    list_filter = ("kind",)
    ordering = ("name",)

    @admin.display(description="Statement")
    def upload(self, source: StatementSource) -> str:
        url = reverse("admin:reconciliation_statementsource_import", args=[source.id])
        return format_html('<a href="{}">Import a statement</a>', url)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.organization = obj.organization if obj is not None else request.user.organization
        return form

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.organization = request.user.organization
        services.source_save(source=obj)

    def get_urls(self):
        upload = self.admin_site.admin_view(self.import_view)
        return [
            path("<uuid:source_id>/import/", upload, name="reconciliation_statementsource_import"),
            *super().get_urls(),
        ]

    def import_view(self, request, source_id):
        if not role_in(request, FINANCE_ROLES):
            raise PermissionDenied
        source = get_object_or_404(self.get_queryset(request), id=source_id)
        form = StatementUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = services.statement_import(
                    actor=request.user, source=source, file_name=upload.name, content=upload.read()
                )
            except LedgerXError as error:
                _form_errors(form, error)
            else:
                messages.success(
                    request, f"{upload.name}: {result.lines} lines imported, {result.matched} matched automatically."
                )
                return redirect("admin:reconciliation_statementimport_reconcile", result.statement_import.id)
        return _page(self, request, "import.html", f"Import a statement for {source.name}", form=form, source=source)


@admin.register(StatementImport)
class StatementImportAdmin(OrganizationScopedAdmin):
    list_display = ("file_name", "source", "first_day", "last_day", "imported_by", "imported_at", "reconcile")
    list_filter = (("source", admin.RelatedOnlyFieldListFilter),)
    list_select_related = ("source", "imported_by")
    ordering = ("-imported_at",)

    @admin.display(description="Reconciliation")
    def reconcile(self, statement_import: StatementImport) -> str:
        url = reverse("admin:reconciliation_statementimport_reconcile", args=[statement_import.id])
        return format_html('<a href="{}">Reconcile</a>', url)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<uuid:import_id>/reconcile/",
                view(self.reconcile_view),
                name="reconciliation_statementimport_reconcile",
            ),
            path("lines/<uuid:line_id>/spend/", view(self.line_spend_view), name="reconciliation_statementline_spend"),
            *super().get_urls(),
        ]

    def reconcile_view(self, request, import_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        statement_import = get_object_or_404(self.get_queryset(request).select_related("source"), id=import_id)
        if request.method == "POST":
            self._decide(request)
            return redirect(request.path)
        reconciliation = selectors.import_reconciliation(statement_import)
        matched = [(match, _amount(match.line)) for match in reconciliation.matched]
        unmatched = [
            (line, _amount(line), reconciliation.suggestions.get(line.id, []))
            for line in reconciliation.unmatched_lines
        ]
        spends = [
            (spend, format_money(spend.original_amount_minor, spend.original_currency))
            for spend in reconciliation.unmatched_spends
        ]
        return _page(
            self,
            request,
            "reconcile.html",
            f"Reconciliation of {statement_import.file_name}",
            statement_import=statement_import,
            matched=matched,
            unmatched=unmatched,
            unmatched_spends=spends,
            can_decide=role_in(request, FINANCE_ROLES),
        )

    def _decide(self, request) -> None:
        """A confirm or an unmatch posted from the reconciliation page."""
        if not role_in(request, FINANCE_ROLES):
            raise PermissionDenied
        operation = request.POST.get("operation")
        try:
            line_id = uuid.UUID(request.POST.get("line", ""))
            if operation == "confirm":
                transaction_id = uuid.UUID(request.POST.get("transaction", ""))
                services.match_confirm(actor=request.user, line_id=line_id, transaction_id=transaction_id)
                self.message_user(request, "Match confirmed.")
            elif operation == "unmatch":
                services.match_remove(actor=request.user, line_id=line_id)
                self.message_user(request, "Line unmatched.")
            else:
                self.message_user(request, f"Unknown operation {operation!r}.", messages.ERROR)
        except ValueError:
            self.message_user(request, "Choose a line (and a spend) from the page.", messages.ERROR)
        except LedgerXError as error:
            self.message_user(request, error.message, messages.ERROR)

    def line_spend_view(self, request, line_id):
        if not role_in(request, FINANCE_ROLES):
            raise PermissionDenied
        organization = request.user.organization
        line = get_object_or_404(StatementLine.objects.of(organization).select_related("statement_import"), id=line_id)
        form = LineSpendForm(request.POST or None)
        form.fields["employee"].queryset = User.objects.of(organization).filter(is_active=True).order_by("email")
        form.fields["department"].queryset = Department.objects.of(organization).order_by("name")
        form.fields["merchant"].initial = line.description[:200]
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                spend = services.line_spend_create(
                    actor=request.user,
                    line_id=line.id,
                    employee_id=data["employee"].id,
                    department_id=data["department"].id if data["department"] else None,
                    category=data["category"],
                    merchant=data["merchant"] or None,
                )
            except LedgerXError as error:
                _form_errors(form, error)
            else:
                self.message_user(request, f"{spend} created from line {line.position} and matched to it.")
                return redirect("admin:reconciliation_statementimport_reconcile", line.statement_import_id)
        title = (
            f"A spend from line {line.position}: {line.description}, {format_money(line.amount_minor, line.currency)}"
        )
        return _page(self, request, "line_spend.html", title, form=form, line=line)
