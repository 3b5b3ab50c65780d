"""The server's VAPID identity (RFC 8292): its key pair from PUSH_VAPID_PRIVATE_KEY, unset meaning no
Web Push at all (subscriptions are kept; nothing is sent)."""

import base64

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from py_vapid import Vapid02


def vapid_configured() -> bool:
    return bool(settings.PUSH_VAPID_PRIVATE_KEY)


def vapid_key() -> Vapid02:
    """The private key: its raw 32 bytes or its DER, in base64url on one line."""
    return Vapid02.from_string(settings.PUSH_VAPID_PRIVATE_KEY)


def vapid_public_key() -> str | None:
    """The applicationServerKey a browser subscribes with: the uncompressed P-256 point, base64url."""
    if not vapid_configured():
        return None
    point = vapid_key().public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()
