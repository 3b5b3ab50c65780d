import hashlib
import uuid
from datetime import datetime

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user

from . import token_cache
from .models import ApiToken, Department, Organization, Role, User


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def user_for_token(*, key: str) -> User | None:
    """The active user a live (unrevoked, unexpired) token belongs to, else None.

    The request path asks this once per request, so the answer is cached briefly (see token_cache):
    in this process, then in Redis for every process, then read from the database.
    """
    key_hash = token_hash(key)
    now = timezone.now()
    kept = token_cache.lookup(key_hash, now)
    if kept is not None:
        return kept
    read_generation = token_cache.generation()
    shared, held = token_cache.redis_read(key_hash)
    if shared is not None and shared.expires_at > now:
        token_cache.keep(key_hash, shared, read_generation)
        return shared.user
    token = _live_token(key_hash=key_hash, now=now)
    if token is None or not token.user.is_active:
        return None
    answer = token_cache.Answer(token.user, token.expires_at)
    token_cache.redis_write(key_hash, answer, held)
    token_cache.keep(key_hash, answer, read_generation)
    return token.user


def _live_token(*, key_hash: str, now: datetime) -> ApiToken | None:
    return (
        ApiToken.objects.select_related("user__organization", "user__department")
        .filter(key_hash=key_hash, revoked_at__isnull=True, expires_at__gt=now)
        .first()
    )


def department_lineage_ids(*, department_id: uuid.UUID) -> list[uuid.UUID]:
    """The department and every ancestor, from the department up to the root."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH RECURSIVE lineage(id, parent_id, depth) AS (
                SELECT id, parent_id, 0 FROM tenancy_department WHERE id = %s
                UNION ALL
                SELECT d.id, d.parent_id, l.depth + 1
                FROM tenancy_department d JOIN lineage l ON d.id = l.parent_id
            )
            SELECT id FROM lineage ORDER BY depth
            """,
            [department_id],
        )
        return [row[0] for row in cursor.fetchall()]


def department_subtree_ids(*, department_id: uuid.UUID) -> list[uuid.UUID]:
    """The department and every department below it."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH RECURSIVE subtree(id) AS (
                SELECT id FROM tenancy_department WHERE id = %s
                UNION ALL
                SELECT d.id FROM tenancy_department d JOIN subtree s ON d.parent_id = s.id
            )
            SELECT id FROM subtree
            """,
            [department_id],
        )
        return [row[0] for row in cursor.fetchall()]


def departments_with_spend_view(*, user: User) -> QuerySet[Department]:
    """Departments whose spend guardian lets this user see beyond their role (a department head)."""
    return get_objects_for_user(
        user, "tenancy.view_department_spend", klass=Department.objects.of(user.organization), accept_global_perms=False
    )


def department_list_visible(*, user: User) -> QuerySet[Department]:
    """Employees see their own department and its ancestors; finance and admins see them all."""
    departments = Department.objects.of(user.organization).select_related("parent")
    if user.role == Role.EMPLOYEE:
        if user.department_id is None:
            return departments.none()
        return departments.filter(id__in=department_lineage_ids(department_id=user.department_id))
    return departments


def user_list(*, organization: Organization) -> QuerySet[User]:
    return User.objects.of(organization).select_related("department")


def user_list_visible(*, user: User) -> QuerySet[User]:
    """A system admin sees the users of every organization; an org admin those of their own."""
    if user.role == Role.SYSTEM_ADMIN:
        return User.objects.select_related("department")
    return user_list(organization=user.organization)


def organization_list_visible(*, user: User) -> QuerySet[Organization]:
    if user.role == Role.SYSTEM_ADMIN:
        return Organization.objects.all()
    return Organization.objects.filter(id=user.organization_id)


def department_name_taken(
    *, organization: Organization, parent: Department | None, name: str, exclude_id: uuid.UUID | None = None
) -> bool:
    """Whether a sibling under `parent` already has `name` (department names are unique among siblings)."""
    siblings = Department.objects.of(organization).filter(parent=parent, name=name.strip())
    return siblings.exclude(id=exclude_id).exists() if exclude_id else siblings.exists()


def department_tree(*, departments: list[Department]) -> list[tuple[Department, int]]:
    """The departments depth-first, each with its depth; one whose parent is not in the list is a root."""
    present = {department.id for department in departments}
    children: dict = {}
    for department in sorted(departments, key=lambda d: d.name.lower()):
        parent_id = department.parent_id if department.parent_id in present else None
        children.setdefault(parent_id, []).append(department)
    ordered: list[tuple[Department, int]] = []

    def walk(parent_id, depth: int) -> None:
        for child in children.get(parent_id, []):
            ordered.append((child, depth))
            walk(child.id, depth + 1)

    walk(None, 0)
    return ordered


def spending_frozen_refusal(*, email: str, reason: str) -> str:
    """Why a frozen user's spend is refused: the 403 at intake and the rejection at settlement say the same."""
    return f"Spending by {email} is frozen: {reason} An org admin can lift the freeze."


def spending_frozen_refusals(*, organization_id: uuid.UUID, user_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The refusal of each of these users whose spending is frozen, by id; one query."""
    frozen = User.objects.filter(organization_id=organization_id, id__in=list(user_ids), frozen_at__isnull=False)
    return {
        user_id: spending_frozen_refusal(email=email, reason=reason)
        for user_id, email, reason in frozen.values_list("id", "email", "frozen_reason")
    }


def organization_by_slug_or_id(*, text: str) -> Organization | None:
    """The organization an operator names on a command line: by its id, or by its slug."""
    try:
        return Organization.objects.filter(id=uuid.UUID(text)).first()
    except ValueError:
        return Organization.objects.filter(slug=text).first()


def finance_user_by_email(*, organization_id: uuid.UUID, email: str) -> User | None:
    """A command's `--as`: the organization's finance manager or org admin of that email, or None."""
    return User.objects.filter(
        email=email.lower(), organization_id=organization_id, role__in=(Role.FINANCE_MANAGER, Role.ORG_ADMIN)
    ).first()
