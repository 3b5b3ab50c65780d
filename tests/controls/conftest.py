"""Spend rules made through the real service, as the API and the back office make them."""

from apps.controls import services
from apps.controls.models import SpendRule


def rule(tenant, kind: str, name: str | None = None, actor=None, **fields) -> SpendRule:
    """A rule of `kind` in the tenant's organization, added by its org admin unless `actor` says otherwise."""
    made, _ = services.spend_rule_create(
        actor=actor or tenant.admin,
        organization=tenant.organization,
        fields=services.RuleFields(name=name or kind.replace("_", " ").capitalize(), kind=kind, **fields),
    )
    return made
