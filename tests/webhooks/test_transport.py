"""The SSRF guard and the single POST a delivery attempt makes."""

import shutil
import subprocess

import pytest

from apps.webhooks import transport
from tests.webhooks.conftest import Receiver

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


# IPv6 forms that reach an IPv4 host, each with the IPv4 address it embeds.
EMBEDDED_IPV4_REFUSED = [
    ("2002:7f00:1::", "6to4 of 127.0.0.1"),
    ("2002:7f00:1:1::1", "6to4 of 127.0.0.1, another subnet and host"),
    ("2002:a9fe:a9fe::", "6to4 of 169.254.169.254"),
    ("2002:a00:1::", "6to4 of 10.0.0.1"),
    ("2002:c0a8:10a::", "6to4 of 192.168.1.10"),
    ("64:ff9b::7f00:1", "NAT64 of 127.0.0.1"),
    ("64:ff9b::169.254.169.254", "NAT64 of 169.254.169.254"),
    ("64:ff9b::ac10:1", "NAT64 of 172.16.0.1"),
    ("64:ff9b:1::7f00:1", "local-use NAT64 of 127.0.0.1"),
    ("64:ff9b:1:ffff::5db8:d70e", "local-use NAT64: a translator inside someone's network"),
    ("2001:0:5db8:d70e:0:ffff:80ff:fffe", "Teredo, client 127.0.0.1 (stored inverted)"),
    ("2001:0:7f00:1::5db8:d70e", "Teredo, server 127.0.0.1"),
    ("2001:0:5db8:d70e:0:ffff:5601:5601", "Teredo, client 169.254.169.254 (stored inverted)"),
    ("::ffff:127.0.0.1", "IPv4-mapped 127.0.0.1"),
    ("::ffff:a9fe:a9fe", "IPv4-mapped 169.254.169.254"),
    ("::127.0.0.1", "IPv4-compatible 127.0.0.1"),
    ("::a9fe:a9fe", "IPv4-compatible 169.254.169.254"),
    ("::ffff:0:7f00:1", "IPv4-translated 127.0.0.1"),
    ("::ffff:0:a00:1", "IPv4-translated 10.0.0.1"),
]


@pytest.mark.parametrize(("address", "form"), EMBEDDED_IPV4_REFUSED)
def test_an_ipv6_address_embedding_a_private_or_local_ipv4_address_is_refused(address, form):
    assert transport.address_refused(address), form


@pytest.mark.parametrize(("address", "form"), EMBEDDED_IPV4_REFUSED)
def test_the_guard_refuses_a_url_at_an_address_embedding_a_private_or_local_ipv4_address(
    private_refused, address, form
):
    with pytest.raises(transport.UnsafeURL, match="private, loopback or reserved"):
        transport.resolve(f"http://[{address}]/hook")


@pytest.mark.parametrize(
    "address",
    [
        "93.184.215.14",
        "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
        "2002:5db8:d70e::",  # 6to4 of 93.184.215.14
        "64:ff9b::5db8:d70e",  # NAT64 of 93.184.215.14
        "::ffff:93.184.215.14",
        "2001:0:5db8:d70e:0:ffff:a247:28f1",  # Teredo: server and client 93.184.215.14
    ],
)
def test_a_public_address_in_any_form_is_allowed(address):
    assert not transport.address_refused(address)


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "169.254.169.254", "100.64.0.1", "::1", "fe80::1", "fe80::1%eth0", "fc00::1", "::"],
)
def test_plain_private_and_local_addresses_are_refused_by_the_same_function(address):
    assert transport.address_refused(address)


def test_the_deciding_function_ignores_the_development_setting(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    assert transport.address_refused("2002:7f00:1::")


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


@pytest.fixture
def tls_receiver(tmp_path):
    """An HTTPS receiver whose self-signed certificate names only `localhost`."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    server = Receiver(certfile=str(cert), keyfile=str(key))
    server.certfile = str(cert)
    yield server
    server.stop()


def test_https_verifies_the_certificate_against_the_host_name_not_the_pinned_address(tls_receiver, monkeypatch):
    by_name = f"https://localhost:{tls_receiver.port}/hooks"
    untrusted = transport.post(by_name, body=b"{}", headers={})
    assert untrusted.status_code is None and "CERTIFICATE_VERIFY_FAILED" in untrusted.error

    monkeypatch.setenv("SSL_CERT_FILE", tls_receiver.certfile)  # trust the receiver's certificate
    assert transport.post(by_name, body=b"{}", headers={}).status_code == 200
    by_address = transport.post(f"https://127.0.0.1:{tls_receiver.port}/hooks", body=b"{}", headers={})
    assert by_address.status_code is None and "CERTIFICATE_VERIFY_FAILED" in by_address.error
    assert len(tls_receiver.requests) == 1
