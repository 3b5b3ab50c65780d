"""Freezing a user's spending, as a fraud verdict does, and lifting it: the one writer of User.frozen_*.

A freeze stops money, nothing else: the spend workflow refuses a frozen user's new spends (403),
rejects their pending ones at settlement and their held ones at approval. Each change tells the audit
log through administration_changed (signals.py), in its transaction.
"""

from django.db import transaction
from django.utils import timezone

from ledgerx.errors import Conflict, Forbidden, InvalidInput, NotFound

from .models import User
from .permissions import ADMIN_ROLES, FINANCE_ROLES
from .signals import administration_changed


def _freeze_state(user: User) -> dict:
    return {
        "frozen_at": user.frozen_at.isoformat() if user.frozen_at else None,
        "frozen_reason": user.frozen_reason,
        "frozen_by": str(user.frozen_by_id) if user.frozen_by_id else None,
    }


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why.", fields={"reason": ["This field may not be blank."]})
    if len(reason) > 1000:
        raise InvalidInput("The reason is too long.", fields={"reason": ["At most 1000 characters."]})
    return reason


@transaction.atomic
def user_freeze(*, actor: User, user: User, reason: str) -> User:
    """Stop a user's spending, as a fraud verdict does: new spends are refused (403) and settlement rejects
    those still pending. Nothing else changes: no token or session ends, so they still sign in and read.

    Finance managers and org admins of the user's organization freeze. A frozen user stays frozen as
    first frozen (when, why, by whom), and nothing is recorded again.
    """
    if actor.organization_id is None or actor.organization_id != user.organization_id:
        raise NotFound("User not found.")
    if actor.role not in FINANCE_ROLES:
        raise Forbidden("Only finance managers and org admins freeze spending.")
    reason = _clean_reason(reason)
    user = User.objects.select_for_update().get(id=user.id)
    if user.frozen_at is not None:
        return user
    before = _freeze_state(user)
    user.frozen_at, user.frozen_reason, user.frozen_by = timezone.now(), reason, actor
    user.save(update_fields=["frozen_at", "frozen_reason", "frozen_by"])
    administration_changed.send(
        sender=User, actor=actor, action="user.frozen", target=user, before=before, after=_freeze_state(user)
    )
    return user


@transaction.atomic
def user_unfreeze(*, actor: User, user: User, reason: str) -> User:
    """Let a frozen user spend again. Org admins of the user's organization only: finance freezes on a
    fraud verdict at once, and lifting it is an account decision, like a role; a finance manager cannot
    quietly undo a freeze. Not frozen: 409.
    """
    if actor.organization_id is None or actor.organization_id != user.organization_id:
        raise NotFound("User not found.")
    if actor.role not in ADMIN_ROLES:
        raise Forbidden("Only org admins lift a freeze.")
    reason = _clean_reason(reason)
    user = User.objects.select_for_update().get(id=user.id)
    if user.frozen_at is None:
        raise Conflict(f"{user.email}'s spending is not frozen.")
    before = _freeze_state(user)
    user.frozen_at, user.frozen_reason, user.frozen_by = None, "", None
    user.save(update_fields=["frozen_at", "frozen_reason", "frozen_by"])
    administration_changed.send(
        sender=User,
        actor=actor,
        action="user.unfrozen",
        target=user,
        before=before,
        after={**_freeze_state(user), "reason": reason},
    )
    return user
