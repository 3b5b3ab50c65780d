"""The body limit lets a receipt through on its upload route only, up to RECEIPT_MAX_BYTES and the
multipart framing; every other route keeps the general limit. The processing task, run directly."""

import pytest
from celery.exceptions import Retry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.client import MULTIPART_CONTENT, encode_multipart

from apps.receipts import tasks
from apps.receipts.models import Receipt
from tests.receipts.conftest import png, upload
from tests.receipts.test_api import post_file, receipts_url

GENERAL_LIMIT = 1024 * 1024
RECEIPT_LIMIT = 3 * 1024 * 1024


def padded_png(size: int) -> bytes:
    """A real PNG of exactly `size` bytes: bytes after its end are ignored by decoders, counted by limits."""
    image = png()
    return image + b"\0" * (size - len(image))


@pytest.mark.django_db
def test_a_receipt_larger_than_the_general_limit_reaches_the_upload_view(api, tenant, spend, settings):
    settings.RECEIPT_MAX_BYTES = RECEIPT_LIMIT
    response = post_file(api(tenant.employee), spend, padded_png(RECEIPT_LIMIT), name="scan.png")
    assert response.status_code == 201, response.content[:300]
    assert Receipt.objects.get().content_type == "image/png"


@pytest.mark.django_db
def test_one_byte_over_the_receipt_limit_is_a_400_and_far_over_it_a_413(api, tenant, spend, settings):
    settings.RECEIPT_MAX_BYTES = RECEIPT_LIMIT
    over = post_file(api(tenant.employee), spend, padded_png(RECEIPT_LIMIT + 1), name="scan.png")
    assert over.status_code == 400 and "larger than 3,145,728 bytes" in over.json()["error"]["fields"]["file"][0]
    far_over = post_file(api(tenant.employee), spend, padded_png(RECEIPT_LIMIT + 100_000), name="scan.png")
    assert far_over.status_code == 413 and far_over.json()["error"]["code"] == "too_large"
    assert not Receipt.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/transactions", "/api/v1/receipts/missing", "/login/"])
def test_other_routes_keep_the_general_limit_for_the_same_body(tenant, spend, path):
    body = encode_multipart("BoUnDaRy", {"file": SimpleUploadedFile("scan.png", padded_png(GENERAL_LIMIT + 1))})
    response = Client().generic("POST", path, body, content_type=MULTIPART_CONTENT.replace("BoUnDaRy", "BoUnDaRy"))
    assert response.status_code == 413


@pytest.mark.django_db
def test_a_get_of_the_upload_route_keeps_the_general_limit(api, tenant, spend):
    response = api(tenant.employee).generic("GET", receipts_url(spend), b"x" * (GENERAL_LIMIT + 1))
    assert response.status_code == 413


@pytest.mark.django_db
def test_the_task_makes_the_thumbnail_once(tenant, spend, receipts_storage):
    receipt = upload(tenant.employee, spend, png())
    assert tasks.process_receipt(str(receipt.id)) == "ready"
    thumbnail = Receipt.objects.get().thumbnail_name
    assert (receipts_storage / thumbnail).is_file()
    # Again (a redelivered message): the receipt is left as it is.
    assert tasks.process_receipt(str(receipt.id)) is None
    assert Receipt.objects.get().thumbnail_name == thumbnail
    assert sorted(path.name for path in (receipts_storage / thumbnail).parent.iterdir()) == [
        "receipt.png",
        "thumbnail.jpg",
    ]


@pytest.mark.django_db(transaction=True)  # Celery's Django fixup closes the connection after a task runs
def test_a_task_whose_retries_are_spent_leaves_the_receipt_without_a_preview(tenant, spend, receipts_storage):
    receipt = upload(tenant.employee, spend, png())
    (receipts_storage / receipt.file_name).unlink()  # storage lost the file: every attempt fails
    # A storage error is retried, the receipt still processing...
    with pytest.raises(Retry):
        tasks.process_receipt.apply(args=[str(receipt.id)], throw=True)
    assert Receipt.objects.get().status == Receipt.Status.PROCESSING
    # ...until the retries are spent.
    with pytest.raises(OSError):
        tasks.process_receipt.apply(args=[str(receipt.id)], throw=True, retries=tasks.process_receipt.max_retries)
    failed = Receipt.objects.get()
    assert failed.status == Receipt.Status.FAILED and "FileNotFoundError" in failed.failure
