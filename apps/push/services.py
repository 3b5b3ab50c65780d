"""Web Push: browsers' subscriptions, and notices sent to a person's browsers.

A notice is sent through the browser's push service (the subscription's endpoint), encrypted to the
browser's keys (RFC 8291, aes128gcm) and signed with the server's VAPID key, by pywebpush. Sending is
background work: `notices_request` queues it after the decision's commit and never fails the caller.
"""

import base64
import binascii
import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from pywebpush import WebPushException, webpush

from apps.tenancy.models import User
from ledgerx.errors import Forbidden, InvalidInput

from .models import PushSubscription
from .vapid import vapid_configured, vapid_key

logger = logging.getLogger(__name__)
# The push service says the subscription is no more (RFC 8030 section 7.3): forget it.
GONE = {404, 410}


@dataclass(frozen=True)
class Notice:
    """What a person is told: a title, a line, the page it opens, and a tag (a newer notice of the same
    tag replaces the older one on the device)."""

    title: str
    body: str
    url: str
    tag: str


def _decoded_length(value: str) -> int | None:
    try:
        return len(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (binascii.Error, ValueError):
        return None


def _push_service_allowed(endpoint: str) -> bool:
    """Only the push services named in PUSH_SERVICE_HOSTS are ever called: the endpoint comes from a
    client, and the server POSTs to it."""
    parts = urlsplit(endpoint)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" and not (parts.scheme == "http" and settings.PUSH_ALLOW_PLAIN_HTTP):
        return False
    return any(host == allowed or host.endswith(f".{allowed}") for allowed in settings.PUSH_SERVICE_HOSTS)


def push_subscribe(*, user: User, endpoint: str, p256dh: str, auth: str) -> PushSubscription:
    """Keep a browser's subscription for `user`. The same endpoint again (the browser renewed its keys, or
    another person signed in on it) is updated in place: an endpoint reaches one person."""
    if user.organization_id is None:
        raise Forbidden("Notifications are for the people of an organization.")
    problems = {}
    if not _push_service_allowed(endpoint):
        problems["endpoint"] = ["Not the address of a known push service."]
    if _decoded_length(p256dh) != 65:
        problems["keys.p256dh"] = ["Must be an uncompressed P-256 public key (65 bytes), base64url."]
    if _decoded_length(auth) != 16:
        problems["keys.auth"] = ["Must be a 16-byte secret, base64url."]
    if problems:
        raise InvalidInput("The subscription is not valid.", fields=problems)
    values = {"user": user, "p256dh": p256dh, "auth": auth, "created_at": timezone.now()}
    try:
        with transaction.atomic():
            subscription, _ = PushSubscription.objects.update_or_create(
                organization_id=user.organization_id, endpoint=endpoint, defaults=values
            )
    except IntegrityError:  # the same endpoint subscribed at the same moment: the other one won; take it over
        subscription, _ = PushSubscription.objects.update_or_create(
            organization_id=user.organization_id, endpoint=endpoint, defaults=values
        )
    return subscription


def notices_send(*, user_ids: Iterable[uuid.UUID], notice: Notice) -> int:
    """Send `notice` to every browser of these people; returns how many push services accepted it. A
    subscription the push service says is gone is deleted; any other failure is logged and skipped."""
    if not vapid_configured():
        return 0
    key = vapid_key()
    data = json.dumps(asdict(notice))
    accepted = 0
    for subscription in PushSubscription.objects.filter(user_id__in=list(user_ids)):
        try:
            webpush(
                subscription_info={
                    "endpoint": subscription.endpoint,
                    "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
                },
                data=data,
                vapid_private_key=key,
                vapid_claims={"sub": settings.PUSH_VAPID_SUBJECT},
                ttl=settings.PUSH_TTL_SECONDS,
                timeout=settings.PUSH_TIMEOUT_SECONDS,
            )
        except WebPushException as error:
            status = error.response.status_code if error.response is not None else None
            if status in GONE:
                subscription.delete()
            else:
                logger.warning("push to subscription %s failed: %s", subscription.id, error)
            continue
        except OSError as error:  # the push service out of reach: this notice is lost, the page still shows it
            logger.warning("push to subscription %s failed: %s", subscription.id, error)
            continue
        accepted += 1
    return accepted


def notices_request(*, user_ids: Iterable[uuid.UUID], notice: Notice) -> None:
    """Queue `notice` for these people, after the caller's commit. It never raises: a notice is a
    courtesy, the page shows every decision anyway."""
    from .tasks import send_notice

    ids = [str(user_id) for user_id in user_ids]
    if not ids or not vapid_configured():
        return

    def queue() -> None:
        try:
            send_notice.apply_async(args=[ids, asdict(notice)], retry=False)
        except Exception as error:  # noqa: BLE001 - any broker failure only loses a courtesy
            logger.warning("could not queue a push notice: %s", error)

    transaction.on_commit(queue)
