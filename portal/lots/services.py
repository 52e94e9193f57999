"""Market lots: lookup of the lot covering a need, edits, and the all-or-nothing CSV import."""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.accounts.models import Organisation, OrgKind, Territory, User
from portal.audit.services import record
from portal.core.errors import RuleError
from portal.core.text import clean_text
from portal.extensions import db
from portal.lots.models import Category, LotTrade, MarketLot, lot_territories

ROME_PATTERN = re.compile(r"^[A-N]\d{4}$")
NUMBER_MAX = MarketLot.number.type.length
TITLE_MAX = MarketLot.title.type.length
CSV_COLUMNS = [
    "numero",
    "intitule",
    "categorie",
    "bassins",
    "attributaire_siret",
    "periode",
    "codes_rome",
]
PERIOD_PATTERN = re.compile(r"(\d{4})\s*[-–]\s*(\d{4})")
YEAR_MIN, YEAR_MAX = 2000, 2100
CATEGORY_BY_LABEL = {
    "prepa metiers": Category.PREPA_METIERS,
    "prépa métiers": Category.PREPA_METIERS,
    "prepa_metiers": Category.PREPA_METIERS,
    "chantier formation": Category.CHANTIER_FORMATION,
    "chantier_formation": Category.CHANTIER_FORMATION,
    "se former au metier de": Category.SE_FORMER,
    "se former au métier de": Category.SE_FORMER,
    "se_former": Category.SE_FORMER,
    "autre session de formation": Category.OTHER,
    "autre": Category.OTHER,
    "other": Category.OTHER,
}


def normalize_rome(code: str) -> str:
    return (code or "").strip().upper()


def parse_rome_codes(text: str) -> list[str]:
    """Split a list of ROME codes (commas, semicolons or spaces); raise on a bad code."""
    codes = [normalize_rome(c) for c in re.split(r"[\s,;|]+", text or "") if c.strip()]
    bad = [c for c in codes if not ROME_PATTERN.match(c)]
    if bad:
        raise RuleError(
            _(
                "Code ROME invalide : %(codes)s (une lettre et quatre chiffres, ex. K2204).",
                codes=", ".join(bad),
            ),
            "rome_codes",
        )
    return sorted(set(codes))


def find_covering_lot(
    category: Category, territory: Territory, rome_code: str, on: date | None = None
) -> MarketLot | None:
    """The active lot that covers this category, bassin and trade at date ``on`` (today)."""
    year = (on or date.today()).year
    return db.session.scalar(
        select(MarketLot)
        .join(lot_territories, lot_territories.c.lot_id == MarketLot.id)
        .join(LotTrade, LotTrade.lot_id == MarketLot.id)
        .where(
            MarketLot.active.is_(True),
            MarketLot.category == category,
            lot_territories.c.territory_id == territory.id,
            LotTrade.rome_code == normalize_rome(rome_code),
            MarketLot.period_start <= year,
            MarketLot.period_end >= year,
        )
        .options(selectinload(MarketLot.holder))
        .order_by(MarketLot.id)
        .limit(1)
    )


def save_lot(data: dict, *, by: User, lot: MarketLot | None = None) -> MarketLot:
    """Create or update a lot from validated data (holder must be an organisme de formation)."""
    holder = data["holder"]
    if holder is None or holder.kind != OrgKind.PROVIDER:
        raise RuleError(_("L'attributaire doit être un organisme de formation."), "holder_id")
    if data["period_end"] < data["period_start"]:
        raise RuleError(_("La fin de période précède son début."), "period_end")
    if not data["territories"]:
        raise RuleError(_("Choisissez au moins un bassin d'emploi."), "territory_ids")
    codes = data["rome_codes"]
    if not codes:
        raise RuleError(_("Indiquez au moins un code ROME couvert."), "rome_codes")
    clash = db.session.scalar(select(MarketLot).where(MarketLot.number == data["number"]))
    if clash and clash is not lot:
        raise RuleError(_("Le lot n° %(n)s existe déjà.", n=data["number"]), "number")
    creating = lot is None
    if creating:
        lot = MarketLot()
        db.session.add(lot)
    lot.number = data["number"]
    lot.title = data["title"]
    lot.category = data["category"]
    lot.holder = holder
    lot.period_start = data["period_start"]
    lot.period_end = data["period_end"]
    if creating or "active" in data:
        # An import carries no "active" column: updating a lot must not reactivate it.
        lot.active = data.get("active", True)
    lot.territories = list(data["territories"])
    existing = {t.rome_code: t for t in lot.trades}
    lot.trades = [existing.get(code) or LotTrade(rome_code=code) for code in codes]
    db.session.flush()
    record("lot.created" if creating else "lot.updated", actor=by, obj=lot, number=lot.number)
    return lot


class _Semicolon(csv.excel):
    """The dialect of French spreadsheets, used when the header does not tell."""

    delimiter = ";"


@dataclass
class ImportReport:
    """The outcome of a CSV import: lots created, or every problem found (nothing saved)."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    errors: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _decode(raw: bytes) -> str:
    """The file's text, cleaned like a typed multi-line field (see portal/core/text.py)."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return clean_text(raw.decode(encoding), multiline=True)
        except UnicodeDecodeError:
            continue
    raise RuleError(_("Le fichier n'est ni en UTF-8 ni en Windows-1252."))


