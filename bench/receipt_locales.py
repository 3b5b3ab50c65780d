"""Where a generated receipt comes from: its currency, how it writes amounts and dates, its labels,
and the names and addresses of its merchants (bench/receipt_dataset.py)."""

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

Pick = Callable[[random.Random], str]


def _one_of(*patterns: str, **words: list[str]) -> Pick:
    """A name made from one of the patterns, each {field} filled from its word list."""

    def pick(rng: random.Random) -> str:
        pattern = rng.choice(patterns)
        return pattern.format(**{key: rng.choice(values) for key, values in words.items()})

    return pick


@dataclass(frozen=True)
class Locale:
    name: str
    currency: str
    exponent: int
    group: str
    decimal: str
    symbol: str
    symbol_after: bool
    date_formats: tuple[Callable[[date], str], ...]
    total_labels: tuple[str, ...]
    subtotal_label: str
    tax_label: str
    tax_basis_points: int
    tax_included: bool
    names: dict[str, Pick]
    address: Pick
    city: Pick
    phone: Pick
    words: dict[str, str] = field(default_factory=dict)

    def money(self, minor: int, *, symbol: bool = False, code: bool = False) -> str:
        whole, fraction = divmod(abs(minor), 10**self.exponent)
        digits = f"{whole:,}".replace(",", self.group)
        text = f"{digits}{self.decimal}{fraction:0{self.exponent}d}" if self.exponent else digits
        text = ("-" if minor < 0 else "") + text
        if code:
            return f"{self.currency} {text}"
        if symbol:
            return f"{text} {self.symbol}" if self.symbol_after else f"{self.symbol}{text}"
        return text

    def day(self, spent_on: date, rng: random.Random) -> str:
        return rng.choice(self.date_formats)(spent_on)

    def word(self, key: str) -> str:
        return self.words.get(key, key.capitalize())


_US_PLACES = [
    "Blue Harbor",
    "Maple Street",
    "Golden Gate",
    "Redwood",
    "Lucky Star",
    "Northside",
    "Silver Creek",
    "Old Town",
    "Sunrise",
    "Pine Ridge",
    "Union Square",
    "Lakeview",
    "Cedar Hill",
    "Riverside",
]
_US_SURNAMES = ["Carter", "Nguyen", "Patel", "Brooks", "Alvarez", "Whitman", "Keller", "Okafor", "Lindqvist"]
_UK_PLACES = ["Kings Road", "Crown", "Oakwood", "Thames", "Highgate", "Primrose", "St Albans", "Harrow", "Camden"]
_UK_SURNAMES = ["Hughes", "Fletcher", "Okoro", "Pemberton", "Walsh", "Ashby", "Morrison", "Doyle"]
_DE_SURNAMES = ["Müller", "Schmidt", "Weber", "Becker", "Hoffmann", "Schäfer", "Krüger", "Wagner", "Lange"]
_DE_PLACES = ["Markt", "Rathaus", "Bahnhof", "Dom", "Stadtpark", "Hafen"]
_FR_SURNAMES = ["Martin", "Bernard", "Dubois", "Moreau", "Lefèvre", "Girard", "Fontaine", "Rousseau"]
_FR_PLACES = ["Marché", "Centre", "Port", "Théâtre", "Parc", "Pont Neuf"]
_CH_SURNAMES = ["Meier", "Keller", "Brunner", "Frei", "Gerber", "Baumann", "Zürcher"]
_JP_WORDS = ["Sakura", "Midori", "Kamome", "Fuji", "Hikari", "Asahi", "Kaede", "Tsubame", "Hoshi"]  # fmt: skip

US = Locale(
    name="US", currency="USD", exponent=2, group=",", decimal=".", symbol="$", symbol_after=False,
    date_formats=(lambda d: f"{d:%m/%d/%Y}", lambda d: f"{d:%b} {d.day}, {d.year}", lambda d: f"{d:%Y-%m-%d}",
                  lambda d: f"{d:%m/%d/%y}", lambda d: f"{d:%B} {d.day}, {d.year}"),
    total_labels=("TOTAL", "Total", "Amount Due", "Balance Due", "TOTAL DUE"),
    subtotal_label="Subtotal", tax_label="Sales Tax {rate}%", tax_basis_points=887, tax_included=False,
    names={
        "shop": _one_of("{place} {shop}", place=_US_PLACES,
                        shop=["Market", "Hardware", "Books", "Pharmacy", "Deli", "Grocery", "Office Supply"]),
        "restaurant": _one_of("{place} {food}", "{surname}'s {food}", place=_US_PLACES, surname=_US_SURNAMES,
                              food=["Diner", "Grill", "Bistro", "Kitchen", "Cafe", "Taqueria", "Steakhouse"]),
        "hotel": _one_of("{place} Hotel", "The {place} Inn", "{place} Suites", place=_US_PLACES),
        "company": _one_of("{surname} {firm}", surname=_US_SURNAMES,
                           firm=["Consulting LLC", "Design Co.", "Software Inc.", "Print Services", "& Associates"]),
    },
    address=_one_of("{n} {street} {kind}", n=[str(n) for n in range(10, 990, 7)],
                    street=["Main", "Oak", "Market", "Elm", "Washington", "Lake", "Hill"],
                    kind=["Street", "St", "Ave", "Blvd", "Road"]),
    city=_one_of("{city}, {state} {zip}", city=["Springfield", "Portland", "Austin", "Denver", "Boston"],
                 state=["IL", "OR", "TX", "CO", "MA"], zip=[str(z) for z in range(10001, 99999, 4321)]),
    phone=_one_of("Tel: ({a}) {b}-{c}", "Phone {a}-{b}-{c}", a=["212", "503", "512", "303", "617"],
                  b=["555", "284", "719"], c=["0142", "8830", "2291", "4107"]),
)  # fmt: skip

