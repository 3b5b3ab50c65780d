"""Receipt files made here (a photo with EXIF GPS, a PNG, a HEIC, a PDF), and spends to attach them to.
Each test stores receipts in a folder of its own (tests/conftest.py, receipts_storage)."""

import io
import pathlib
import shutil

import pillow_heif
import pypdfium2
import pytest
from PIL import Image, ImageDraw, ImageFont

from apps.approvals import services as approval_services
from apps.approvals.models import ApprovalRequest
from apps.receipts import services
from apps.receipts.models import Receipt
from apps.tenancy.models import Role
from apps.tenancy.services import department_set_head
from tests.factories import UserFactory
from tests.spends import settle_all, spend_submit

GPS_LATITUDE = (48.0, 51.0, 24.0)


def stored_files(root) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()) if root.exists() else []


def photo_jpeg(size=(600, 400), *, orientation: int | None = None, colour="tan") -> bytes:
    """A JPEG as a phone writes it: EXIF with the camera, GPS coordinates and, if given, an orientation."""
    image = Image.new("RGB", size, colour)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 15"  # Model
    if orientation is not None:
        exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"  # GPSLatitudeRef
    gps[2] = GPS_LATITUDE  # GPSLatitude
    gps[3] = "E"
    gps[4] = (2.0, 21.0, 0.0)
    output = io.BytesIO()
    image.save(output, "JPEG", exif=exif, comment=b"taken at the hotel desk")
    return output.getvalue()


def png(size=(300, 500)) -> bytes:
    output = io.BytesIO()
    Image.new("RGBA", size, (200, 30, 30, 128)).save(output, "PNG")
    return output.getvalue()


def heic(size=(320, 240)) -> bytes:
    output = io.BytesIO()
    pillow_heif.from_pillow(Image.new("RGB", size, "navy")).save(output, quality=80)
    return output.getvalue()


def pdf(pages: int = 1) -> bytes:
    document = pypdfium2.PdfDocument.new()
    for _ in range(pages):
        document.new_page(595, 842)
    output = io.BytesIO()
    document.save(output)
    document.close()
    return output.getvalue()


def upload(user, spend, data: bytes, name: str = "receipt.jpg") -> Receipt:
    return services.receipt_upload(actor=user, transaction_id=spend.id, data=data, original_name=name)


@pytest.fixture
def spend(tenant):
    """A pending spend of the tenant's employee: receipts are attached from the moment it is accepted."""
    return spend_submit(tenant.employee, "120.00", merchant="Hilton", category="travel")


@pytest.fixture
def head(tenant):
    user = UserFactory(role=Role.EMPLOYEE, department=tenant.department, email="head@example.com")
    department_set_head(actor=None, department=tenant.department, head=user)
    return user


def waiting_spend(tenant, amount: str = "6000.00"):
    """A spend held for its department head's signature (settled for real: the test commits)."""
    approval_services.approval_policy_create(
        organization=tenant.organization, name="Large spend", min_amount_minor=500_000, levels=["department_head"]
    )
    held = spend_submit(tenant.employee, amount, merchant="Dell", category="equipment")
    settle_all(tenant.organization)
    return ApprovalRequest.objects.select_related("transaction").get(transaction=held)


def printed_receipt(*, merchant: str, day: str, total: str) -> bytes:
    """A till slip as a flat-bed scan: the merchant's name, the day and a total line, large and clean (JPEG)."""
    font_path = next(
        (path for path in FONT_FILES if pathlib.Path(path).is_file()),
        None,
    )
    if font_path is None or shutil.which("tesseract") is None:
        pytest.skip("Tesseract and a DejaVu font are needed to read a receipt (make tesseract installs them)")
    image = Image.new("RGB", (900, 700), "white")
    draw = ImageDraw.Draw(image)
    for line, (size, y) in zip(
        (merchant, day, "Coffee 1", f"TOTAL {total}"), ((64, 40), (40, 160), (40, 300), (48, 450)), strict=True
    ):
        draw.text((60, y), line, fill="black", font=ImageFont.truetype(font_path, size))
    output = io.BytesIO()
    image.save(output, "JPEG", quality=95)
    return output.getvalue()


FONT_FILES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
