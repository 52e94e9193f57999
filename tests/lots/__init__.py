"""Helpers shared by the market lots tests: a lot factory and CSV files."""

from portal.extensions import db
from portal.lots.models import Category, LotTrade, MarketLot
from tests.factories import unique

HEADER = [
    "numero",
    "intitule",
    "categorie",
    "bassins",
    "attributaire_siret",
    "periode",
    "codes_rome",
]
OF_SIRET = "90000000005018"
OTHER_OF_SIRET = "90000000005026"


def make_lot(
    holder,
    territories,
    *,
    number: str | None = None,
    title: str = "Prépa Métiers industrie",
    category: Category = Category.PREPA_METIERS,
    rome_codes=("H2903",),
    period=(2024, 2027),
    active: bool = True,
) -> MarketLot:
    """A lot held by ``holder`` over ``territories``, flushed."""
    lot = MarketLot(
        number=number or unique("LOT"),
        title=title,
        category=category,
        holder=holder,
        period_start=period[0],
        period_end=period[1],
        active=active,
        territories=list(territories),
        trades=[LotTrade(rome_code=code) for code in rome_codes],
    )
    db.session.add(lot)
    db.session.flush()
    return lot


def lot_row(number="2024-PM-01", **overrides) -> list[str]:
    """A good CSV line (bassins ORL|TRS, holder ``OF_SIRET``), with some columns replaced."""
    row = {
        "numero": number,
        "intitule": "Prépa Métiers industrie",
        "categorie": "Prépa Métiers",
        "bassins": "ORL|TRS",
        "attributaire_siret": OF_SIRET,
        "periode": "2024-2027",
        "codes_rome": "H2903|H2913",
    }
    row.update(overrides)
    return [row[column] for column in HEADER]


def csv_bytes(*rows, header=HEADER, sep: str = ";", encoding: str = "utf-8") -> bytes:
    """A CSV file as a spreadsheet exports it (CRLF line ends)."""
    lines = [sep.join(header)] + [sep.join(row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)