UK = Locale(
    name="UK", currency="GBP", exponent=2, group=",", decimal=".", symbol="£", symbol_after=False,
    date_formats=(lambda d: f"{d:%d/%m/%Y}", lambda d: f"{d.day} {d:%b %Y}", lambda d: f"{d:%d-%b-%y}".upper(),
                  lambda d: f"{d.day} {d:%B %Y}"),
    total_labels=("TOTAL", "Total", "Amount Due", "TOTAL TO PAY", "Balance to pay"),
    subtotal_label="Subtotal", tax_label="VAT {rate}%", tax_basis_points=2000, tax_included=True,
    names={
        "shop": _one_of("{place} {shop}", place=_UK_PLACES,
                        shop=["Newsagents", "Stores", "Chemist", "Bookshop", "Ironmongers", "Stationers"]),
        "restaurant": _one_of("The {animal} & {thing}", "{place} Brasserie", animal=["Fox", "Swan", "Stag", "Hare"],
                              thing=["Hounds", "Anchor", "Crown", "Feathers", "Fiddle"], place=_UK_PLACES),
        "hotel": _one_of("The {place} Hotel", "{place} House Hotel", place=_UK_PLACES),
        "company": _one_of("{a} & {b} Ltd", "{a} Digital Ltd", a=_UK_SURNAMES, b=_UK_SURNAMES),
    },
    address=_one_of("{n} {street} {kind}", n=[str(n) for n in range(2, 200, 3)],
                    street=["Queen", "Victoria", "Church", "Mill", "Station"], kind=["Road", "Street", "Lane"]),
    city=_one_of("London {pc}", "Leeds {pc}", pc=["SW1A 1AA", "EC2R 8AH", "LS1 4DY", "N1 9GU"]),
    phone=_one_of("Tel: 020 {a} {b}", a=["7946", "3321", "8870"], b=["0123", "4410", "9382"]),
)  # fmt: skip

DE = Locale(
    name="DE", currency="EUR", exponent=2, group=".", decimal=",", symbol="€", symbol_after=True,
    date_formats=(lambda d: f"{d:%d.%m.%Y}", lambda d: f"{d:%d.%m.%y}"),
    total_labels=("SUMME", "Summe", "Gesamt", "Zu zahlen", "Gesamtbetrag"),
    subtotal_label="Zwischensumme", tax_label="MwSt {rate}%", tax_basis_points=1900, tax_included=True,
    names={
        "shop": _one_of("Bäckerei {s}", "Buchhandlung {s}", "Apotheke am {p}", "Drogerie {s}", s=_DE_SURNAMES,
                        p=_DE_PLACES),
        "restaurant": _one_of("Gasthaus {s}", "Café am {p}", s=_DE_SURNAMES, p=_DE_PLACES),
        "hotel": _one_of("Hotel am {p}", "Hotel {s}", p=_DE_PLACES, s=_DE_SURNAMES),
        "company": _one_of("{s} Software GmbH", "{s} & {t} GmbH", s=_DE_SURNAMES, t=_DE_SURNAMES),
    },
    address=_one_of("{street}straße {n}", "{street}weg {n}", street=["Haupt", "Linden", "Berg", "Garten"],
                    n=[str(n) for n in range(1, 90, 4)]),
    city=_one_of("{z} {c}", z=["10115", "80331", "50667", "20095"], c=["Berlin", "München", "Köln", "Hamburg"]),
    phone=_one_of("Tel. 0{a} {b}", a=["30", "89", "221"], b=["2847113", "5530912", "906647"]),
    words={"cash": "Bar", "change": "Rückgeld", "card": "EC-Karte", "date": "Datum", "thanks": "Vielen Dank!"},
)  # fmt: skip

