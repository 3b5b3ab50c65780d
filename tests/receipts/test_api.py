"""/api/v1/transactions/{id}/receipts and /api/v1/receipts: attach, read, serve and remove receipts.

Each endpoint: its happy path, who may (the spender, finance, org admins; not another employee, not
another organization: 404; a role the endpoint is not for: 403), and bad input (400, nothing stored)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.receipts import services
from apps.receipts.models import Receipt
from apps.tenancy.models import Role
from tests.receipts.conftest import heic, pdf, photo_jpeg, png, stored_files, upload

SMALL_LIMIT = 200_000


def receipts_url(spend) -> str:
    return f"/api/v1/transactions/{spend.id}/receipts"


def post_file(client, spend, data: bytes, name: str = "receipt.jpg", content_type: str = "image/jpeg", **extra):
    return client.post(
        receipts_url(spend), {"file": SimpleUploadedFile(name, data, content_type), **extra}, format="multipart"
    )


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    return body["error"]


@pytest.mark.django_db
def test_the_spender_attaches_a_photo_and_it_is_stored_without_its_metadata(api, tenant, spend, receipts_storage):
    response = post_file(api(tenant.employee), spend, photo_jpeg(orientation=6), name="IMG_0042.JPG")

    assert response.status_code == 201, response.content
    body = response.json()
    receipt = Receipt.objects.get()
    assert body["id"] == str(receipt.id) and body["transaction"] == str(spend.id)
    assert body["status"] == "processing" and body["thumbnail_url"] is None
    assert body["content_type"] == "image/jpeg" and body["original_name"] == "IMG_0042.JPG"
    assert body["uploaded_by"] == tenant.employee.email
    assert body["file_url"] == f"/api/v1/receipts/{receipt.id}/file"
    assert stored_files(receipts_storage) == [f"{tenant.organization.id}/{receipt.id}/receipt.jpg"]

    served = api(tenant.employee).get(body["file_url"])
    data = b"".join(served.streaming_content)
    assert len(data) == body["size"] == receipt.size
    image = Image.open(io.BytesIO(data))
    # Re-encoded: the camera, the GPS position and the comment are gone; the orientation is applied.
    assert dict(image.getexif()) == {} and "comment" not in image.info and "exif" not in image.info
    assert image.size == (400, 600)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("make", "stored_type"),
    [(photo_jpeg, "image/jpeg"), (png, "image/png"), (heic, "image/jpeg"), (pdf, "application/pdf")],
    ids=["jpeg", "png", "heic", "pdf"],
)
def test_each_accepted_type_is_stored_and_gets_a_thumbnail_from_the_task(api, tenant, spend, make, stored_type):
    created = post_file(api(tenant.employee), spend, make(), name="scan", content_type="application/octet-stream")
    assert created.status_code == 201, created.content
    assert created.json()["content_type"] == stored_type

    services.receipt_process(receipt_id=created.json()["id"])

    detail = api(tenant.employee).get(f"/api/v1/receipts/{created.json()['id']}").json()
    assert detail["status"] == "ready"
    thumbnail = api(tenant.employee).get(detail["thumbnail_url"])
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"] == "image/jpeg"
    image = Image.open(io.BytesIO(b"".join(thumbnail.streaming_content)))
    assert image.format == "JPEG" and max(image.size) <= 320


def bomb_png() -> bytes:
    """A PNG that declares 20,000 x 20,000 pixels in a few hundred bytes."""
    output = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(output, "PNG")
    return output.getvalue()


BAD_FILES = {
    "text posing as a jpeg": (b"just some text, not a photo\n" * 10, "receipt.jpg", "image/jpeg", "not a JPEG, PNG"),
    "empty": (b"", "receipt.jpg", "image/jpeg", "empty"),
    "oversized": (b"\xff\xd8\xff" + b"0" * SMALL_LIMIT, "big.jpg", "image/jpeg", "larger than"),
    "unsupported gif": (
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00"
        b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;",
        "a.gif",
        "image/gif",
        "not a JPEG",
    ),
    "a jpeg cut short": (photo_jpeg()[:600], "cut.jpg", "image/jpeg", "damaged"),
    "a pdf in name only": (b"%PDF-1.7\nnot really a PDF", "fake.pdf", "application/pdf", "PDF cannot be read"),
    "a decompression bomb": (bomb_png(), "bomb.png", "image/png", "pixels"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_file_is_refused_by_its_content_and_nothing_is_stored(
    api, tenant, spend, settings, case, receipts_storage
):
    settings.RECEIPT_MAX_BYTES = SMALL_LIMIT
    data, name, content_type, says = BAD_FILES[case]
    error = assert_error(post_file(api(tenant.employee), spend, data, name, content_type), 400, "invalid")
    assert says in error["fields"]["file"][0]
    assert not Receipt.objects.exists()
    assert stored_files(receipts_storage) == []


@pytest.mark.django_db
def test_the_uploaded_name_is_kept_for_people_only(api, tenant, spend, receipts_storage):
    created = post_file(api(tenant.employee), spend, png(), name="../../etc/hotel\x07.png").json()
    assert created["original_name"] == "hotel.png"
    assert stored_files(receipts_storage) == [f"{tenant.organization.id}/{created['id']}/receipt.png"]


@pytest.mark.django_db
def test_no_file_an_unknown_field_or_json_is_refused(api, tenant, spend):
    client = api(tenant.employee)
    assert "file" in assert_error(client.post(receipts_url(spend), {}, format="multipart"), 400, "invalid")["fields"]
    error = assert_error(post_file(client, spend, png(), note="hotel"), 400, "invalid")
    assert error["fields"] == {"note": ["Unknown field."]}
    assert client.post(receipts_url(spend), {"file": "x"}, format="json").status_code == 415
    assert not Receipt.objects.exists()


@pytest.mark.django_db
def test_who_may_attach_a_receipt(api, tenant, other_tenant, system_admin, spend):
    assert_error(post_file(api(tenant.other_employee), spend, png()), 404, "not_found")
    assert_error(post_file(api(other_tenant.employee), spend, png()), 404, "not_found")
    assert_error(post_file(api(other_tenant.finance), spend, png()), 404, "not_found")
    # Finance sees the spend, but only its spender holds the paper.
    assert_error(post_file(api(tenant.finance), spend, png()), 403, "forbidden")
    assert_error(post_file(api(tenant.admin), spend, png()), 403, "forbidden")
    assert_error(post_file(api(system_admin), spend, png()), 403, "forbidden")
    assert not Receipt.objects.exists()


@pytest.mark.django_db
def test_the_same_file_twice_and_too_many_files_are_conflicts(api, tenant, spend, settings, receipts_storage):
    client = api(tenant.employee)
    assert post_file(client, spend, png()).status_code == 201
    assert_error(post_file(client, spend, png()), 409, "conflict")
    settings.RECEIPTS_PER_SPEND_MAX = 2
    assert post_file(client, spend, pdf()).status_code == 201
    assert_error(post_file(client, spend, photo_jpeg()), 409, "conflict")
    assert Receipt.objects.count() == 2
    assert len(stored_files(receipts_storage)) == 2


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["", "/file", "/thumbnail"])
def test_who_may_read_a_receipt(api, tenant, other_tenant, system_admin, spend, path):
    receipt = upload(tenant.employee, spend, png())
    services.receipt_process(receipt_id=receipt.id)
    url = f"/api/v1/receipts/{receipt.id}{path}"
    for reader in (tenant.employee, tenant.finance, tenant.admin):
        assert api(reader).get(url).status_code == 200, reader.role
    assert_error(api(tenant.other_employee).get(url), 404, "not_found")
    assert_error(api(other_tenant.finance).get(url), 404, "not_found")
    assert_error(api(other_tenant.admin).get(url), 404, "not_found")
    assert_error(api(system_admin).get(url), 403, "forbidden")
    assert_error(api(tenant.employee).get(f"/api/v1/receipts/{receipt.id}{path}?download=1"), 400, "invalid")


@pytest.mark.django_db
def test_who_may_list_a_spends_receipts(api, tenant, other_tenant, system_admin, spend):
    first = upload(tenant.employee, spend, png(), name="folio.png")
    second = upload(tenant.employee, spend, pdf(), name="slip.pdf")
    for reader in (tenant.employee, tenant.finance, tenant.admin):
        listed = api(reader).get(receipts_url(spend))
        assert listed.status_code == 200
        assert [item["id"] for item in listed.json()] == [str(first.id), str(second.id)]
    assert_error(api(tenant.other_employee).get(receipts_url(spend)), 404, "not_found")
    assert_error(api(other_tenant.finance).get(receipts_url(spend)), 404, "not_found")
    assert_error(api(system_admin).get(receipts_url(spend)), 403, "forbidden")


@pytest.mark.django_db
def test_a_file_is_served_privately_inline_and_never_sniffed(api, tenant, spend):
    document = pdf()
    receipt = upload(tenant.employee, spend, document, name='hotel "folio".pdf')
    response = api(tenant.finance).get(f"/api/v1/receipts/{receipt.id}/file", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline; filename=")
    assert "folio" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"].startswith("private")
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == document  # a PDF is kept as uploaded


@pytest.mark.django_db
def test_no_thumbnail_while_processing_or_when_none_could_be_made(api, tenant, spend, receipts_storage):
    receipt = upload(tenant.employee, spend, png())
    assert_error(api(tenant.employee).get(f"/api/v1/receipts/{receipt.id}/thumbnail"), 404, "not_found")
    # The stored file no longer draws (damaged in storage): the receipt is kept, without a preview.
    (receipts_storage / receipt.file_name).write_bytes(b"damaged")
    processed = services.receipt_process(receipt_id=receipt.id)
    assert processed.status == Receipt.Status.FAILED and processed.failure
    detail = api(tenant.employee).get(f"/api/v1/receipts/{receipt.id}").json()
    assert detail["status"] == "failed" and detail["thumbnail_url"] is None


@pytest.mark.django_db
def test_the_uploader_removes_a_receipt_and_its_files(
    api, tenant, other_tenant, system_admin, spend, receipts_storage, django_capture_on_commit_callbacks
):
    receipt = upload(tenant.employee, spend, png())
    services.receipt_process(receipt_id=receipt.id)
    url = f"/api/v1/receipts/{receipt.id}"
    assert_error(api(tenant.other_employee).delete(url), 404, "not_found")
    assert_error(api(other_tenant.employee).delete(url), 404, "not_found")
    assert_error(api(tenant.finance).delete(url), 403, "forbidden")
    assert_error(api(tenant.admin).delete(url), 403, "forbidden")
    assert_error(api(system_admin).delete(url), 403, "forbidden")
    assert_error(api(tenant.employee).delete(url, {"why": "x"}, format="json"), 400, "invalid")
    assert len(stored_files(receipts_storage)) == 2

    with django_capture_on_commit_callbacks(execute=True):
        response = api(tenant.employee).delete(url)
    assert response.status_code == 204
    assert not Receipt.objects.exists()
    assert stored_files(receipts_storage) == []
    assert_error(api(tenant.employee).get(url), 404, "not_found")


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.FINANCE_MANAGER, Role.ORG_ADMIN])
def test_finance_lists_no_missing_receipts_without_a_rule(api, tenant, role):
    response = api(tenant.user(role)).get("/api/v1/receipts/missing")
    assert response.status_code == 200
    assert response.json() == {"next": None, "previous": None, "results": []}


@pytest.mark.django_db
def test_the_missing_list_is_finances(api, tenant, system_admin):
    assert_error(api(tenant.employee).get("/api/v1/receipts/missing"), 403, "forbidden")
    assert_error(api(system_admin).get("/api/v1/receipts/missing"), 403, "forbidden")
    assert_error(api(tenant.finance).get("/api/v1/receipts/missing?cursor=nonsense"), 400, "invalid")
    assert_error(api(tenant.finance).get("/api/v1/receipts/missing?employee=me"), 400, "invalid")
