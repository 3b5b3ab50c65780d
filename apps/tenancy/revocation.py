"""The revocation channel: how a user's sessions and API tokens end at once.

A session is signed with the user's session generation (User._get_session_auth_hash): raising it ends
every session signed before. A token is revoked in the database, and every process's cached answer for
it is forgotten (token_cache), so the next request with it answers 401.
"""

import uuid

from django.db.models import F
from django.utils import timezone

from . import token_cache
from .models import ApiToken, User


def user_sign_out_everywhere(*, user: User) -> int:
    """End every session and revoke every API token of the user, the caller's own included.

    Returns how many tokens were revoked.
    """
    User.objects.filter(id=user.id).update(session_generation=F("session_generation") + 1)
    revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    user_tokens_forget(user_id=user.id)
    return revoked


def user_tokens_forget(*, user_id: uuid.UUID) -> None:
    """Drop the cached owner of every token of this user, so their next request reads them afresh.

    Runs after every committed change to a user (see apps.py): a role taken away or an account
    deactivated counts at once, not when the cache entry expires. A user without tokens has nothing
    cached, and announcing a forgetting would make every process drop all it keeps (a login alone
    saves the user).
    """
    key_hashes = list(ApiToken.objects.filter(user_id=user_id).values_list("key_hash", flat=True))
    if key_hashes:
        token_cache.forget(key_hashes)
