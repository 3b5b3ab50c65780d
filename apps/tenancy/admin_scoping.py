"""The one way the Django admin is scoped and permitted.

A staff user (finance manager, org admin, system admin: User.is_staff) sees the rows of their own
organization only, through the same `.of(organization)` as the API; a system admin sees all. What
each role may do is declared per admin as role tuples, not through Django's per-user permissions.
Writes go through the apps' services, from admin actions that ask for their input on a form page.
"""

import uuid

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from .models import Organization, Role
from .permissions import STAFF_ROLES


def role_in(request, roles: tuple) -> bool:
    user = request.user
    return user.is_authenticated and user.is_active and user.role in roles


class OrganizationScopedAdmin(admin.ModelAdmin):
    view_roles: tuple = STAFF_ROLES
    change_roles: tuple = ()
    add_roles: tuple = ()
    # Nothing is deleted through the back office: money and its history stay.
    delete_roles: tuple = ()

    def scope(self, queryset, organization):
        return queryset.of(organization)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.role == Role.SYSTEM_ADMIN:
            return queryset
        return self.scope(queryset, request.user.organization)

    def get_list_filter(self, request):
        """System admins also filter by organization; for anyone else there is only one."""
        filters = tuple(super().get_list_filter(request))
        if request.user.role == Role.SYSTEM_ADMIN and any(f.name == "organization" for f in self.model._meta.fields):
            filters += (("organization", admin.RelatedOnlyFieldListFilter),)
        return filters

    def has_module_permission(self, request) -> bool:
        return role_in(request, self.view_roles)

    def has_view_permission(self, request, obj=None) -> bool:
        return role_in(request, self.view_roles + self.change_roles)

    def has_add_permission(self, request) -> bool:
        return role_in(request, self.add_roles)

    def has_change_permission(self, request, obj=None) -> bool:
        return role_in(request, self.change_roles)

    def has_delete_permission(self, request, obj=None) -> bool:
        return role_in(request, self.delete_roles)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        """Choices on any form come from the user's organization only."""
        if request.user.role != Role.SYSTEM_ADMIN:
            related = db_field.related_model
            if related is Organization:
                kwargs["queryset"] = Organization.objects.filter(id=request.user.organization_id)
            elif hasattr(related.objects, "of"):
                kwargs["queryset"] = related.objects.of(request.user.organization)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ActionForm(forms.Form):
    """The form of an admin action that needs input. `request_id` stays the same when the page is
    submitted twice, so a service called with an idempotency key built from it does its work once."""

    request_id = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)


def action_form(form_class: type[ActionForm], request) -> ActionForm:
    """Bound when the action's own page was submitted, unbound when the action was just chosen."""
    return form_class(request.POST if "apply" in request.POST else None)


def action_form_page(model_admin, request, queryset, *, form: ActionForm, title: str, submit_label: str):
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "subtitle": None,
        "opts": model_admin.model._meta,
        "form": form,
        "objects": queryset,
        "action": request.POST.get("action"),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "submit_label": submit_label,
    }
    return TemplateResponse(request, "admin/ledgerx_action_form.html", context)
