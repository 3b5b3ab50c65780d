"""What the SCIM management commands share: the org admin `--as` names, and ids given as text."""

import uuid

from django.core.management.base import CommandError

from apps.tenancy.models import Department, Organization, Role, User


def command_org_admin(*, organization: Organization, email: str | None) -> User | None:
    """The org admin `--as` names; None (the platform) without `--as`."""
    if not email:
        return None
    actor = User.objects.filter(
        organization=organization, email=email.strip().lower(), role=Role.ORG_ADMIN, is_active=True
    ).first()
    if actor is None:
        raise CommandError("--as must name an active org admin of the organization.")
    return actor


def uuid_or_none(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(text or "")
    except ValueError:
        return None


def command_department(*, organization: Organization, text: str) -> Department:
    """The organization's department named `text` (when one name is unique) or with that id."""
    departments = Department.objects.of(organization)
    found = list(departments.filter(name=text)[:2])
    if not found and uuid_or_none(text):
        found = list(departments.filter(id=uuid_or_none(text)))
    if len(found) != 1:
        raise CommandError(f"--department must name one department of the organization: {text!r}.")
    return found[0]
