"""Back office views of organizations, users and invitations: organizations and users are read-only
here; they change through the API, whose services hold the rules (a user's role needs an
organization, ...), or through actions and forms that call those services. Departments are edited in
apps/budgets/admin.py, beside the budget a move carries with it."""

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils import timezone

from ledgerx.errors import LedgerXError, ServiceUnavailable

from . import invitations, services
from .admin_scoping import ActionForm, OrganizationScopedAdmin, action_form, action_form_page, role_in
from .models import Invitation, Organization, Role, User
from .permissions import ADMIN_ROLES, PLATFORM_ROLES, TENANT_ROLES


@admin.register(Organization)
class OrganizationAdmin(OrganizationScopedAdmin):
    list_display = ("name", "slug", "currency", "timezone", "created_at")
    search_fields = ("name", "slug")

    def scope(self, queryset, organization):
        return queryset.filter(id=organization.id)


class UserUnfreezeForm(ActionForm):
    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why they may spend again; it is kept in the audit log.",
    )


@admin.register(User)
class UserAdmin(OrganizationScopedAdmin):
    # As in the API, finance managers do not list users.
    view_roles = (*ADMIN_ROLES, *PLATFORM_ROLES)
    list_display = ("email", "role", "organization", "department", "is_active", "frozen_at", "last_login")
    list_filter = ("role", "is_active", ("frozen_at", admin.EmptyFieldListFilter))
    list_select_related = ("organization", "department")
    search_fields = ("email",)
    exclude = ("password", "groups", "user_permissions")
    actions = ("unfreeze",)

    def has_unfreeze_permission(self, request) -> bool:
        # As in the API: an org admin lifts a freeze in their own organization.
        return role_in(request, ADMIN_ROLES)

    @admin.action(description="Let the selected frozen users spend again", permissions=["unfreeze"])
    def unfreeze(self, request, queryset):
        form = action_form(UserUnfreezeForm, request)
        if not (form.is_bound and form.is_valid()):
            return action_form_page(
                self, request, queryset, form=form, title="Unfreeze spending", submit_label="Unfreeze them"
            )
        for user in queryset:
            try:
                services.user_unfreeze(actor=request.user, user=user, reason=form.cleaned_data["reason"])
            except LedgerXError as error:
                self.message_user(request, f"{user.email}: {error.message}", messages.ERROR)
                continue
            self.message_user(request, f"{user.email} may spend again.")
        return None


class InvitationForm(forms.ModelForm):
    """Who to invite; invitations.invitation_check decides whether LedgerX would send it."""

    # The organization of whoever fills the form in (an org admin invites into their own).
    user = None

    class Meta:
        model = Invitation
        fields = ("email", "role", "department")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(role, Role(role).label) for role in TENANT_ROLES]
        self.fields["department"].help_text = "Required for an employee: their budget."

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            cleaned["email"] = invitations.invitation_check(
                actor=self.user,
                organization=self.user.organization,
                email=cleaned["email"],
                role=cleaned["role"],
                department=cleaned.get("department"),
            )
        except LedgerXError as error:
            if not error.fields:
                self.add_error(None, error.message)
            for name, problems in error.fields.items():
                self.add_error(name if name in self.fields else None, problems)
        return cleaned


@admin.register(Invitation)
class InvitationAdmin(OrganizationScopedAdmin):
    """Org admins invite people into their organization: the email carries a link that works once,
    until it expires (INVITATION_TTL). Nothing here is edited; an invitation is revoked instead."""

    form = InvitationForm
    view_roles = (*ADMIN_ROLES, *PLATFORM_ROLES)
    add_roles = ADMIN_ROLES
    list_display = ("email", "role", "department", "invited_by", "created_at", "expires_at", "status")
    list_filter = ("role",)
    list_select_related = ("department", "invited_by", "organization")
    search_fields = ("email",)
    readonly_fields = ("status", "invited_by", "created_at", "expires_at", "accepted_at", "user", "revoked_at")
    actions = ("revoke",)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("email", "role", "department")
        return ("organization", "email", "role", "department", *self.readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        return ("organization", "email", "role", "department", *self.readonly_fields) if obj else ()

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user
        return form

    def changeform_view(self, request, *args, **kwargs):
        # The invitation is saved with its email or not at all: a mail server that cannot take it rolls
        # the form's transaction back, and the admin is told so on the form, to try again.
        try:
            return super().changeform_view(request, *args, **kwargs)
        except ServiceUnavailable as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        sent = invitations.invitation_send(
            actor=request.user,
            organization=request.user.organization,
            email=data["email"],
            role=data["role"],
            department=data.get("department"),
            site_url=request.build_absolute_uri("/"),
        )
        # The service made the invitation; the form's unsaved instance only carries its id to the log and the redirect.
        obj.pk = sent.invitation.pk
        self.message_user(request, f"An invitation was emailed to {sent.invitation.email}.")

    @admin.display(description="Status")
    def status(self, invitation: Invitation) -> str:
        if invitation.accepted_at is not None:
            return "Accepted"
        if invitation.revoked_at is not None:
            return "Revoked"
        if invitation.expires_at <= timezone.now():
            return "Expired"
        return "Waiting"

    def has_revoke_permission(self, request) -> bool:
        return role_in(request, (*ADMIN_ROLES, *PLATFORM_ROLES))

    @admin.action(description="Revoke the selected invitations (their links stop working)", permissions=["revoke"])
    def revoke(self, request, queryset) -> None:
        for invitation in queryset:
            try:
                invitations.invitation_revoke(actor=request.user, invitation=invitation)
            except LedgerXError as error:
                self.message_user(request, f"{invitation.email}: {error.message}", messages.ERROR)
                continue
            self.message_user(request, f"The invitation of {invitation.email} no longer works.")