FR = Locale(
    name="FR", currency="EUR", exponent=2, group=" ", decimal=",", symbol="€", symbol_after=True,
    date_formats=(lambda d: f"{d:%d/%m/%Y}", lambda d: f"{d:%d/%m/%y}"),
    total_labels=("TOTAL TTC", "Total TTC", "Net à payer", "Montant TTC"),
    subtotal_label="Total HT", tax_label="TVA {rate}%", tax_basis_points=2000, tax_included=True,
    names={
        "shop": _one_of("Boulangerie {s}", "Librairie {s}", "Pharmacie du {p}", s=_FR_SURNAMES, p=_FR_PLACES),
        "restaurant": _one_of("Brasserie du {p}", "Café {s}", "Bistrot {s}", p=_FR_PLACES, s=_FR_SURNAMES),
        "hotel": _one_of("Hôtel du {p}", "Hôtel {s}", p=_FR_PLACES, s=_FR_SURNAMES),
        "company": _one_of("{s} Conseil SARL", "Atelier {s}", s=_FR_SURNAMES),
    },
    address=_one_of("{n} rue {s}", "{n} avenue {s}", n=[str(n) for n in range(1, 120, 5)],
                    s=["Victor Hugo", "de la Paix", "des Lilas", "Pasteur"]),
    city=_one_of("{z} {c}", z=["75001", "69002", "13001", "33000"], c=["Paris", "Lyon", "Marseille", "Bordeaux"]),
    phone=_one_of("Tél. 01 {a} {b} {c}", a=["42", "45", "53"], b=["36", "71", "18"], c=["09 11", "22 40"]),
    words={"cash": "Espèces", "change": "Rendu", "card": "CB", "date": "Date", "thanks": "Merci de votre visite"},
)  # fmt: skip

CH = Locale(
    name="CH", currency="CHF", exponent=2, group="'", decimal=".", symbol="CHF", symbol_after=False,
    date_formats=(lambda d: f"{d:%d.%m.%Y}", lambda d: f"{d:%d.%m.%y}"),
    total_labels=("TOTAL CHF", "Total", "Summe CHF", "Total CHF"),
    subtotal_label="Subtotal", tax_label="MWST {rate}%", tax_basis_points=810, tax_included=True,
    names={
        "shop": _one_of("Confiserie {s}", "Papeterie {s}", "Buchhandlung {s}", s=_CH_SURNAMES),
        "restaurant": _one_of("Restaurant {s}", "Café {s}", s=_CH_SURNAMES),
        "hotel": _one_of("Hotel Bellevue {c}", "Hotel {s}", c=["Luzern", "Bern", "Basel"], s=_CH_SURNAMES),
        "company": _one_of("{s} Informatik AG", s=_CH_SURNAMES),
    },
    address=_one_of("{s}gasse {n}", "{s}strasse {n}", s=["Kirch", "Bahnhof", "See", "Markt"],
                    n=[str(n) for n in range(1, 60, 3)]),
    city=_one_of("{z} {c}", z=["8001", "3011", "4051", "6003"], c=["Zürich", "Bern", "Basel", "Luzern"]),
    phone=_one_of("Tel. +41 {a} {b} {c}", a=["44", "31", "61"], b=["211", "382", "560"], c=["44 10", "90 12"]),
    words={"cash": "Bar", "change": "Rückgeld", "date": "Datum", "thanks": "Merci vielmals"},
)  # fmt: skip

JP = Locale(
    name="JP", currency="JPY", exponent=0, group=",", decimal="", symbol="¥", symbol_after=False,
    date_formats=(lambda d: f"{d:%Y/%m/%d}", lambda d: f"{d:%Y-%m-%d}", lambda d: f"{d:%Y.%m.%d}"),
    total_labels=("TOTAL", "Total (tax incl.)", "Amount"),
    subtotal_label="Subtotal", tax_label="Consumption tax {rate}%", tax_basis_points=1000, tax_included=True,
    names={
        "shop": _one_of("{w} {k}", w=_JP_WORDS, k=["Stationery", "Books", "Mart", "Bakery", "Electronics"]),
        "restaurant": _one_of("{w} {k}", w=_JP_WORDS, k=["Ramen", "Sushi", "Izakaya", "Coffee"]),
        "hotel": _one_of("Hotel {w} Tokyo", "{w} Ryokan", w=_JP_WORDS),
        "company": _one_of("{w} Systems K.K.", w=_JP_WORDS),
    },
    address=_one_of("{a}-{b}-{c} {area}", a=["1", "2", "4"], b=["3", "11", "7"], c=["5", "18", "2"],
                    area=["Jingumae", "Nishi-Shinjuku", "Ginza", "Umeda"]),
    city=_one_of("{ward}, Tokyo {z}", ward=["Shibuya-ku", "Shinjuku-ku", "Chuo-ku"],
                 z=["150-0001", "160-0023", "104-0061"]),
    phone=_one_of("TEL 03-{a}-{b}", a=["3405", "5321", "6228"], b=["1187", "7702", "4519"]),
)  # fmt: skip
