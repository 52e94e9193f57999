"""The exports: CSV read back by ``csv``, XLSX by openpyxl; pseudonymisation, the access
log, formula injection."""

import csv
import io
import re
import zipfile
from datetime import datetime
from types import SimpleNamespace
from xml.etree import ElementTree

import openpyxl
import pytest
from sqlalchemy import select

from portal.demo.history import PAST
from portal.extensions import db
from portal.operations.models import Operation
from portal.recruitment.models import Trainee, TraineeAccess
from tests.reporting import factories as f
from tests.support import client_as, committed

INJECTED = '=HYPERLINK("http://attaquant.example";"cliquez")'


@pytest.fixture
def site(app):
    with committed(app):
        world = f.Pilot()
        blois = world.operation(f.BLOIS)
        # A title typed to run as a formula in a spreadsheet.
        blois.title = INJECTED
        return SimpleNamespace(blois=blois.id, tours=world.territories["TRS"].id)


def read_csv(response) -> list[dict]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment;" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))


def read_xlsx(response):
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    data = response.get_data()
    response.close()  # the server closes the temporary file once sent
    return openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]


def test_operations_csv(app, site):
    rows = read_csv(client_as(app, f.REGION_ADMIN).get("/pilotage/exports/operations.csv"))
    assert len(rows) == 3
    by_id = {int(row["N°"]): row for row in rows}
    blois = by_id[site.blois]
    assert blois["Opération"] == "'" + INJECTED  # neutralised
    assert blois["Catégorie"] == "Chantier formation"
    assert blois["Étape"] == "Clôturée"
    past = PAST[1]
    assert int(blois["Effectif ciblé"]) == past.target
    assert int(blois["Promesses d'embauche"]) == sum(e[-1] for e in past.employers)
    keeps = ("end_of_training", "early_hire")
    assert int(blois["Stagiaires recruté·es"]) == sum(p.exit.value in keeps for p in past.paths)
    assert blois["Début de session"].count("/") == 2  # JJ/MM/AAAA


def test_operations_xlsx_has_typed_cells(app, site):
    ws = read_xlsx(client_as(app, f.REGION_ADMIN).get("/pilotage/exports/operations.xlsx"))
    header = [cell.value for cell in ws[1]]
    assert header[:3] == ["N°", "Opération", "Étape"]
    assert ws.freeze_panes == "A2"
    rows = list(ws.iter_rows(min_row=2, values_only=False))
    assert len(rows) == 3
    blois = next(row for row in rows if row[0].value == site.blois)
    title = blois[1]
    assert title.value == INJECTED and title.data_type == "s"  # text, never a formula
    assert title.quotePrefix
    start = blois[header.index("Début de session")]
    assert isinstance(start.value, datetime)
    assert start.number_format == "dd/mm/yyyy"
    assert isinstance(blois[header.index("Effectif ciblé")].value, int)
    assert ws.column_dimensions["B"].width >= 40


def test_the_exports_follow_the_filters(app, site):
    browser = client_as(app, f.REGION_ADMIN)
    rows = read_csv(browser.get(f"/pilotage/exports/operations.csv?bassin={site.tours}"))
    assert [row["Opération"] for row in rows] == [f.TOURS]
    promises = read_csv(browser.get(f"/pilotage/exports/promesses.csv?bassin={site.tours}"))
    assert len(promises) == sum(e[-1] for e in PAST[0].employers)
    assert {row["Opération"] for row in promises} == {f.TOURS}


def test_promises_say_their_contract_and_its_duration(app, site):
    """Issue #12: a promise says its contract as employers say it, and « durable » comes
    from the shared rule (a CDD of 12 months is lasting, one of 4 months is not)."""
    rows = read_csv(client_as(app, f.REGION_ADMIN).get("/pilotage/exports/promesses.csv"))
    said = {(row["Employeur"], row["Contrat promis"], row["Emploi durable"]) for row in rows}
    assert said == {
        ("Bâtiment Touraine Rénovation", "CDI", "oui"),
        ("Peintures du Cher et de l'Indre", "CDD de 12 mois", "oui"),
        ("Paysages du Loir-et-Cher", "CDI", "oui"),
        ("Ville de Blois — régie des jardins", "CDD de 4 mois", "non"),
        ("Plasturgie de Beauce", "CDI", "oui"),
        ("Entrepôts du Perche", "CDD de 12 mois", "oui"),
    }


def test_promises_carry_no_personal_data(app, site):
    rows = read_csv(client_as(app, f.OF2).get("/pilotage/exports/promesses.csv"))
    assert rows and set(rows[0]) >= {"Employeur", "Contrat promis", "Résultat"}
    names = {p.last_name for past in PAST for p in past.paths}
    assert not any(name in value for row in rows for value in row.values() for name in names)
    with client_as(app, f.OF2).application.app_context():
        assert db.session.scalar(select(TraineeAccess.id)) is None


def trainees_of(app, email, path="/pilotage/exports/stagiaires.csv") -> list[dict]:
    return read_csv(client_as(app, email).get(path))


def test_the_region_reads_every_trainee(app, site):
    rows = trainees_of(app, f.REGION_ADMIN)
    assert len(rows) == sum(len(p.paths) for p in PAST)
    assert all(row["Nom"] and row["Stagiaire"].startswith("S-") for row in rows)


