"""A real OpenID Connect provider for the tests: the `oidc-provider-mock` server (authlib underneath),
run as its own process on 127.0.0.1, signing RS256 ID tokens with its own key."""

import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from urllib.parse import urlencode

import requests


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OidcProvider:
    def __init__(self, port: int) -> None:
        self.issuer = f"http://127.0.0.1:{port}"

    def set_user(self, sub: str, **claims) -> None:
        requests.put(f"{self.issuer}/users/{sub}", json=claims, timeout=5).raise_for_status()

    def authorize(self, authorization_url: str, sub: str) -> str:
        """The user `sub` consents on the provider's page; the redirect back to LedgerX's callback."""
        response = requests.post(authorization_url, data={"sub": sub}, allow_redirects=False, timeout=5)
        assert response.status_code == 302, response.text
        return response.headers["Location"]

    def id_token_for(self, *, client_id: str, sub: str, nonce: str) -> str:
        """A real ID token of this provider, for another client than LedgerX: the code flow by hand."""
        query = urlencode(
            {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": "http://127.0.0.1/elsewhere",
                "scope": "openid email",
                "state": "s",
                "nonce": nonce,
            }
        )
        location = self.authorize(f"{self.issuer}/oauth2/authorize?{query}", sub)
        code = location.split("code=")[1].split("&")[0]
        token = requests.post(
            f"{self.issuer}/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": "http://127.0.0.1/elsewhere",
                "client_id": client_id,
                "client_secret": "x",
            },
            timeout=5,
        )
        token.raise_for_status()
        return token.json()["id_token"]


@contextmanager
def oidc_provider(*extra_args: str):
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port), *extra_args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    provider = OidcProvider(port)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(f"{provider.issuer}/.well-known/openid-configuration", timeout=1).raise_for_status()
                break
            except requests.RequestException:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the OpenID Connect provider did not start") from None
                time.sleep(0.1)
        yield provider
    finally:
        process.terminate()
        process.wait(timeout=10)
