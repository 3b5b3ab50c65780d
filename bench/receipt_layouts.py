"""How generated receipts are drawn: what was bought, the sheet they are printed on, and six layouts
(bench/receipt_dataset.py)."""

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from bench.receipt_locales import CH, DE, FR, JP, UK, US, Locale

ITEMS = {
    "shop": ["Milk 1L", "Sourdough loaf", "Coffee beans 250g", "AA batteries 4pk", "Notebook A5", "Gel pens 10pk",
             "Bananas", "Shampoo", "Paper towels", "USB-C cable", "Printer paper", "Sticky notes", "Water 6x1.5L"],
    "restaurant": ["Burger", "Caesar salad", "Pasta arrabbiata", "Soup of the day", "Iced tea", "Espresso",
                   "House wine", "Cheesecake", "Fish & chips", "Club sandwich", "Sparkling water"],
    "company": ["Consulting services", "Website maintenance", "Printing 500 flyers", "Software licence",
                "Support hours", "Design work", "Workshop facilitation", "Hosting (12 months)"],
}  # fmt: skip
# Unit prices in major units (hundreds of yen): (lowest, highest).
PRICE_RANGE = {"shop": (1, 40), "restaurant": (3, 38), "company": (60, 2400)}


@dataclass(frozen=True)
class Receipt:
    locale: Locale
    kind: str
    merchant: str
    spent_on: date
    items: list[tuple[str, int, int]]  # name, quantity, unit price in minor units
    tax_minor: int
    tip_minor: int
    total_minor: int

    @property
    def subtotal_minor(self) -> int:
        return sum(quantity * price for _, quantity, price in self.items)

    @classmethod
    def random(cls, rng: random.Random, locale: Locale, kind: str, spent_on: date, *, tip: bool = False) -> "Receipt":
        items = []
        for _ in range(rng.randint(2, 6) if kind != "company" else rng.randint(1, 4)):
            low, high = PRICE_RANGE[kind]
            if locale.exponent == 0:
                unit = rng.randint(low, high) * 100  # yen: a coffee is ¥400, not ¥4
            else:
                unit = rng.randint(low * 20, high * 20) * 5 * 10 ** (locale.exponent - 2)
            items.append((rng.choice(ITEMS[kind]), rng.choice([1, 1, 1, 2, 3]), unit))
        subtotal = sum(quantity * price for _, quantity, price in items)
        rate = locale.tax_basis_points
        if locale.tax_included:
            tax, total = subtotal - subtotal * 10000 // (10000 + rate), subtotal
        else:
            tax = (subtotal * rate + 5000) // 10000
            total = subtotal + tax
        tip_minor = (subtotal * rng.choice([15, 18, 20]) // 100) if tip else 0
        return cls(locale, kind, locale.names[kind](rng), spent_on, items, tax, tip_minor, total + tip_minor)


@dataclass(frozen=True)
class Fonts:
    regular: Path
    bold: Path
    size: int


class Sheet:
    """A sheet of paper written top to bottom; `finished` crops it and ages it by a variant."""

    def __init__(self, width: int, fonts: Fonts, rng: random.Random) -> None:
        self.width, self.fonts, self.margin = width, fonts, max(24, width // 24)
        self.paper = rng.randint(235, 255)
        self.ink = rng.randint(0, 60)
        self.image = Image.new("L", (width, 4000), self.paper)
        self.draw = ImageDraw.Draw(self.image)
        self.y = self.margin

    def font(self, bold: bool, scale: float) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(str(self.fonts.bold if bold else self.fonts.regular), round(self.fonts.size * scale))

    def line(self, left: str = "", right: str = "", *, center: bool = False, bold: bool = False, scale: float = 1.0,
             at: float = 0.0) -> None:  # fmt: skip
        """One line: `left` at the margin (or `at` of the width, or centred), `right` flush right; a
        line too long for the paper is set smaller, as a printer would."""
        font = self.font(bold, scale)
        while scale > 0.5 and self.draw.textlength(f"{left}  {right}", font=font) > self.width - 2 * self.margin:
            scale -= 0.05
            font = self.font(bold, scale)
        if center:
            self.draw.text(((self.width - self.draw.textlength(left, font=font)) / 2, self.y), left, self.ink, font)
        elif left:
            self.draw.text((self.margin + at * self.width, self.y), left, self.ink, font)
        if right:
            x = self.width - self.margin - self.draw.textlength(right, font=font)
            self.draw.text((x, self.y), right, self.ink, font)
        self.y += round(font.size * 1.35)

    def columns(self, cells: list[tuple[str, float]], *, bold: bool = False) -> None:
        """Cells at fractions of the width; a cell at 1.0 is flush right."""
        font = self.font(bold, 1.0)
        for text, at in cells:
            if at >= 1.0:
                x = self.width - self.margin - self.draw.textlength(text, font=font)
            else:
                x = self.margin + at * (self.width - 2 * self.margin)
            self.draw.text((x, self.y), text, self.ink, font)
        self.y += round(font.size * 1.35)

    def rule(self, character: str = "-") -> None:
        font = self.font(False, 1.0)
        count = int((self.width - 2 * self.margin) / max(1.0, self.draw.textlength(character, font=font)))
        self.line(character * count)

    def gap(self, lines: float = 0.5) -> None:
        self.y += round(self.fonts.size * 1.35 * lines)

    def finished(self, variant: str, rng: random.Random) -> Image.Image:
        image = self.image.crop((0, 0, self.width, self.y + self.margin))
        noise_rng = np.random.default_rng(rng.randrange(2**32))
        if variant in ("rotated", "photo"):
            image = image.rotate(rng.uniform(-2.0, 2.0), Image.Resampling.BICUBIC, expand=True, fillcolor=self.paper)
        if variant in ("blurred", "photo"):
            image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.7, 1.3)))
        if variant == "photo":
            # Uneven light: darker towards one corner.
            shade = np.linspace(0, rng.uniform(30, 60), image.width)[None, :] + np.zeros((image.height, 1))
            image = Image.fromarray(np.clip(np.asarray(image, float) - shade, 0, 255).astype(np.uint8))
        if variant == "noisy":
            pixels = np.asarray(image, float) + noise_rng.normal(0, rng.uniform(12, 24), (image.height, image.width))
            specks = noise_rng.random(pixels.shape) < 0.004
            pixels[specks] = self.ink
            image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
        if variant == "small":
            factor = rng.uniform(0.5, 0.65)
            image = image.resize((round(image.width * factor), round(image.height * factor)), Image.Resampling.BILINEAR)
        return image.convert("RGB")


