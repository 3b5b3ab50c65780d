"""Fetching an identity provider's metadata or discovery document, which an org admin names by URL.

The URL is resolved and refused when any address it resolves to is private, loopback or reserved
(webhooks' one rule for addresses), unless SSO_ALLOW_PRIVATE_URLS; the request then connects to the
address that was checked, so a DNS answer that changes in between cannot reach an internal host.
Redirects are not followed and the body is read up to SSO_FETCH_MAX_BYTES.
"""

import http.client
import socket
import ssl
from urllib.parse import urlsplit

from django.conf import settings

from apps.webhooks.transport import address_refused
from ledgerx.errors import InvalidInput


def _refused(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, fields={field: [message]})


def _pinned_connection(scheme: str, host: str, port: int, address: str, timeout: float) -> http.client.HTTPConnection:
    if scheme == "https":
        connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=ssl.create_default_context())

        def connect() -> None:
            sock = socket.create_connection((address, port), timeout)
            connection.sock = connection._context.wrap_socket(sock, server_hostname=host)

    else:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)

        def connect() -> None:
            connection.sock = socket.create_connection((address, port), timeout)

    connection.connect = connect
    return connection


def fetch_document(url: str, *, field: str) -> bytes:
    """GET the document at `url`; an InvalidInput on `field` saying why it could not be had."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise _refused(field, "The URL is not valid.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _refused(field, "Only http and https URLs with a host are allowed.")
    if parts.username is not None or parts.password is not None:
        raise _refused(field, "The URL must not carry credentials.")
    try:
        addresses = [info[4][0] for info in socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)]
    except (socket.gaierror, UnicodeError):
        raise _refused(field, f"The host '{parts.hostname}' does not resolve.") from None
    if not settings.SSO_ALLOW_PRIVATE_URLS and any(address_refused(address) for address in addresses):
        raise _refused(field, f"The host '{parts.hostname}' resolves to a private, loopback or reserved address.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = _pinned_connection(
        parts.scheme, parts.hostname, port, addresses[0], settings.SSO_FETCH_TIMEOUT_SECONDS
    )
    try:
        connection.request("GET", path, headers={"Accept": "application/xml, application/json"})
        response = connection.getresponse()
        body = response.read(settings.SSO_FETCH_MAX_BYTES + 1)
    except (OSError, http.client.HTTPException) as error:
        raise _refused(field, f"The document could not be fetched: {type(error).__name__}.") from None
    finally:
        connection.close()
    if response.status != 200:
        raise _refused(field, f"The document could not be fetched: HTTP {response.status}.")
    if len(body) > settings.SSO_FETCH_MAX_BYTES:
        raise _refused(field, "The document is too large.")
    return body
