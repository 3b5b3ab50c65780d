"""What the management commands acting for an organization share: `--organization` and `--as` resolved
the same way, with the same errors."""

from django.core.management.base import CommandError

from .models import Organization, User
from .selectors import finance_user_by_email, organization_by_slug_or_id


def command_organization(text: str) -> Organization:
    """The organization `--organization` names, by slug or id."""
    found = organization_by_slug_or_id(text=text)
    if found is None:
        raise CommandError(f"No organization {text!r} (give its slug or id).")
    return found


def command_actor(*, organization_id, email: str | None) -> User | None:
    """The finance user `--as` names in the organization; None (the platform) when `--as` is not given."""
    if not email:
        return None
    actor = finance_user_by_email(organization_id=organization_id, email=email)
    if actor is None:
        raise CommandError("--as must name a finance manager or org admin of the organization.")
    return actor