def _header(sheet: Sheet, rng: random.Random, receipt: Receipt, *, center: bool, scale: float) -> None:
    locale = receipt.locale
    if rng.random() < 0.15:
        sheet.line("Welcome to", center=center)
    sheet.line(receipt.merchant if rng.random() < 0.6 else receipt.merchant.upper(), center=center, bold=True,
               scale=scale)  # fmt: skip
    for text in rng.sample([locale.address(rng), locale.city(rng), locale.phone(rng)], k=rng.choice([2, 3])):
        sheet.line(text, center=center)


def _date_line(sheet: Sheet, rng: random.Random, receipt: Receipt, *, labelled: bool) -> None:
    when = receipt.locale.day(receipt.spent_on, rng)
    clock = f"{rng.randint(7, 22):02d}:{rng.randint(0, 59):02d}"
    if labelled:
        sheet.line(f"{receipt.locale.word('date')}: {when}", clock)
    else:
        sheet.line(f"{when} {clock}", f"#{rng.randint(1000, 9999)}")


def _totals(sheet: Sheet, rng: random.Random, receipt: Receipt, *, code_total: bool) -> None:
    locale = receipt.locale
    rate = f"{locale.tax_basis_points / 100:g}"
    if not locale.tax_included:
        sheet.line(locale.subtotal_label, locale.money(receipt.subtotal_minor))
        sheet.line(locale.tax_label.format(rate=rate), locale.money(receipt.tax_minor))
    label = rng.choice(locale.total_labels)
    amount = receipt.total_minor - receipt.tip_minor
    sheet.line(label, locale.money(amount, symbol=not code_total, code=code_total), bold=True, scale=1.1)
    if locale.tax_included:
        sheet.line(f"incl. {locale.tax_label.format(rate=rate)}", locale.money(receipt.tax_minor))


