"""A browser's side of Web Push, made here: its P-256 key pair and auth secret; a real push service on
127.0.0.1 (the webhook tests' receiver), and the server's VAPID key."""

import base64
import os
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.webhooks.conftest import Receiver


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class BrowserKeys:
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    @property
    def p256dh(self) -> str:
        return b64url(self.private_key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))

    def subscription(self, endpoint: str) -> dict:
        """As PushSubscription.toJSON() gives it."""
        return {
            "endpoint": endpoint,
            "expirationTime": None,
            "keys": {"p256dh": self.p256dh, "auth": b64url(self.auth)},
        }


def browser_keys() -> BrowserKeys:
    return BrowserKeys(private_key=ec.generate_private_key(ec.SECP256R1()), auth=os.urandom(16))


@pytest.fixture
def vapid(settings) -> ec.EllipticCurvePrivateKey:
    key = ec.generate_private_key(ec.SECP256R1())
    settings.PUSH_VAPID_PRIVATE_KEY = b64url(key.private_numbers().private_value.to_bytes(32, "big"))
    settings.PUSH_VAPID_SUBJECT = "mailto:ops@ledgerx.test"
    return key


@pytest.fixture
def push_service():
    server = Receiver()
    yield server
    server.stop()