def test_a_referent_reads_the_others_bassins_pseudonymised(app, site):
    rows = trainees_of(app, f.REFERENT_TOURS, "/pilotage/exports/stagiaires.csv?perimetre=region")
    named = {row["Opération"] for row in rows if row["Nom"]}
    hidden = [row for row in rows if not row["Nom"]]
    assert named == {f.TOURS}
    assert {row["Opération"] for row in hidden} == {"'" + INJECTED, f.CHARTRES}
    assert all(
        not (row["Prénom"] or row["Courriel"] or row["Public"] or row["Année de naissance"])
        for row in hidden
    )


def test_an_employer_reads_its_recruits_without_their_contact(app, site):
    rows = trainees_of(app, f.GARDENS)
    named = [row for row in rows if row["Nom"]]
    assert named and all(
        row["Employeur de la promesse"] == "Paysages du Loir-et-Cher" for row in named
    )
    assert all(not (row["Courriel"] or row["Public"] or row["Année de naissance"]) for row in rows)
    # The other trainees of the operation are there, pseudonymised.
    assert len(rows) == len(PAST[1].paths) > len(named)


def test_a_tutor_of_nobody_reads_pseudonyms_only(app, site):
    rows = trainees_of(app, f.GARDENS_TUTOR)
    assert rows and not any(row["Nom"] for row in rows)


def test_the_pseudonym_is_stable_and_shared_by_both_exports(app, site):
    first = {row["Stagiaire"] for row in trainees_of(app, f.GARDENS)}
    again = {row["Stagiaire"] for row in trainees_of(app, f.GARDENS)}
    followups = {
        row["Stagiaire"] for row in trainees_of(app, f.GARDENS, "/pilotage/exports/suivis.csv")
    }
    assert first == again == followups


def test_an_outsider_exports_nothing(app, site):
    for kind in ("operations", "promesses", "stagiaires", "suivis"):
        assert read_csv(client_as(app, f.OUTSIDER).get(f"/pilotage/exports/{kind}.csv")) == []


@pytest.mark.parametrize("kind", ["stagiaires", "suivis"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_of_trainees_write_the_access_log(app, site, kind, fmt):
    response = client_as(app, f.PARTNER).get(f"/pilotage/exports/{kind}.{fmt}")
    assert response.status_code == 200
    response.get_data()
    response.close()
    with app.app_context():
        [log] = db.session.scalars(select(TraineeAccess)).all()
        chartres = db.session.scalar(select(Operation.id).where(Operation.title == f.CHARTRES))
        ids = db.session.scalars(select(Trainee.id).where(Trainee.operation_id == chartres)).all()
        assert sorted(log.trainee_ids) == sorted(ids)
        assert log.action == {"stagiaires": "export_trainees", "suivis": "export_followups"}[kind]
        assert log.user.email == f.PARTNER


def test_followups_xlsx(app, site):
    ws = read_xlsx(client_as(app, f.REGION_ADMIN).get("/pilotage/exports/suivis.xlsx"))
    header = [cell.value for cell in ws[1]]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 3 * sum(len(p.paths) for p in PAST)
    due = rows[0][header.index("Échéance")]
    assert isinstance(due, datetime)
    lasting = {row[header.index("Emploi durable")] for row in rows}
    assert lasting == {"oui", "non"}


# --- ODS: read back with zipfile and ElementTree ------------------------------------------

ODS_NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
}


def read_ods(response) -> list[list[tuple]]:
    """Each row as (value type, value, text) cells."""
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.oasis.opendocument.spreadsheet"
    data = response.get_data()
    response.close()
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        first = book.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert book.read("mimetype") == b"application/vnd.oasis.opendocument.spreadsheet"
        assert "VerticalSplitPosition" in book.read("settings.xml").decode()  # frozen header
        root = ElementTree.fromstring(book.read("content.xml"))  # noqa: S314 - our own file
    office, table = f"{{{ODS_NS['office']}}}", f"{{{ODS_NS['table']}}}"
    assert not root.findall(f".//*[@{table}formula]")  # never a formula
    rows = []
    for row in root.iterfind(".//table:table-row", ODS_NS):
        cells = []
        for cell in row.iterfind("table:table-cell", ODS_NS):
            kind = cell.get(f"{office}value-type")
            value = cell.get(f"{office}date-value") or cell.get(f"{office}value")
            cells.append((kind, value, "".join(cell.itertext())))
        rows.append(cells)
    return rows


def test_operations_ods_has_typed_cells(app, site):
    rows = read_ods(client_as(app, f.REGION_ADMIN).get("/pilotage/exports/operations.ods"))
    header = [text for _kind, _value, text in rows[0]]
    assert header[:3] == ["N°", "Opération", "Étape"]
    assert len(rows) == 4
    blois = next(row for row in rows[1:] if row[0][1] == str(site.blois))
    assert blois[0][0] == "float"
    assert blois[1] == ("string", None, INJECTED)  # text as typed, never run
    start = blois[header.index("Début de session")]
    assert start[0] == "date" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", start[1])
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", start[2])
    assert blois[header.index("Effectif ciblé")][:2] == ("float", str(PAST[1].target))


def test_trainees_ods_is_pseudonymised_and_logged(app, site):
    rows = read_ods(client_as(app, f.GARDENS_TUTOR).get("/pilotage/exports/stagiaires.ods"))
    header = [text for _kind, _value, text in rows[0]]
    names = {row[header.index("Nom")][2] for row in rows[1:]}
    assert len(rows) - 1 == len(PAST[1].paths) and names == {""}
    with app.app_context():
        assert db.session.scalar(select(TraineeAccess.action)) == "export_trainees"