def _payment(sheet: Sheet, rng: random.Random, receipt: Receipt) -> None:
    locale = receipt.locale
    if rng.random() < 0.5:
        note = 10 ** (locale.exponent + 1) if locale.exponent else 1000
        tendered = (-(-receipt.total_minor // note) + rng.choice([0, 1, 2])) * note
        sheet.line(locale.word("cash"), locale.money(tendered))
        sheet.line(locale.word("change"), locale.money(tendered - receipt.total_minor))
    else:
        sheet.line(f"{locale.word('card')} **** {rng.randint(1000, 9999)}", locale.money(receipt.total_minor))


def till_slip(rng: random.Random, receipt: Receipt, fonts: Fonts) -> Sheet:
    sheet = Sheet(rng.choice([576, 640]), fonts, rng)
    _header(sheet, rng, receipt, center=True, scale=rng.choice([1.3, 1.5, 1.7]))
    sheet.rule(rng.choice("-=*"))
    _date_line(sheet, rng, receipt, labelled=rng.random() < 0.4)
    for name, quantity, price in receipt.items:
        sheet.line(f"{quantity} x {name}" if quantity > 1 else name, receipt.locale.money(quantity * price))
    sheet.rule(rng.choice("-="))
    _totals(sheet, rng, receipt, code_total=rng.random() < 0.25)
    _payment(sheet, rng, receipt)
    sheet.gap()
    sheet.line(receipt.locale.word("thanks") if "thanks" in receipt.locale.words else "Thank you!", center=True)
    return sheet


def invoice(rng: random.Random, receipt: Receipt, fonts: Fonts) -> Sheet:
    sheet = Sheet(1240, fonts, rng)
    locale = receipt.locale
    _header(sheet, rng, receipt, center=False, scale=rng.choice([1.6, 1.9, 2.2]))
    sheet.gap()
    sheet.line("INVOICE", bold=True, scale=1.4)
    sheet.line(f"Invoice no. INV-{receipt.spent_on.year}-{rng.randint(100, 9999):04d}")
    sheet.line(f"Invoice date: {locale.day(receipt.spent_on, rng)}")
    sheet.line(f"Due date: {locale.day(receipt.spent_on + timedelta(days=rng.choice([14, 30])), rng)}")
    sheet.line(f"Bill to: {rng.choice(['Northwind Traders', 'Contoso Ltd', 'Fabrikam Inc'])}")
    sheet.gap()
    sheet.columns([("Description", 0.0), ("Qty", 0.55), ("Unit price", 0.68), ("Amount", 1.0)], bold=True)
    for name, quantity, price in receipt.items:
        sheet.columns([(name, 0.0), (str(quantity), 0.56), (locale.money(price), 0.68),
                       (locale.money(quantity * price), 1.0)])  # fmt: skip
    sheet.gap()
    net = receipt.subtotal_minor - receipt.tax_minor if locale.tax_included else receipt.subtotal_minor
    total = receipt.total_minor
    rate = f"{locale.tax_basis_points / 100:g}"
    sheet.columns([(locale.subtotal_label, 0.55), (locale.money(net), 1.0)])
    sheet.columns([(locale.tax_label.format(rate=rate), 0.55), (locale.money(receipt.tax_minor), 1.0)])
    label = rng.choice(["Total", "Amount due", "Total due", "TOTAL", *locale.total_labels])
    by_code = rng.random() < 0.4
    sheet.columns([(label, 0.55), (locale.money(total, symbol=not by_code, code=by_code), 1.0)], bold=True)
    sheet.gap()
    sheet.line(f"Payment within {rng.choice([14, 30])} days. IBAN GB29 NWBK 6016 1331 9268 19")
    return sheet


def restaurant_bill(rng: random.Random, receipt: Receipt, fonts: Fonts) -> Sheet:
    sheet = Sheet(rng.choice([640, 720]), fonts, rng)
    locale = receipt.locale
    _header(sheet, rng, receipt, center=True, scale=rng.choice([1.4, 1.6]))
    sheet.line(f"Table {rng.randint(1, 40)}", f"Server: {rng.choice(['Maria', 'Sam', 'Priya', 'Tom'])}")
    _date_line(sheet, rng, receipt, labelled=rng.random() < 0.5)
    sheet.rule()
    for name, quantity, price in receipt.items:
        sheet.line(f"{quantity} {name}", locale.money(quantity * price))
    sheet.rule()
    _totals(sheet, rng, receipt, code_total=False)
    sheet.line("Tip", locale.money(receipt.tip_minor))
    label = rng.choice(["Total", "TOTAL", "Grand Total", "Total Charged"])
    sheet.line(label, locale.money(receipt.total_minor, symbol=True), bold=True, scale=1.15)
    sheet.gap()
    sheet.line(f"{locale.word('card')} **** {rng.randint(1000, 9999)}  APPROVED", center=True)
    return sheet


def hotel_folio(rng: random.Random, receipt: Receipt, fonts: Fonts) -> Sheet:
    sheet = Sheet(1100, fonts, rng)
    locale = receipt.locale
    nights = len(receipt.items)
    arrival = receipt.spent_on - timedelta(days=nights)
    _header(sheet, rng, receipt, center=rng.random() < 0.5, scale=rng.choice([1.7, 2.0]))
    sheet.gap()
    sheet.line(f"Guest: {rng.choice(['J. Smith', 'A. Kowalski', 'M. Chen'])}", f"Room {rng.randint(101, 720)}")
    sheet.line(f"Arrival: {locale.day(arrival, rng)}", f"Folio {rng.randint(10000, 99999)}")
    sheet.line(f"Departure: {locale.day(receipt.spent_on, rng)}")
    if rng.random() < 0.5:
        sheet.line(f"Date: {locale.day(receipt.spent_on, rng)}")
    sheet.gap()
    sheet.columns([("Date", 0.0), ("Description", 0.25), ("Amount", 1.0)], bold=True)
    for night, (name, _, price) in enumerate(receipt.items):
        sheet.columns([(locale.day(arrival + timedelta(days=night), rng), 0.0), (name, 0.25),
                       (locale.money(price), 1.0)])  # fmt: skip
    sheet.gap()
    label = rng.choice(["Total charges", "Total", "Total amount", *locale.total_labels])
    sheet.columns([(label, 0.25), (locale.money(receipt.total_minor, symbol=True), 1.0)], bold=True)
    sheet.columns([(f"Payment {locale.word('card')}", 0.25), (locale.money(-receipt.total_minor), 1.0)])
    sheet.columns([("Balance", 0.25), (locale.money(0), 1.0)])
    return sheet


def hotel_receipt(rng: random.Random, locale: Locale, spent_on: date) -> Receipt:
    """A stay of one to four nights at one rate, ending on the spend's date."""
    rate = rng.randint(80, 420) * 10**locale.exponent * (100 if locale.exponent == 0 else 1)
    items = [("Room charge", 1, rate) for _ in range(rng.randint(1, 4))]
    total = rate * len(items)
    tax = total - total * 10000 // (10000 + locale.tax_basis_points)
    return Receipt(locale, "hotel", locale.names["hotel"](rng), spent_on, items, tax, 0, total)


Draw = Callable[[random.Random, Receipt, Fonts], Sheet]
# name: (draw, font style, merchant kind, locales, tip line)
LAYOUTS: dict[str, tuple[Draw, str, str, list[Locale], bool]] = {
    "till": (till_slip, "mono", "shop", [US, UK, CH], False),
    "invoice": (invoice, "sans", "company", [US, UK, DE, FR], False),
    "restaurant": (restaurant_bill, "serif", "restaurant", [US, UK], True),
    "hotel": (hotel_folio, "sans", "hotel", [US, UK, DE, CH], False),
    "european": (till_slip, "mono", "shop", [DE, FR], False),
    "yen": (till_slip, "sans", "shop", [JP], False),
}
