"""Labelled receipts for measuring receipt reading: rendered with Pillow, seeded, deterministic.

Six layouts (a till slip in a monospace font, an A4-ish invoice, a restaurant bill with a tip line,
a hotel folio, a European till slip with comma decimals, a Japanese receipt in yen without
decimals), in the fonts of Debian's fonts-dejavu-core, fonts-liberation and fonts-freefont-ttf
(whichever are installed), each clean or slightly rotated, noisy, blurred or shrunk. Each receipt
carries its truth: total (minor units), currency, date and merchant. The same seed gives the same
receipts; `python -m bench.receipt_reading` reads them.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from PIL import Image

from bench.receipt_layouts import LAYOUTS, Fonts, Receipt, hotel_receipt

FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/liberation"),
             Path("/usr/share/fonts/truetype/freefont")]  # fmt: skip
# (regular, bold) files of each style, per family.
FONT_FILES = {
    "mono": [("DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf"),
             ("LiberationMono-Regular.ttf", "LiberationMono-Bold.ttf"), ("FreeMono.ttf", "FreeMonoBold.ttf")],
    "sans": [("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
             ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf"), ("FreeSans.ttf", "FreeSansBold.ttf"),
             ("DejaVuSansCondensed.ttf", "DejaVuSansCondensed-Bold.ttf"),
             ("LiberationSansNarrow-Regular.ttf", "LiberationSansNarrow-Bold.ttf")],
    "serif": [("DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf"),
              ("LiberationSerif-Regular.ttf", "LiberationSerif-Bold.ttf"), ("FreeSerif.ttf", "FreeSerifBold.ttf")],
}  # fmt: skip
VARIANTS = ["clean", "rotated", "noisy", "blurred", "small", "photo"]


class FontsMissing(RuntimeError):
    """No font of a style the layouts need is installed."""


@dataclass(frozen=True)
class LabelledReceipt:
    image: Image.Image
    total_minor: int
    currency: str
    date: date
    merchant: str
    layout: str
    font: str
    variant: str


def installed_fonts() -> dict[str, list[tuple[Path, Path]]]:
    """The (regular, bold) font files installed, per style."""
    found: dict[str, list[tuple[Path, Path]]] = {}
    for style, pairs in FONT_FILES.items():
        for regular, bold in pairs:
            paths = [next((folder / name for folder in FONT_DIRS if (folder / name).is_file()), None)
                     for name in (regular, bold)]  # fmt: skip
            if paths[0] and paths[1]:
                found.setdefault(style, []).append((paths[0], paths[1]))
    missing = set(FONT_FILES) - set(found)
    if missing:
        raise FontsMissing(f"no {', '.join(sorted(missing))} font installed (apt-get install fonts-dejavu-core)")
    return found


def generate(count: int, seed: int, variants: list[str] = VARIANTS) -> Iterator[LabelledReceipt]:
    """`count` receipts, the layouts in turn, everything else drawn from `seed` (the variant from `variants`)."""
    fonts = installed_fonts()
    rng = random.Random(seed)
    layouts = list(LAYOUTS.items())
    for index in range(count):
        name, (draw, style, kind, locales, tip) = layouts[index % len(layouts)]
        locale = rng.choice(locales)
        regular, bold = rng.choice(fonts[style])
        spent_on = date(2026, 1, 1) + timedelta(days=rng.randrange(365))
        if kind == "hotel":
            receipt = hotel_receipt(rng, locale, spent_on)
        else:
            receipt = Receipt.random(rng, locale, kind, spent_on, tip=tip)
        sheet = draw(rng, receipt, Fonts(regular, bold, rng.choice([22, 24, 26, 28])))
        variant = rng.choice(variants)
        yield LabelledReceipt(
            image=sheet.finished(variant, rng),
            total_minor=receipt.total_minor,
            currency=locale.currency,
            date=receipt.spent_on,
            merchant=receipt.merchant,
            layout=name,
            font=regular.stem,
            variant=variant,
        )
