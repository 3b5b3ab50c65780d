"""Which pages each role may open, for the views and for the navigation alike."""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from django.urls import reverse

from apps.tenancy.models import Role
from apps.tenancy.permissions import FINANCE_ROLES, PLATFORM_ROLES, STAFF_ROLES, TENANT_ROLES

EMPLOYEE_ROLES = (Role.EMPLOYEE,)


@dataclass(frozen=True)
class Page:
    url_name: str
    title: str
    roles: tuple


PAGES = (
    Page("home", "My spend", EMPLOYEE_ROLES),
    Page("finance-dashboard", "Finance dashboard", FINANCE_ROLES),
    # Any employee may head a department, so every role of a tenant may have something to sign.
    Page("approvals", "Approvals", TENANT_ROLES),
    Page("vendor-payments", "Vendor payments", FINANCE_ROLES),
    Page("system-internals", "System internals", PLATFORM_ROLES),
    Page("admin:index", "Back office", STAFF_ROLES),
)


def navigation(user, current: str) -> list[dict]:
    return [
        {"url": reverse(page.url_name), "title": page.title, "current": page.url_name == current}
        for page in PAGES
        if user.role in page.roles
    ]


def landing_url(user) -> str:
    """Where a role starts: the first page it may open."""
    return next(reverse(page.url_name) for page in PAGES if user.role in page.roles)


def role_required(*roles: str) -> Callable:
    """Anonymous visitors go to the login page; a role not in `roles` gets a 403 page that says why."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if user.role not in roles:
                return render(
                    request,
                    "web/forbidden.html",
                    {"navigation": navigation(user, ""), "page_title": "Not for your role"},
                    status=403,
                )
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
