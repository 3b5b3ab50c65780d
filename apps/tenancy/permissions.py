from rest_framework.permissions import BasePermission

from .models import Role

TENANT_ROLES = (Role.EMPLOYEE, Role.FINANCE_MANAGER, Role.ORG_ADMIN)
FINANCE_ROLES = (Role.FINANCE_MANAGER, Role.ORG_ADMIN)
ADMIN_ROLES = (Role.ORG_ADMIN,)
PLATFORM_ROLES = (Role.SYSTEM_ADMIN,)
# The roles that use the back office (User.is_staff).
STAFF_ROLES = FINANCE_ROLES + PLATFORM_ROLES


class RoleAllowed(BasePermission):
    """Reads `allowed_roles` from the view: a tuple, or a dict of HTTP method -> tuple."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            return False
        allowed = view.allowed_roles
        if isinstance(allowed, dict):
            allowed = allowed.get(request.method, ())
        return user.role in allowed
