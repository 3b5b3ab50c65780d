"""What a receipt file is, decided by its content: never by its name or the type the client claims.

An image (JPEG, PNG, HEIC) is opened with Pillow, its size checked before it is decoded (a
decompression bomb is refused unread), decoded whole, and re-encoded: the orientation its EXIF asks
for is applied, and nothing else of its metadata (EXIF, GPS, XMP, ICC, comments) is kept. A PDF must
start with its magic bytes and open in PDFium. The original bytes of an image are not kept.
"""

import hashlib
import io
import warnings
from dataclasses import dataclass

import pillow_heif
import pypdfium2
from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

from ledgerx.errors import InvalidInput

pillow_heif.register_heif_opener()

PDF_MAGIC = b"%PDF-"
JPEG_QUALITY = 90
THUMBNAIL_SIZE = (320, 320)
THUMBNAIL_QUALITY = 80
THUMBNAIL_CONTENT_TYPE = "image/jpeg"
# A PDF page is drawn this many pixels on its longer side to be read (about 200 dpi for A4).
READING_SIDE = 2400
# What each accepted image format is stored as: HEIC becomes JPEG, which every browser shows.
STORED_AS = {
    "JPEG": ("JPEG", "image/jpeg", "jpg"),
    "PNG": ("PNG", "image/png", "png"),
    "HEIF": ("JPEG", "image/jpeg", "jpg"),
}
ACCEPTED = "JPEG, PNG, HEIC or PDF"


@dataclass(frozen=True)
class CheckedFile:
    """A receipt file fit to store: the bytes to keep, what they are, and their digest."""

    data: bytes
    content_type: str
    extension: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _refused(message: str) -> InvalidInput:
    return InvalidInput(message, fields={"file": [message]})


def receipt_file_check(data: bytes) -> CheckedFile:
    """The file to store for these uploaded bytes, or a 400 naming what is wrong with them."""
    if not data:
        raise _refused("The file is empty.")
    if len(data) > settings.RECEIPT_MAX_BYTES:
        raise _refused(f"The file is larger than {settings.RECEIPT_MAX_BYTES:,} bytes.")
    if data.startswith(PDF_MAGIC):
        return _pdf_checked(data)
    return _image_reencoded(data)


def _pdf_checked(data: bytes) -> CheckedFile:
    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError:
        raise _refused("The PDF cannot be read (damaged, or protected by a password).") from None
    try:
        if len(document) == 0:
            raise _refused("The PDF has no page.")
    finally:
        document.close()
    return CheckedFile(data=data, content_type="application/pdf", extension="pdf")


def _opened(data: bytes) -> Image.Image:
    """The image, checked for size before any pixel is decoded, then decoded whole."""
    with warnings.catch_warnings():
        # Pillow only warns between MAX_IMAGE_PIXELS and twice that; the check below decides instead.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=list(STORED_AS))
            width, height = image.size
            if width * height > settings.RECEIPT_MAX_PIXELS:
                raise _refused(f"The image has more than {settings.RECEIPT_MAX_PIXELS:,} pixels.")
            image.load()
        except Image.DecompressionBombError:
            raise _refused(f"The image has more than {settings.RECEIPT_MAX_PIXELS:,} pixels.") from None
        except UnidentifiedImageError:
            raise _refused(f"The file is not a {ACCEPTED} file.") from None
        except (OSError, SyntaxError, ValueError):
            raise _refused("The image is damaged or cut short.") from None
    return image


def _image_reencoded(data: bytes) -> CheckedFile:
    image = _opened(data)
    save_as, content_type, extension = STORED_AS[image.format]
    upright = ImageOps.exif_transpose(image)
    pixels = _plain(upright, keep_alpha=save_as == "PNG")
    # A new image from the pixels alone carries no info dict, so no metadata can travel to the output.
    clean = Image.frombytes(pixels.mode, pixels.size, pixels.tobytes())
    output = io.BytesIO()
    if save_as == "JPEG":
        clean.save(output, "JPEG", quality=JPEG_QUALITY, optimize=True)
    else:
        clean.save(output, "PNG", optimize=True)
    return CheckedFile(data=output.getvalue(), content_type=content_type, extension=extension)


def _plain(image: Image.Image, *, keep_alpha: bool) -> Image.Image:
    """The image in a mode the output format stores: L, RGB, or (PNG) LA and RGBA."""
    if image.mode in ("L", "RGB") or (keep_alpha and image.mode in ("LA", "RGBA")):
        return image
    if image.mode == "P" and keep_alpha and "transparency" in image.info:
        return image.convert("RGBA")
    if image.mode in ("I;16", "I", "F", "1"):
        return image.convert("L")
    if keep_alpha and image.mode in ("PA",):
        return image.convert("RGBA")
    return image.convert("RGB")


def thumbnail_of(data: bytes, content_type: str) -> bytes:
    """A JPEG at most THUMBNAIL_SIZE of a stored receipt: the image, or the first page of a PDF.

    Raises ValueError when the stored file cannot be drawn.
    """
    picture = receipt_picture(data, content_type, longest_side=max(THUMBNAIL_SIZE))
    picture.thumbnail(THUMBNAIL_SIZE)
    output = io.BytesIO()
    picture.save(output, "JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
    return output.getvalue()


def receipt_picture(data: bytes, content_type: str, *, longest_side: int) -> Image.Image:
    """A stored receipt as an RGB picture on white: the image itself, or the first page of a PDF drawn with
    its longer side about `longest_side` (the thumbnail's, or enough for its text to be read).

    Raises ValueError when the stored file cannot be drawn.
    """
    if content_type == "application/pdf":
        picture = _pdf_first_page(data, longest_side=longest_side)
    else:
        try:
            picture = Image.open(io.BytesIO(data), formats=["JPEG", "PNG"])
            picture.load()
        except (OSError, SyntaxError) as error:
            raise ValueError(f"the stored image cannot be read: {error}") from error
    if picture.mode in ("RGBA", "LA", "P", "PA"):
        picture = picture.convert("RGBA")
        background = Image.new("RGB", picture.size, "white")
        background.paste(picture, mask=picture.getchannel("A"))
        return background
    return picture if picture.mode == "RGB" else picture.convert("RGB")


def _pdf_first_page(data: bytes, *, longest_side: int) -> Image.Image:
    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as error:
        raise ValueError(f"the stored PDF cannot be read: {error}") from error
    try:
        page = document[0]
        width, height = page.get_size()
        # A scale fitting the longer side, never above 4x (a tiny page stays a small picture).
        scale = min(4.0, longest_side / max(width, height, 1))
        return page.render(scale=scale).to_pil()
    finally:
        document.close()
