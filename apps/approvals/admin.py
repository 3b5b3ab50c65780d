"""Approval policies in the back office (the requests they open are apps/spending/admin.py's).

Policies are added and deleted, never edited: a new policy goes through approval_policy_create, so the
rules for a valid policy live in the service alone.
"""

from django import forms
from django.contrib import admin

from apps.tenancy.admin_scoping import (
    OrganizationScopedAdmin,
)
from apps.tenancy.models import Role
from apps.tenancy.permissions import ADMIN_ROLES, PLATFORM_ROLES
from ledgerx.errors import LedgerXError
from ledgerx.money import MoneyError, format_money, parse_amount

from . import services
from .models import MAX_LEVELS, ApprovalPolicy, ApproverKind

STEP_FIELDS = tuple(f"step_{number}" for number in range(1, MAX_LEVELS + 1))


def steps_text(levels: list[str]) -> str:
    return " → ".join(ApproverKind(level).label for level in levels)


def _step_field(number: int) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=f"Step {number}",
        choices=[("", "— none —" if number > 1 else "— choose who signs first —"), *ApproverKind.choices],
        required=number == 1,
    )


# One select per possible step, in signing order.
_StepsForm = type(
    "_StepsForm", (forms.Form,), {name: _step_field(number) for number, name in enumerate(STEP_FIELDS, 1)}
)


class ApprovalPolicyForm(forms.ModelForm, _StepsForm):
    min_amount = forms.CharField(
        label="From amount",
        max_length=40,
        help_text="Spends of at least this much wait for approval; in the organization's currency, "
        "as a decimal such as 5000.00.",
    )
    # The organization of whoever fills the form in; a system admin picks one in the form instead.
    user_organization = None

    class Meta:
        model = ApprovalPolicy
        fields = ("organization", "name", "department", "category", "spender_step")

    # Where the service's refusals about a field belong on this form.
    SERVICE_FIELDS = {"name": "name", "min_amount": "min_amount", "levels": "step_1"}

    def clean(self) -> dict:
        cleaned = super().clean()
        steps = [cleaned.get(name) or "" for name in STEP_FIELDS]
        levels = [step for step in steps if step]
        if steps[: len(levels)] != levels:
            self.add_error(STEP_FIELDS[0], "Fill the steps in order, from step 1, without gaps.")
        organization = cleaned.get("organization", self.user_organization)
        if self.errors or organization is None:
            return cleaned
        try:
            min_amount_minor = parse_amount(cleaned["min_amount"], organization.currency)
        except MoneyError as error:
            self.add_error("min_amount", str(error))
            return cleaned
        department = cleaned.get("department")
        try:
            services.approval_policy_check(
                organization=organization,
                name=cleaned["name"],
                min_amount_minor=min_amount_minor,
                levels=levels,
                department_id=department.id if department else None,
            )
        except LedgerXError as error:
            if not error.fields:
                self.add_error(None, error.message)
            for name, problems in error.fields.items():
                self.add_error(self.SERVICE_FIELDS.get(name), problems)
            return cleaned
        return {**cleaned, "organization": organization, "min_amount_minor": min_amount_minor, "levels": levels}


@admin.register(ApprovalPolicy)
class ApprovalPolicyAdmin(OrganizationScopedAdmin):
    """Finance managers read the policies; org admins (their own organization) and system admins add
    and delete them. A change is a delete and an add: spends already waiting keep their steps."""

    form = ApprovalPolicyForm
    add_roles = (*ADMIN_ROLES, *PLATFORM_ROLES)
    delete_roles = (*ADMIN_ROLES, *PLATFORM_ROLES)
    list_display = ("name", "band", "applies_to_department", "applies_to_category", "steps", "organization")
    list_select_related = ("organization", "department")
    search_fields = ("name", "category", "department__name")
    readonly_fields = ("band", "steps", "created_at")

    def get_fields(self, request, obj=None):
        if obj is not None:
            return ("organization", "name", "band", "department", "category", "steps", "spender_step", "created_at")
        organization = ("organization",) if request.user.role == Role.SYSTEM_ADMIN else ()
        return (*organization, "name", "min_amount", "department", "category", *STEP_FIELDS, "spender_step")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user_organization = request.user.organization
        return form

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        policy = services.approval_policy_create(
            organization=data["organization"],
            name=data["name"],
            min_amount_minor=data["min_amount_minor"],
            levels=data["levels"],
            department_id=data["department"].id if data["department"] else None,
            category=data["category"],
            spender_step=data["spender_step"],
            actor=request.user,
        )
        # The service made the policy; the form's unsaved instance only carries its id to the log and the redirect.
        obj.pk = policy.pk

    def delete_model(self, request, obj) -> None:
        services.approval_policy_delete(policy=obj, actor=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for policy in queryset:
            services.approval_policy_delete(policy=policy, actor=request.user)

    @admin.display(description="From", ordering="min_amount_minor")
    def band(self, policy: ApprovalPolicy) -> str:
        return format_money(policy.min_amount_minor, policy.organization.currency)

    @admin.display(description="Department", ordering="department__name")
    def applies_to_department(self, policy: ApprovalPolicy) -> str:
        return f"{policy.department.name} and below" if policy.department else "All departments"

    @admin.display(description="Category", ordering="category")
    def applies_to_category(self, policy: ApprovalPolicy) -> str:
        return policy.category or "All categories"

    @admin.display(description="Who signs, in order")
    def steps(self, policy: ApprovalPolicy) -> str:
        return steps_text(policy.levels)
