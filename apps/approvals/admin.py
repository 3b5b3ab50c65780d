"""Approvals in the back office.

Policies are added and deleted, never edited: a new policy goes through approval_policy_create, so the
rules for a valid policy live in the service alone. Requests are read-only; the approve and reject
actions sign the waiting step through approval_decide as the acting staff user, who must be the one
that step waits for, exactly as on the pages and in the API.
"""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from apps.tenancy.admin_scoping import (
    ActionForm,
    OrganizationScopedAdmin,
    action_form,
    action_form_page,
    role_in,
)
from apps.tenancy.models import Role
from apps.tenancy.permissions import ADMIN_ROLES, FINANCE_ROLES, PLATFORM_ROLES, STAFF_ROLES
from ledgerx.errors import LedgerXError
from ledgerx.money import MoneyError, format_money, parse_amount

from . import selectors, services
from .models import MAX_LEVELS, ApprovalDecision, ApprovalPolicy, ApprovalRequest, ApproverKind

STEP_FIELDS = tuple(f"step_{number}" for number in range(1, MAX_LEVELS + 1))


def _steps_text(levels: list[str]) -> str:
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
        )
        # The service made the policy; the form's unsaved instance only carries its id to the log and the redirect.
        obj.pk = policy.pk

    def delete_model(self, request, obj) -> None:
        services.approval_policy_delete(policy=obj)

    def delete_queryset(self, request, queryset) -> None:
        for policy in queryset:
            services.approval_policy_delete(policy=policy)

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
        return _steps_text(policy.levels)


class WaitingForFilter(admin.SimpleListFilter):
    title = "waiting for"
    parameter_name = "waiting_for"

    def lookups(self, request, model_admin):
        return ApproverKind.choices

    def queryset(self, request, queryset):
        if self.value() not in ApproverKind.values:
            return queryset
        return selectors.approvals_waiting_for(queryset, kind=self.value())


class ApprovalDecisionInline(admin.TabularInline):
    """The signatures so far; they are written only by approval_decide."""

    model = ApprovalDecision
    fields = ("step", "approver", "outcome", "note", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description="Step")
    def step(self, decision: ApprovalDecision) -> int:
        return decision.level + 1

    def has_view_permission(self, request, obj=None) -> bool:
        return role_in(request, STAFF_ROLES)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ApprovalRejectForm(ActionForm):
    note = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why; the employee reads it as the reason their spend was rejected.",
    )


@admin.register(ApprovalRequest)
class ApprovalRequestAdmin(OrganizationScopedAdmin):
    list_display = (
        "created_at",
        "spend",
        "employee",
        "department",
        "amount",
        "status",
        "waiting_step",
        "expires_at",
    )
    list_filter = (
        "status",
        WaitingForFilter,
        ("transaction__department", admin.RelatedOnlyFieldListFilter),
        "created_at",
        "expires_at",
    )
    list_select_related = ("transaction__department", "transaction__employee")
    search_fields = (
        "=id",
        "=transaction__id",
        "transaction__merchant",
        "transaction__employee__email",
        "transaction__department__name",
    )
    ordering = ("-created_at",)
    fields = (
        "organization",
        "spend",
        "employee",
        "department",
        "amount",
        "status",
        "steps",
        "waiting_step",
        "policy",
        "created_at",
        "expires_at",
        "decided_at",
    )
    readonly_fields = fields
    inlines = (ApprovalDecisionInline,)
    actions = ("approve", "reject")

    @admin.display(description="Spend", ordering="transaction__merchant")
    def spend(self, approval: ApprovalRequest) -> str:
        spend = approval.transaction
        url = reverse("admin:ledger_transaction_change", args=[spend.id])
        return format_html('<a href="{}">{} · {}</a>', url, spend.merchant, spend.category)

    @admin.display(description="Employee", ordering="transaction__employee__email")
    def employee(self, approval: ApprovalRequest) -> str:
        return approval.transaction.employee.email

    @admin.display(description="Department", ordering="transaction__department__name")
    def department(self, approval: ApprovalRequest) -> str:
        return approval.transaction.department.name

    @admin.display(description="Amount", ordering="transaction__amount_minor")
    def amount(self, approval: ApprovalRequest) -> str:
        return format_money(approval.transaction.amount_minor, approval.transaction.currency)

    @admin.display(description="Waiting for")
    def waiting_step(self, approval: ApprovalRequest) -> str:
        return approval.waiting_step or "—"

    @admin.display(description="Who signs, in order")
    def steps(self, approval: ApprovalRequest) -> str:
        return _steps_text(approval.levels)

    def has_decide_permission(self, request) -> bool:
        # Approvers sign for their own organization's books; the platform's admins do not.
        return role_in(request, FINANCE_ROLES)

    @admin.action(description="Approve the selected spends (the step waiting for you)", permissions=["decide"])
    def approve(self, request, queryset) -> None:
        self._decide(request, queryset, approve=True, note="")

    @admin.action(description="Reject the selected spends", permissions=["decide"])
    def reject(self, request, queryset):
        form = action_form(ApprovalRejectForm, request)
        if not (form.is_bound and form.is_valid()):
            return action_form_page(
                self, request, queryset, form=form, title="Reject spends", submit_label="Reject them"
            )
        self._decide(request, queryset, approve=False, note=form.cleaned_data["note"])
        return None

    def _decide(self, request, queryset, *, approve: bool, note: str) -> None:
        """One decision per selected request; a refusal of one is reported and the others go on."""
        for approval in queryset.select_related("transaction__employee"):
            spend = approval.transaction
            label = f"{spend.merchant} {format_money(spend.amount_minor, spend.currency)} ({spend.employee.email})"
            try:
                decided = services.approval_decide(
                    actor=request.user, request_id=approval.id, approve=approve, note=note
                )
            except LedgerXError as error:
                self.message_user(request, f"{label}: {error.message}", messages.ERROR)
                continue
            if decided.status == ApprovalRequest.Status.APPROVED:
                outcome = "approved; the spend is posted."
            elif decided.status == ApprovalRequest.Status.REJECTED:
                outcome = "rejected; its hold on the budget is released."
            else:
                kind = ApproverKind(decided.waiting_for).label.lower()
                step = f"step {decided.current_level + 1} of {len(decided.levels)}"
                outcome = f"approved; it now waits for the {kind} ({step})."
            self.message_user(request, f"{label}: {outcome}")
