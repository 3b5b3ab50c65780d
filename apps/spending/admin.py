"""Spends, their approval requests and their fraud alerts in the back office.

All are read-only: a spend changes only by settlement or by a reversal, a request only by a
decision, an alert only by a review. The actions reverse spends through transaction_reverse,
approve or reject through approval_decide as the acting staff user, who must be the one the step
waits for, and resolve alerts through fraud_alert_resolve, exactly as on the pages and in the API.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils.html import format_html

from apps.approvals import selectors as approval_selectors
from apps.approvals.admin import steps_text
from apps.approvals.models import ApprovalDecision, ApprovalRequest, ApproverKind
from apps.fraud.models import FraudAlert
from apps.ledger.models import Transaction
from apps.tenancy.admin_scoping import (
    ActionForm,
    OrganizationScopedAdmin,
    action_form,
    action_form_page,
    role_in,
)
from apps.tenancy.permissions import FINANCE_ROLES, STAFF_ROLES
from ledgerx.errors import LedgerXError
from ledgerx.money import format_money, format_money_as_spent

from . import services
from .story import signed_amount_text
from .story_page import story_page, transaction_link


class TransactionReverseForm(ActionForm):
    reason = forms.CharField(
        max_length=1000, widget=forms.Textarea(attrs={"rows": 3}), help_text="Why; it is kept with the reversal."
    )


@admin.register(Transaction)
class TransactionAdmin(OrganizationScopedAdmin):
    """Read-only: a spend changes only by settlement or by a reversal, which the action below makes."""

    list_display = ("created_at", "spend", "employee", "department", "amount", "standing")
    list_display_links = ("spend",)
    list_filter = ("status", "kind", ("department", admin.RelatedOnlyFieldListFilter), "category", "created_at")
    list_select_related = ("employee", "department", "reversal_of", "reversed_by")
    search_fields = ("=id", "merchant", "description", "category", "employee__email", "department__name")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    actions = ("reverse",)
    exclude = ("request_fingerprint",)

    @admin.display(description="Spend", ordering="merchant")
    def spend(self, transaction: Transaction) -> str:
        return f"{transaction.merchant} · {transaction.category}"

    @admin.display(description="Amount", ordering="amount_minor")
    def amount(self, transaction: Transaction) -> str:
        """A reversal is a credit: "-$6,000", never a second charge."""
        if transaction.kind == Transaction.Kind.REVERSAL:
            return format_html('<span class="amount-credit">{}</span>', signed_amount_text(transaction))
        return format_money_as_spent(
            transaction.amount_minor,
            transaction.currency,
            transaction.original_amount_minor,
            transaction.original_currency,
        )

    @admin.display(description="Status", ordering="status")
    def standing(self, transaction: Transaction) -> str:
        """The status, and the reversal or its original linked both ways."""
        if transaction.kind == Transaction.Kind.REVERSAL:
            return format_html(
                '<span><span class="status-badge status-credit">Credit</span> reverses {}</span>',
                transaction_link(transaction.reversal_of),
            )
        badge = format_html(
            '<span class="status-badge status-{}">{}</span>', transaction.status, transaction.get_status_display()
        )
        reversal = getattr(transaction, "reversed_by", None)
        if reversal is not None:
            return format_html("<span>{} by {}</span>", badge, transaction_link(reversal))
        return badge

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """A spend's page is its story (apps/spending/story_page.py), read-only; the reversal is an action."""
        transaction = self.get_object(request, object_id)
        if transaction is None:
            raise Http404("No such transaction.")
        if not self.has_view_permission(request, transaction):
            raise PermissionDenied
        return story_page(self, request, transaction, can_reverse=self.has_reverse_permission(request))

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
            label = str(original)
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


class WaitingForFilter(admin.SimpleListFilter):
    title = "waiting for"
    parameter_name = "waiting_for"

    def lookups(self, request, model_admin):
        return ApproverKind.choices

    def queryset(self, request, queryset):
        if self.value() not in ApproverKind.values:
            return queryset
        return approval_selectors.approvals_waiting_for(queryset, kind=self.value())


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
        return steps_text(approval.levels)

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


class FraudVerdictForm(ActionForm):
    note = forms.CharField(
        max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="Kept with the alert."
    )
    reverse_spend = forms.BooleanField(
        required=False,
        label="Reverse the spend",
        help_text="A posted spend is reversed and its budget released (audited as a reversal).",
    )
    freeze_employee = forms.BooleanField(
        required=False,
        label="Freeze the employee",
        help_text="No spend of theirs is accepted until an org admin unfreezes them (audited).",
    )


@admin.register(FraudAlert)
class FraudAlertAdmin(OrganizationScopedAdmin):
    list_display = ("created_at", "rule", "spend", "score", "detail", "status", "resolution", "resolved_by")
    list_filter = ("status", "rule", "resolution")
    search_fields = ("detail", "transaction__merchant", "transaction__employee__email")
    date_hierarchy = "created_at"
    list_select_related = ("resolved_by", "transaction")
    actions = ("resolve_legitimate", "resolve_fraud")
    fields = (
        "spend",
        "rule",
        "score",
        "detail",
        "status",
        "resolution",
        "note",
        "resolved_by",
        "resolved_at",
        "created_at",
    )
    # Alerts change only through the review actions (the service), never through the form.
    readonly_fields = fields

    @admin.display(description="Spend", ordering="transaction__merchant")
    def spend(self, alert: FraudAlert) -> str:
        return transaction_link(alert.transaction)

    def has_resolve_permission(self, request) -> bool:
        # Whether a reviewer may also reverse or freeze is the service's to say (finance of the organization).
        return role_in(request, STAFF_ROLES)

    @admin.action(description="Resolve as legitimate", permissions=["resolve"])
    def resolve_legitimate(self, request, queryset) -> None:
        self._review(request, queryset, resolution=FraudAlert.Resolution.LEGITIMATE, choices={"note": ""})

    @admin.action(description="Resolve as fraud (and choose what to stop)", permissions=["resolve"])
    def resolve_fraud(self, request, queryset):
        form = action_form(FraudVerdictForm, request)
        if not (form.is_bound and form.is_valid()):
            return action_form_page(
                self, request, queryset, form=form, title="Resolve as fraud", submit_label="Resolve them"
            )
        choices = {name: form.cleaned_data[name] for name in ("note", "reverse_spend", "freeze_employee")}
        self._review(request, queryset, resolution=FraudAlert.Resolution.FRAUD, choices=choices)
        return None

    def _review(self, request, queryset, *, resolution: str, choices: dict) -> None:
        """One review per selected alert; a refusal of one is reported and the others go on."""
        for alert in queryset.select_related("transaction__employee"):
            spend = alert.transaction
            label = f"{alert.rule} on {spend.merchant} {format_money(spend.amount_minor, spend.currency)}"
            try:
                review = services.fraud_alert_resolve(
                    actor=request.user, alert_id=alert.id, resolution=resolution, **choices
                )
            except LedgerXError as error:
                self.message_user(request, f"{label}: {error.message}", messages.ERROR)
                continue
            done = [f"resolved as {resolution}"]
            if choices.get("reverse_spend"):
                done.append("the spend is reversed")
            if choices.get("freeze_employee"):
                done.append(f"{review.employee.email}'s spending is frozen")
            self.message_user(request, f"{label}: {'; '.join(done)}.")
