"""The SSRF guard and the single POST a delivery attempt makes."""

import pytest

from apps.webhooks import transport

REFUSED_URLS = [
    "http://127.0.0.1/hook",
    "http://localhost:8080/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.10/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://100.64.0.1/hook",
    "http://0.0.0.0/hook",
    "http://224.0.0.1/hook",
    "http://240.0.0.1/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[fe80::1]/hook",
    "http://[fc00::1]/hook",
]


@pytest.fixture
def private_refused(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_private_loopback_link_local_multicast_and_reserved_addresses_are_refused(private_refused, url):
    with pytest.raises(transport.UnsafeURL, match="private, loopback or reserved"):
        transport.resolve(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://93.184.215.14/hook", "Only http and https"),
        ("file:///etc/passwd", "Only http and https"),
        ("http:///hook", "no host"),
        ("https://user:pass@93.184.215.14/hook", "credentials"),
        ("http://93.184.215.14:99999/hook", "not valid"),
        ("https://no-such-host.invalid/hook", "does not resolve"),
    ],
)
def test_malformed_or_unresolvable_urls_are_refused(private_refused, url, message):
    with pytest.raises(transport.UnsafeURL, match=message):
        transport.resolve(url)


def test_a_public_address_is_accepted_and_pinned(private_refused):
    target = transport.resolve("https://93.184.215.14:8443/hooks?source=ledgerx")
    assert target == transport.Target(
        scheme="https", host="93.184.215.14", port=8443, path="/hooks?source=ledgerx", address="93.184.215.14"
    )


def test_the_setting_allows_private_addresses_for_development(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    assert transport.resolve("http://localhost:9/hook").address in ("127.0.0.1", "::1")


def test_post_refuses_a_private_address_without_connecting(private_refused, receiver):
    outcome = transport.post(receiver.url, body=b"{}", headers={})
    assert not outcome.ok
    assert outcome.status_code is None
    assert "private, loopback or reserved" in outcome.error
    assert receiver.requests == []


def test_post_reports_the_status_and_latency(receiver):
    receiver.script = [418]
    outcome = transport.post(receiver.url, body=b'{"a":1}', headers={"Content-Type": "application/json"})
    assert (outcome.status_code, outcome.ok) == (418, False)
    assert outcome.latency_ms >= 0
    assert receiver.requests[0].body == b'{"a":1}'
    assert receiver.requests[0].headers["Host"] == receiver.url.split("/")[2]


def test_post_reports_a_connection_failure_as_an_outcome(receiver):
    url = receiver.url
    receiver.stop()
    outcome = transport.post(url, body=b"{}", headers={})
    assert outcome.status_code is None
    assert "ConnectionRefusedError" in outcome.error
