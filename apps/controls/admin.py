"""Spend rules in the back office, added, changed and deleted through the services (each change writes
the next policy version and an audit event), and the versions themselves, read-only.

Finance managers and org admins change their organization's rules, as through the API; system
admins any organization's.
"""

from dataclasses import asdict

from django import forms
from django.contrib import admin
from django.utils.html import format_html_join

from apps.tenancy.admin_scoping import OrganizationScopedAdmin
from apps.tenancy.models import Role
from apps.tenancy.permissions import FINANCE_ROLES, PLATFORM_ROLES
from ledgerx.errors import LedgerXError
from ledgerx.money import MoneyError, parse_amount, to_decimal_string

from . import selectors, services
from .models import WEEKDAYS, SpendPolicyVersion, SpendRule
from .policy import SpendPolicy, minute_text

EDITOR_ROLES = (*FINANCE_ROLES, *PLATFORM_ROLES)


def _minute(text: str) -> int:
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2) or int(minutes) > 59:
        raise ValueError(text)
    return int(hours) * 60 + int(minutes)


class SpendRuleForm(forms.ModelForm):
    amount = forms.CharField(
        required=False, max_length=40, help_text="In the organization's currency, as a decimal such as 500.00."
    )
    role = forms.ChoiceField(
        choices=[("", "— every role —"), *[(r, Role(r).label) for r in services.LIMITED_ROLES]], required=False
    )
    start = forms.CharField(required=False, max_length=5, help_text="HH:MM, in the organization's timezone.")
    end = forms.CharField(required=False, max_length=5, help_text="HH:MM (24:00 for the end of the day).")
    weekdays = forms.MultipleChoiceField(
        choices=[(day, day.capitalize()) for day in WEEKDAYS], required=False, widget=forms.CheckboxSelectMultiple
    )
    # The organization of whoever fills the form in; a system admin picks one in the form instead.
    user_organization = None

    class Meta:
        model = SpendRule
        fields = (
            "organization",
            "name",
            "kind",
            "is_active",
            "category",
            "merchant",
            "period",
            "department",
            "employee",
        )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        rule = self.instance
        if not rule._state.adding:
            currency = rule.organization.currency
            self.initial.update(
                amount=to_decimal_string(rule.amount_minor, currency) if rule.amount_minor is not None else "",
                role=rule.role,
                start=minute_text(rule.from_minute) if rule.from_minute is not None else "",
                end=minute_text(rule.until_minute) if rule.until_minute is not None else "",
                weekdays=rule.weekdays,
            )

    def clean(self) -> dict:
        cleaned = super().clean()
        rule = self.instance
        organization = (
            rule.organization if not rule._state.adding else cleaned.get("organization", self.user_organization)
        )
        if self.errors or organization is None:
            return cleaned
        fields = {"amount_minor": None, "from_minute": None, "until_minute": None}
        try:
            if cleaned["amount"]:
                fields["amount_minor"] = parse_amount(cleaned["amount"], organization.currency)
        except MoneyError as error:
            self.add_error("amount", str(error))
        for name, attribute in (("start", "from_minute"), ("end", "until_minute")):
            try:
                fields[attribute] = _minute(cleaned[name]) if cleaned[name] else None
            except ValueError:
                self.add_error(name, "A time of day as HH:MM, from 00:00 to 24:00.")
        if self.errors:
            return cleaned
        department, employee = cleaned.get("department"), cleaned.get("employee")
        rule_fields = services.RuleFields(
            name=cleaned["name"],
            kind=rule.kind if not rule._state.adding else cleaned["kind"],
            is_active=cleaned["is_active"],
            category=cleaned["category"],
            merchant=cleaned["merchant"],
            period=cleaned["period"],
            department_id=department.id if department else None,
            role=cleaned["role"],
            employee_id=employee.id if employee else None,
            weekdays=cleaned["weekdays"],
            **fields,
        )
        try:
            services.spend_rule_check(organization=organization, fields=rule_fields)
        except LedgerXError as error:
            if not error.fields:
                self.add_error(None, error.message)
            for name, problems in error.fields.items():
                self.add_error(name if name in self.fields else None, problems)
            return cleaned
        return {**cleaned, "organization": organization, "rule_fields": rule_fields}


@admin.register(SpendRule)
class SpendRuleAdmin(OrganizationScopedAdmin):
    form = SpendRuleForm
    add_roles = EDITOR_ROLES
    change_roles = EDITOR_ROLES
    delete_roles = EDITOR_ROLES
    list_display = ("name", "kind", "in_words", "is_active", "organization")
    list_filter = ("kind", "is_active")
    list_select_related = ("organization", "department", "employee")
    search_fields = ("name", "category", "merchant")

    def get_fields(self, request, obj=None):
        organization = ("organization",) if request.user.role == Role.SYSTEM_ADMIN or obj is not None else ()
        return (
            *organization,
            "name",
            "kind",
            "is_active",
            "category",
            "merchant",
            "amount",
            "period",
            "department",
            "role",
            "employee",
            "start",
            "end",
            "weekdays",
        )

    def get_readonly_fields(self, request, obj=None):
        # A rule keeps its kind and its organization: a rule of another kind is a new rule.
        return ("organization", "kind") if obj is not None else ()

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user_organization = request.user.organization
        return form

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        if change:
            rule, _ = services.spend_rule_update(
                actor=request.user,
                rule_id=obj.pk,
                organization=obj.organization,
                changes={name: value for name, value in asdict(data["rule_fields"]).items() if name != "kind"},
            )
        else:
            rule, _ = services.spend_rule_create(
                actor=request.user, organization=data["organization"], fields=data["rule_fields"]
            )
        # The service wrote the rule; the form's instance only carries its id to the log and the redirect.
        obj.pk = rule.pk

    def delete_model(self, request, obj) -> None:
        services.spend_rule_delete(actor=request.user, rule_id=obj.pk, organization=obj.organization)

    def delete_queryset(self, request, queryset) -> None:
        for rule in queryset.select_related("organization"):
            services.spend_rule_delete(actor=request.user, rule_id=rule.pk, organization=rule.organization)

    @admin.display(description="In words")
    def in_words(self, rule: SpendRule) -> str:
        return selectors.rule_text(rule, rule.organization)


@admin.register(SpendPolicyVersion)
class SpendPolicyVersionAdmin(OrganizationScopedAdmin):
    """What each version said: a refused spend names its version, and this shows that version's rules."""

    list_display = ("number", "change", "changed_by", "created_at", "organization")
    list_select_related = ("organization", "changed_by")
    fields = ("organization", "number", "change", "changed_by", "created_at", "rules_in_words")
    readonly_fields = fields

    @admin.display(description="Rules in force")
    def rules_in_words(self, version: SpendPolicyVersion) -> str:
        organization = version.organization
        policy = SpendPolicy.from_version(
            number=version.number,
            rules=version.rules,
            currency=organization.currency,
            timezone_name=organization.timezone,
        )
        if not policy.rules:
            return "No rule."
        return format_html_join(
            "\n",
            "<p><strong>{}</strong>: {}</p>",
            (
                (rule.name, rule.text(currency=organization.currency, timezone_name=organization.timezone))
                for rule in policy.rules
            ),
        )
