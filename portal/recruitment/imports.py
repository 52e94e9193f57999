"""Import candidates from a CSV file: all lines or none, with a French report per line.

The header is in French, in any order and case, with or without accents:
nom;prénom;email;téléphone;année de naissance;prescripteur;public. UTF-8 with or without
BOM (Windows-1252 accepted too, as older Excel exports it); ``;`` or ``,`` separator.
Prescribers are named as in the portal; publics by their French label.
"""

import csv
import io
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import Organisation, OrgKind, User
from portal.core.errors import RuleError
from portal.core.text import clean_text, comparison_key
from portal.extensions import db
from portal.operations.models import Operation
from portal.operations.needs import TARGET_PUBLICS
from portal.recruitment import services

# Column (as shown in the template and the report) → field of the trainee.
COLUMNS = {
    "nom": "last_name",
    "prénom": "first_name",
    "email": "email",
    "téléphone": "phone",
    "année de naissance": "birth_year",
    "prescripteur": "prescriber_id",
    "public": "public_category",
}
REQUIRED_COLUMNS = ("nom", "prénom")
COLUMN_OF = {name: column for column, name in COLUMNS.items()}
EXAMPLE_ROWS = [
    ["Moreau", "Inès", "ines.moreau@example.fr", "06 12 34 56 78", "1998", "", ""],
    ["Garnier", "Yanis", "", "", "2003", "", ""],
]


def _key(text: str) -> str:
    """Lower case, no accents, single spaces: « Année  de naissance » → « annee de naissance »."""
    return comparison_key((text or "").replace("_", " ").replace("-", " "))


HEADER_KEYS = {_key(column): column for column in COLUMNS}
HEADER_KEYS.update({"e mail": "email", "courriel": "email", "telephone": "téléphone"})


@dataclass
class ImportReport:
    """The outcome: trainees created, or every problem found (nothing saved)."""

    created: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def bad_lines(self) -> int:
        return len({line for line, _column, _reason in self.errors})


class _Semicolon(csv.excel):
    """The dialect of French spreadsheets, used when the header does not tell."""

    delimiter = ";"


def _decode(raw: bytes) -> str:
    """The file's text, cleaned like a typed multi-line field (see portal/core/text.py)."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return clean_text(raw.decode(encoding), multiline=True)
        except UnicodeDecodeError:
            continue
    raise RuleError(_("Le fichier n'est ni en UTF-8 ni en Windows-1252."))


def _reader(text: str) -> csv.reader:
    first = text.splitlines()[0] if text else ""
    try:
        sniffed = csv.Sniffer().sniff(first, delimiters=";,")
    except csv.Error:
        sniffed = _Semicolon
    # Strict: an unclosed quote is an error, not a field swallowing the rest of the file.
    # A subclass, so that the module-wide dialects are never changed.
    dialect = type("Strict", (sniffed,), {"strict": True})
    return csv.reader(io.StringIO(text, newline=""), dialect=dialect)


def _lookups() -> tuple[dict, dict]:
    partners = db.session.scalars(select(Organisation).where(Organisation.kind == OrgKind.PARTNER))
    by_name = {_key(p.name): p.id for p in partners}
    publics = {_key(str(label)): key for key, label in TARGET_PUBLICS.items()}
    publics.update({key: key for key in TARGET_PUBLICS})
    return by_name, publics


def _parse(cells: dict, prescribers: dict, publics: dict) -> tuple[dict, list[tuple[str, str]]]:
    """One line's values as the service takes them, and the format problems found."""
    problems = []
    row = {name: cells.get(column, "").strip() for column, name in COLUMNS.items()}
    if row["email"]:
        try:
            row["email"] = validate_email(
                row["email"], check_deliverability=False, test_environment=True
            ).normalized.lower()
        except EmailNotValidError:
            problems.append(("email", _("adresse électronique invalide")))
    year = row["birth_year"]
    row["birth_year"] = None
    if year:
        if not (year.isdigit() and len(year) == 4):
            problems.append(("birth_year", _("année attendue sur quatre chiffres (ex. 1998)")))
        else:
            row["birth_year"] = int(year)
    name = row["prescriber_id"]
    row["prescriber_id"] = None
    if name:
        row["prescriber_id"] = prescribers.get(_key(name))
        if row["prescriber_id"] is None:
            problems.append(
                ("prescriber_id", _("aucun partenaire « %(name)s » dans le portail", name=name))
            )
    public = row["public_category"]
    row["public_category"] = ""
    if public:
        row["public_category"] = publics.get(_key(public), "")
        if not row["public_category"]:
            problems.append(("public_category", _("public inconnu « %(v)s »", v=public)))
    return row, problems


def import_trainees_csv(
    raw: bytes, operation: Operation, *, by: User, org: Organisation
) -> ImportReport:
    """Record the candidates of a CSV file; any bad line refuses the whole file."""
    services.check_can_record(operation, org)
    report = ImportReport()
    reader = _reader(_decode(raw))
    try:
        header = next(reader, [])
    except csv.Error:
        header = []
    columns = [HEADER_KEYS.get(_key(h)) for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        report.errors.append((1, ", ".join(missing), _("colonne(s) absente(s) de l'en-tête")))
        return report
    prescribers, publics = _lookups()
    rows, lines = [], []
    try:
        for cells in reader:
            line = reader.line_num  # physical lines: blank lines do not shift the numbers
            if not any(c.strip() for c in cells):
                continue  # a line of separators only, as spreadsheets export empty rows
            if len(cells) > len(columns):
                report.errors.append((line, "", _("plus de colonnes que dans l'en-tête")))
                continue
            values = {col: cell for col, cell in zip(columns, cells, strict=False) if col}
            row, problems = _parse(values, prescribers, publics)
            report.errors.extend((line, COLUMN_OF[name], reason) for name, reason in problems)
            rows.append(row)
            lines.append(line)
    except csv.Error:
        report.errors.append((reader.line_num, "", _("ligne illisible (guillemets mal fermés ?)")))
    if not rows and not report.errors:
        report.errors.append((2, "", _("le fichier ne contient aucune ligne de candidat·e")))
    if len(rows) > services.MAX_ROWS:
        report.errors.append(
            (
                lines[services.MAX_ROWS],
                "",
                _("%(n)d lignes au plus par fichier", n=services.MAX_ROWS),
            )
        )
    # The business rules (names, years, duplicates), except where a cell did not read.
    unreadable = {(line, column) for line, column, _reason in report.errors}
    for index, problems in services.check_rows(operation, rows).items():
        report.errors.extend(
            (lines[index], COLUMN_OF[name], reason.rstrip("."))
            for name, reason in problems
            if (lines[index], COLUMN_OF[name]) not in unreadable
        )
    if report.errors:
        report.errors.sort(key=lambda error: error[0])
        return report
    services.add_trainees(operation, rows, by=by, org=org, source="csv")
    report.created = len(rows)
    return report


def template_csv() -> bytes:
    """The downloadable example: the header and two fictitious lines, UTF-8 with BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(list(COLUMNS))
    writer.writerows(EXAMPLE_ROWS)
    return buffer.getvalue().encode("utf-8-sig")
