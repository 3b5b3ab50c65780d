"""A spend's receipts page through Django's test client: the spender attaches a photo from a
camera-friendly input, sees it processing, then its thumbnail; the others who may see it read it;
nobody else finds it. The employee's page links each spend to it and lists the spends missing one."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.receipts import services
from apps.receipts.models import Receipt
from tests.controls.conftest import rule
from tests.receipts.conftest import photo_jpeg, png, stored_files, upload
from tests.spends import spend_settled, spend_submit
from tests.web.test_pages import logged_in, text_of


@pytest.fixture
def spend(tenant):
    return spend_submit(tenant.employee, "120.00", merchant="Hilton", category="travel")


def page_url(spend) -> str:
    return f"/spends/{spend.id}/receipts"


@pytest.mark.django_db
def test_the_spender_attaches_a_photo_and_sees_it_processing_then_its_thumbnail(tenant, spend):
    client = logged_in(tenant.employee)
    page = client.get(page_url(spend))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert 'type="file" id="receipt-file" name="file" accept="image/*,application/pdf" capture="environment"' in html
    assert '<label for="receipt-file">Photo or PDF of the receipt</label>' in html
    assert "No receipt yet." in html

    posted = client.post(page_url(spend), {"file": SimpleUploadedFile("IMG_1.jpg", photo_jpeg(), "image/jpeg")})
    assert posted.status_code == 302 and posted["Location"] == page_url(spend)
    receipt = Receipt.objects.get()
    assert receipt.uploaded_by == tenant.employee and receipt.transaction_id == spend.id
    assert "Processing…" in client.get(page_url(spend)).content.decode()

    services.receipt_process(receipt_id=receipt.id)
    panel = client.get(f"{page_url(spend)}/panel").content.decode()
    assert f'src="/api/v1/receipts/{receipt.id}/thumbnail"' in panel and "data-processing" not in panel
    assert client.get(f"/api/v1/receipts/{receipt.id}/thumbnail").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "name", "says"),
    [
        (b"not a photo at all", "fake.jpg", "is not a JPEG, PNG, HEIC or PDF file"),
        (b"", "empty.jpg", "The file is empty."),
    ],
)
def test_a_bad_file_is_refused_on_the_page_and_nothing_is_stored(tenant, spend, receipts_storage, data, name, says):
    response = logged_in(tenant.employee).post(page_url(spend), {"file": SimpleUploadedFile(name, data, "image/jpeg")})
    assert response.status_code == 400
    assert says in text_of(response.content.decode())
    assert 'aria-invalid="true"' in response.content.decode()
    assert not Receipt.objects.exists() and stored_files(receipts_storage) == []


@pytest.mark.django_db
def test_no_file_chosen_is_refused_on_the_page(tenant, spend):
    response = logged_in(tenant.employee).post(page_url(spend), {})
    assert response.status_code == 400 and "Choose a photo or a PDF" in response.content.decode()


@pytest.mark.django_db
def test_who_may_open_a_spends_receipts_page(tenant, other_tenant, system_admin, spend):
    receipt = upload(tenant.employee, spend, png(), name="folio.png")
    for reader in (tenant.finance, tenant.admin):
        page = logged_in(reader).get(page_url(spend))
        assert page.status_code == 200
        html = page.content.decode()
        assert "folio.png" in html and 'id="receipt-form"' not in html  # they read; the spender attaches
        posted = logged_in(reader).post(page_url(spend), {"file": SimpleUploadedFile("a.png", png(), "image/png")})
        assert posted.status_code == 403 and "Only the spender" in posted.content.decode()
    for stranger in (tenant.other_employee, other_tenant.employee, other_tenant.admin):
        assert logged_in(stranger).get(page_url(spend)).status_code == 404
        assert logged_in(stranger).get(f"{page_url(spend)}/panel").status_code == 404
        posted = logged_in(stranger).post(page_url(spend), {"file": SimpleUploadedFile("a.png", png(), "image/png")})
        assert posted.status_code == 404
    assert logged_in(system_admin).get(page_url(spend)).status_code == 403
    assert Receipt.objects.get().id == receipt.id


@pytest.mark.django_db
def test_the_employee_page_links_each_spend_to_its_receipts(tenant, spend):
    html = logged_in(tenant.employee).get("/").content.decode()
    assert f'href="{page_url(spend)}" aria-label="Add a receipt to Hilton $120">Add</a>' in html
    upload(tenant.employee, spend, png())
    assert "1 attached" in logged_in(tenant.employee).get("/panels/home").content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_employee_page_lists_their_spends_missing_a_receipt(tenant):
    rule(tenant, "receipt_required_above", amount_minor=5_000)
    missing = spend_settled(tenant.employee, "80.00", merchant="Marriott", category="travel")
    spend_settled(tenant.other_employee, "90.00", merchant="Hertz", category="travel")

    text = text_of(logged_in(tenant.employee).get("/").content.decode())
    assert "Receipts missing (1)" in text and "$80 at Marriott" in text and "Hertz" not in text
    assert "A receipt is required above $50." in text

    upload(tenant.employee, missing, png())
    assert "Receipts missing" not in text_of(logged_in(tenant.employee).get("/panels/home").content.decode())
