"""Signatures: what a receiver checks to refuse forgeries and replays."""

import re

from django.conf import settings

from apps.webhooks import signing

SECRET = "whsec_test-secret"
BODY = b'{"id":"e1","type":"transaction.posted"}'


def test_a_signature_verifies_with_the_secret_and_the_exact_body():
    header = signing.sign(SECRET, BODY)
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", header)
    assert signing.verify(SECRET, header, BODY)


def test_a_forgery_fails_another_secret_or_a_changed_body():
    header = signing.sign(SECRET, BODY)
    assert not signing.verify("whsec_other", header, BODY)
    assert not signing.verify(SECRET, header, BODY.replace(b"posted", b"rejected"))


def test_a_replay_outside_the_tolerance_fails():
    header = signing.sign(SECRET, BODY, timestamp=1_800_000_000)
    assert signing.verify(SECRET, header, BODY, tolerance_seconds=300, now=1_800_000_299)
    assert not signing.verify(SECRET, header, BODY, tolerance_seconds=300, now=1_800_000_301)


def test_the_timestamp_is_signed_so_it_cannot_be_refreshed():
    header = signing.sign(SECRET, BODY, timestamp=1_800_000_000)
    refreshed = header.replace("t=1800000000", "t=1800000600")
    assert not signing.verify(SECRET, refreshed, BODY, now=1_800_000_600)


def test_malformed_headers_fail():
    for header in ("", "garbage", "t=abc,v1=00", "v1=" + "0" * 64, "t=1800000000"):
        assert not signing.verify(SECRET, header, BODY, now=1_800_000_000)


def test_any_of_several_v1_signatures_may_match():
    good = signing.sign(SECRET, BODY, timestamp=1_800_000_000)
    header = good.replace(",v1=", ",v1=" + "0" * 64 + ",v1=")
    assert signing.verify(SECRET, header, BODY, now=1_800_000_000)


def _documented_receiver():
    contract = (settings.BASE_DIR / "docs" / "api.md").read_text()
    code = re.search(r"<!-- receiver-example[^>]*-->\s*```python\n(.*?)```", contract, re.DOTALL).group(1)
    namespace: dict = {}
    exec(code, namespace)
    return namespace["verify_ledgerx_signature"]


def test_the_documented_receiver_example_agrees_with_the_signer():
    verify_ledgerx_signature = _documented_receiver()
    header = signing.sign(SECRET, BODY)
    assert verify_ledgerx_signature(SECRET, header, BODY)
    assert not verify_ledgerx_signature("whsec_other", header, BODY)
    assert not verify_ledgerx_signature(SECRET, header, BODY + b" ")
    assert not verify_ledgerx_signature(SECRET, signing.sign(SECRET, BODY, timestamp=1_000_000_000), BODY)
