"""Where webhook requests go: the SSRF guard and one pinned HTTP POST.

A URL is resolved, every address it resolves to must be public (unless
WEBHOOKS_ALLOW_PRIVATE_URLS), and the request then connects to the address that was checked,
so a DNS answer that changes between the check and the connect cannot reach a private host.
Redirects are never followed: a 3xx is a failed attempt.
"""

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

# The receiver's answer matters only for its status; this much of the body is read and dropped.
RESPONSE_READ_LIMIT = 4096


class UnsafeURL(ValueError):
    """A URL LedgerX will not send to, with a message a person can act on."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    latency_ms: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


# IPv6 prefixes that carry an IPv4 address in their low 32 bits: IPv4-compatible (::/96),
# IPv4-mapped (::ffff:0:0/96), IPv4-translated (::ffff:0:0:0/96) and NAT64's well-known prefix.
# A request to one of them reaches that IPv4 host, so it is judged by that host.
_LOW_32_BITS_CARRY_IPV4 = [
    ipaddress.IPv6Network("::/96"),
    ipaddress.IPv6Network("::ffff:0:0/96"),
    ipaddress.IPv6Network("::ffff:0:0:0/96"),
    ipaddress.IPv6Network("64:ff9b::/96"),
]
# NAT64's local-use prefix (RFC 8215) is a translator inside some operator's network, and where its
# IPv4 address sits depends on that operator's prefix length: never a public receiver.
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")


def _ip_refused(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address] | None:
    """The IPv4 hosts an IPv6 address reaches through a transition mechanism, or None if it is plain IPv6."""
    if ip.sixtofour is not None:  # 6to4, 2002::/16: the IPv4 address follows the prefix
        return [ip.sixtofour]
    if ip.teredo is not None:  # Teredo, 2001::/32: the server, and the client (stored inverted)
        return list(ip.teredo)
    if any(ip in network for network in _LOW_32_BITS_CARRY_IPV4):
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    return None


def address_refused(address: str) -> bool:
    """Whether LedgerX must not connect to this literal address: the one rule for every form of it.

    An address that embeds an IPv4 address (mapped, compatible, 6to4, NAT64, Teredo) is refused
    when any IPv4 address it embeds is private, loopback, link-local, multicast, reserved or
    otherwise not global; any other address by those same rules.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv4Address):
        return _ip_refused(ip)
    if ip in _NAT64_LOCAL_USE:
        return True
    embedded = _embedded_ipv4(ip)
    if embedded is None:
        return _ip_refused(ip)
    return any(_ip_refused(ipv4) for ipv4 in embedded)


def resolve(url: str) -> Target:
    """Check the URL's shape and where it resolves; raise UnsafeURL if LedgerX must not send there."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeURL("The URL is not valid.") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL("Only http and https URLs are allowed.")
    if not parts.hostname:
        raise UnsafeURL("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL("The URL must not carry credentials.")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeURL(f"The host '{parts.hostname}' does not resolve.") from None
    addresses = [info[4][0] for info in infos]
    if not settings.WEBHOOKS_ALLOW_PRIVATE_URLS and any(address_refused(a) for a in addresses):
        raise UnsafeURL(f"The host '{parts.hostname}' resolves to a private, loopback or reserved address.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=parts.scheme, host=parts.hostname, port=port, path=path, address=addresses[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, *, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST once, with short timeouts. Never raises for the network: the outcome says what happened."""
    started = time.monotonic()

    def outcome(status_code: int | None, error: str = "") -> Outcome:
        return Outcome(status_code=status_code, latency_ms=round((time.monotonic() - started) * 1000), error=error)

    try:
        target = resolve(url)
    except UnsafeURL as error:
        return outcome(None, str(error))
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, timeout=settings.WEBHOOKS_TIMEOUT_SECONDS)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(RESPONSE_READ_LIMIT)
        return outcome(response.status)
    except (OSError, http.client.HTTPException) as error:
        return outcome(None, f"{type(error).__name__}: {error}"[:500])
    finally:
        connection.close()