def import_lots_csv(raw: bytes, *, by: User) -> ImportReport:
    """Import lots from CSV (``;`` or ``,``); any bad line refuses the whole file.

    Columns: numero, intitule, categorie, bassins (codes, separated by |), attributaire_siret,
    periode (2021-2024), codes_rome (separated by |). A known number updates that lot.
    """
    report = ImportReport()
    text = _decode(raw)
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else "", delimiters=";,")
    except csv.Error:
        dialect = _Semicolon  # a subclass: never mutate the module-wide ``csv.excel``
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        report.errors.append((1, ", ".join(missing), _("colonne(s) absente(s) de l'en-tête")))
        return report
    territories = {t.code.upper(): t for t in db.session.scalars(select(Territory))}
    holders = {
        o.siret: o
        for o in db.session.scalars(
            select(Organisation).where(Organisation.kind == OrgKind.PROVIDER)
        )
        if o.siret
    }
    rows, seen = [], set()
    try:
        for raw_row in reader:
            # ``line_num`` counts physical lines, so skipped blank lines do not shift numbers.
            line_no = reader.line_num
            if None in raw_row:  # DictReader files surplus fields under the key None
                report.errors.append((line_no, "", _("plus de colonnes que dans l'en-tête")))
                continue
            row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw_row.items()}
            if not any(row.values()):
                continue  # a line of separators only, as spreadsheets export empty rows
            errors = _check_row(row, territories, holders, seen)
            report.errors.extend((line_no, column, reason) for column, reason in errors)
            if not errors:
                rows.append(row)
    except csv.Error:
        report.errors.append((reader.line_num, "", _("ligne illisible (guillemets mal fermés ?)")))
    if not rows and not report.errors:
        report.errors.append((2, "", _("le fichier ne contient aucune ligne de lot")))
    if report.errors:
        return report
    for row in rows:
        start, end = (int(y) for y in row["periode"].split("-"))
        existing = db.session.scalar(select(MarketLot).where(MarketLot.number == row["numero"]))
        save_lot(
            {
                "number": row["numero"],
                "title": row["intitule"],
                "category": CATEGORY_BY_LABEL[row["categorie"].lower()],
                "holder": holders[row["attributaire_siret"].replace(" ", "")],
                "period_start": start,
                "period_end": end,
                "territories": [territories[c.strip().upper()] for c in row["bassins"].split("|")],
                "rome_codes": parse_rome_codes(row["codes_rome"].replace("|", " ")),
            },
            by=by,
            lot=existing,
        )
        (report.updated if existing else report.created).append(row["numero"])
    record("lots.imported", actor=by, created=len(report.created), updated=len(report.updated))
    return report


def _check_row(row: dict, territories: dict, holders: dict, seen: set) -> list[tuple[str, str]]:
    errors = []
    number = row.get("numero", "")
    if not number:
        errors.append(("numero", _("numéro de lot manquant")))
    elif len(number) > NUMBER_MAX:
        errors.append(("numero", _("numéro trop long (%(n)d caractères au plus)", n=NUMBER_MAX)))
    elif number in seen:
        errors.append(("numero", _("numéro en double dans le fichier")))
    seen.add(number)
    if not row.get("intitule"):
        errors.append(("intitule", _("intitulé manquant")))
    elif len(row["intitule"]) > TITLE_MAX:
        errors.append(("intitule", _("intitulé trop long (%(n)d caractères au plus)", n=TITLE_MAX)))
    if row.get("categorie", "").lower() not in CATEGORY_BY_LABEL:
        errors.append(
            (
                "categorie",
                _(
                    "catégorie inconnue « %(v)s » (Prépa Métiers, Chantier formation, "
                    "Se former au métier de)",
                    v=row.get("categorie", ""),
                ),
            )
        )
    codes = [c.strip().upper() for c in row.get("bassins", "").split("|") if c.strip()]
    unknown = [c for c in codes if c not in territories]
    if not codes:
        errors.append(("bassins", _("aucun bassin indiqué")))
    elif unknown:
        errors.append(("bassins", _("bassin(s) inconnu(s) : %(c)s", c=", ".join(unknown))))
    siret = row.get("attributaire_siret", "").replace(" ", "")
    if siret not in holders:
        errors.append(
            (
                "attributaire_siret",
                _("aucun organisme de formation avec le SIRET « %(s)s »", s=siret),
            )
        )
    match = PERIOD_PATTERN.fullmatch(row.get("periode", ""))
    if not match:
        errors.append(("periode", _("période attendue sous la forme 2021-2024")))
    elif not all(YEAR_MIN <= int(y) <= YEAR_MAX for y in match.groups()):
        errors.append(
            ("periode", _("années attendues entre %(a)d et %(b)d", a=YEAR_MIN, b=YEAR_MAX))
        )
    elif int(match.group(2)) < int(match.group(1)):
        errors.append(("periode", _("la fin de période précède son début")))
    else:
        row["periode"] = f"{match.group(1)}-{match.group(2)}"
    try:
        if not parse_rome_codes(row.get("codes_rome", "").replace("|", " ")):
            errors.append(("codes_rome", _("aucun code ROME indiqué")))
    except RuleError as exc:
        errors.append(("codes_rome", exc.message))
    return errors
