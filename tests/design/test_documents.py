"""The "Fiche de co-conception" exported as DOCX: served as a French-named attachment to
participants only, and a valid document read back with python-docx (header, every
section in order, skills as a list, modules and rhythm as tables with totals)."""

import subprocess
from datetime import date
from io import BytesIO

import pytest
from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from lxml import etree

from portal.design.content import module_item, period_item, skill_item
from portal.design.documents import _table, style_id
from portal.design.models import SectionKey
from portal.design.services import new_id, set_validated
from portal.extensions import db
from portal.operations.models import Operation, Status
from tests.design.factories import base_url, save_as, section_of
from tests.operations.factories import EMPLOYER, OF_A, OF_B, PARTNER, report, set_status
from tests.support import committed, login_as, org_named, require_soffice, user_with

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TITLE = "Agent·e de propreté et d'hygiène"  # the operation reported by tests.operations


@pytest.fixture
def filled_op(app, design_op) -> int:
    """The design of ``design_op`` with a header, text, skills, modules and a rhythm."""
    with committed(app):
        operation = db.session.get(Operation, design_op)
        operation.session_start, operation.session_end = date(2025, 9, 1), date(2025, 12, 19)
        operation.target_headcount = 10
        operation.hours_centre, operation.hours_company = 420, 140
        operation.certification_code = "RNCP35756"
        operation.certification_title = "Agent d'entretien du bâtiment"
        employer_id = org_named("Entreprise E").id
    save_as(app, design_op, {"text": "Former dix agents.\nLes mener à l'emploi durable."})
    skills = [
        skill_item(new_id(), {"label": "Utiliser une autolaveuse", "block_code": "bc01",
                              "employer_id": employer_id}),
        skill_item(new_id(), {"label": "Respecter les protocoles d'hygiène"}),
    ]  # fmt: skip
    save_as(app, design_op, {"items": skills}, key="skills")
    modules = [
        module_item(new_id(), {"title": "Techniques de nettoyage", "hours": 350,
                               "place": "centre", "skill_ids": [skills[1]["id"]]}),
        module_item(new_id(), {"title": "Autolaveuse sur plateau", "hours": 70,
                               "place": "platform", "employer_id": employer_id,
                               "skill_ids": [skills[0]["id"]], "trainer": "Chef d'équipe E"}),
    ]  # fmt: skip
    save_as(app, design_op, {"items": modules}, key="modules")
    periods = [
        period_item(new_id(), {"kind": "centre", "start": "2025-09-01", "end": "2025-10-17",
                               "hours": 300}),
        period_item(new_id(), {"kind": "immersion", "start": "2025-10-20", "end": "2025-10-31",
                               "hours": 70, "employer_id": employer_id, "label": "Stage 1"}),
        period_item(new_id(), {"kind": "platform", "start": "2025-11-03", "end": "2025-11-07",
                               "hours": 70, "employer_id": employer_id}),
        period_item(new_id(), {"kind": "centre", "start": "2025-11-10", "end": "2025-12-19",
                               "hours": 120}),
    ]  # fmt: skip
    save_as(app, design_op, {"items": list(reversed(periods))}, key="rhythm")
    with committed(app):
        section = section_of(design_op, "objectives")
        set_validated(section, True, by=user_with(OF_A), org=org_named("Organisme A"))
    return design_op


def export(client, operation_id):
    return client.get(f"{base_url(operation_id)}/fiche.docx")


def read(response) -> Document:
    return Document(BytesIO(response.data))


def rows(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def styled(document, style: str) -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name == style]


def test_export_is_a_french_named_docx_attachment(app, client, filled_op):
    login_as(client, EMPLOYER)  # any participant, not only the organisme porteur
    response = export(client, filled_op)
    assert response.status_code == 200
    assert response.mimetype == DOCX
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=fiche-co-conception-{filled_op}.docx"
    )
    assert response.data[:2] == b"PK"  # a zip package
    properties = read(response).core_properties
    assert properties.title == f"Fiche de co-conception — {TITLE}"
    assert properties.author == "Portail DEFI"
    assert properties.language == "fr-FR"


def test_export_has_the_operation_header_and_every_section_in_order(app, client, filled_op):
    login_as(client, OF_A)
    document = read(export(client, filled_op))
    assert styled(document, "Title") == ["Fiche de co-conception"]
    assert styled(document, "Subtitle") == [TITLE]
    assert styled(document, "Heading 1") == [key.title for key in SectionKey.design_keys()]
    header = dict(rows(document.tables[0])[1:])
    assert header["Organisme de formation porteur"] == "Organisme A"
    assert header["Bassin d'emploi"] == "Tours"
    assert header["Dates de la session"] == "du 1 septembre 2025 au 19 décembre 2025"
    assert header["Effectif ciblé"] == "10"
    assert header["Heures prévues"] == "420 h en centre, 140 h en entreprise, 560 h au total"
    assert header["Certification visée"] == "RNCP35756 — Agent d'entretien du bâtiment"
    assert header["Approbation de la Région"] == "pas encore approuvée"
    texts = [p.text for p in document.paragraphs]
    objectives = texts.index("Objectifs de la formation")
    assert texts[objectives + 1].startswith("Section validée le ")
    assert texts[objectives + 2 : objectives + 4] == [
        "Former dix agents.",
        "Les mener à l'emploi durable.",
    ]
    means = texts.index("Moyens mobilisés")
    assert texts[means + 1] == "Non renseigné"


def test_export_lists_skills_and_tabulates_modules_and_rhythm(app, client, filled_op):
    login_as(client, OF_A)
    document = read(export(client, filled_op))
    assert styled(document, "List Bullet") == [
        "Utiliser une autolaveuse (bloc BC01, demandée par Entreprise E)",
        "Respecter les protocoles d'hygiène",
    ]
    _header, modules, rhythm = document.tables
    assert rows(modules) == [
        ["Module", "Heures", "Lieu", "Compétences développées", "Intervenant"],
        ["Techniques de nettoyage", "350 h", "Centre de formation",
         "Respecter les protocoles d'hygiène", ""],
        ["Autolaveuse sur plateau", "70 h", "Plateau technique de l'entreprise — Entreprise E",
         "Utiliser une autolaveuse", "Chef d'équipe E"],
        ["Total", "420 h", "", "", ""],
    ]  # fmt: skip
    assert rows(rhythm) == [
        ["Période", "Du", "Au", "Heures", "Entreprise"],
        ["Centre de formation", "1 septembre 2025", "17 octobre 2025", "300 h", ""],
        ["Immersion en entreprise — Stage 1", "20 octobre 2025", "31 octobre 2025", "70 h",
         "Entreprise E"],
        ["Plateau technique de l'entreprise", "3 novembre 2025", "7 novembre 2025", "70 h",
         "Entreprise E"],
        ["Centre de formation", "10 novembre 2025", "19 décembre 2025", "120 h", ""],
        ["Total : Centre de formation", "", "", "420 h", ""],
        ["Total : Immersion en entreprise", "", "", "70 h", ""],
        ["Total : Plateau technique de l'entreprise", "", "", "70 h", ""],
        ["Total général", "", "", "560 h", ""],
    ]  # fmt: skip
    for table in (modules, rhythm):
        header_row = table.rows[0]._tr
        assert header_row.trPr.find(qn("w:tblHeader")) is not None  # repeats on each page
        assert table.style.name == "Table Grid"
    assert "Points de cohérence à vérifier :" not in [p.text for p in document.paragraphs]


def test_export_flags_rhythm_inconsistencies(app, client, design_op):
    period = period_item(
        new_id(), {"kind": "centre", "start": "2025-09-01", "end": "2025-09-30", "hours": 100}
    )
    save_as(app, design_op, {"items": [period]}, key="rhythm")
    login_as(client, OF_A)
    document = read(export(client, design_op))
    texts = [p.text for p in document.paragraphs]
    assert "Points de cohérence à vérifier :" in texts
    assert (
        "Les heures prévues de l'opération (centre, entreprise) ne sont pas renseignées."
        in styled(document, "List Bullet")
    )
    assert dict(rows(document.tables[0])[1:])["Dates de la session"] == "Non renseigné"


def test_control_characters_stored_before_cleaning_do_not_break_the_export(app, client, filled_op):
    """Issue #11 M7: a control character stored in a title or a section (typed before forms
    cleaned text) made python-docx raise: the export answered 500."""
    save_as(app, filled_op, {"text": "Former\x01 dix agents.\x0b\nSuite\ufffe."})
    with committed(app):
        db.session.get(Operation, filled_op).title = "Agent\x02 de propreté"
    login_as(client, OF_A)
    response = export(client, filled_op)
    assert response.status_code == 200
    document = read(response)
    assert styled(document, "Subtitle") == ["Agent de propreté"]
    assert "Former dix agents." in [p.text for p in document.paragraphs]
    assert document.core_properties.title == "Fiche de co-conception — Agent de propreté"


@pytest.mark.parametrize("outsider", [OF_B, PARTNER])
def test_outsiders_get_404(app, client, design_op, outsider):
    login_as(client, outsider)
    assert export(client, design_op).status_code == 404


def test_no_export_before_the_design_starts(app, client, market):
    operation_id = report(app)
    set_status(app, operation_id, Status.CO_DESIGN)
    login_as(client, OF_A)
    assert export(client, operation_id).status_code == 404


def test_the_design_page_links_to_the_export(app, client, design_op):
    login_as(client, OF_A)
    page = client.get(base_url(design_op)).get_data(as_text=True)
    assert '<div class="design-toolbar">' in page
    assert f'href="{base_url(design_op)}/fiche.docx"' in page


def test_libreoffice_opens_the_export_and_reads_its_text(app, client, filled_op, tmp_path):
    soffice = require_soffice()
    login_as(client, OF_A)
    source = tmp_path / "fiche.docx"
    source.write_bytes(export(client, filled_op).data)
    profile = tmp_path / "lo-profile"  # one profile per conversion: runs never share one
    for target in ("pdf", "txt:Text"):
        subprocess.run(  # noqa: S603 - a fixed command on our own file
            [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless",
             "--convert-to", target, "--outdir", str(tmp_path), str(source)],
            check=True,
            timeout=180,
            capture_output=True,
        )  # fmt: skip
    assert (tmp_path / "fiche.pdf").read_bytes()[:5] == b"%PDF-"
    text = (tmp_path / "fiche.txt").read_text(encoding="utf-8-sig")
    assert "Fiche de co-conception" in text
    with app.app_context():
        title = db.session.get(Operation, filled_op).title
    assert title in text


def _reference_table(document, headers, rows, footer):
    """The tables as python-docx's own API wrote them before the fast path (issue #16)."""
    table = document.add_table(rows=1, cols=len(headers))
    table._tbl.tblStyle_val = style_id("Table Grid", WD_STYLE_TYPE.TABLE)
    header = table.rows[0]
    header._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    for cell, text in zip(header.cells, headers, strict=True):
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
    for values in rows:
        for cell, text in zip(table.add_row().cells, values, strict=True):
            cell.text = text
    for values in footer:
        for cell, text in zip(table.add_row().cells, values, strict=True):
            cell.text = ""
            cell.paragraphs[0].add_run(text).bold = True
    return table


def test_fast_table_rows_are_the_xml_python_docx_writes(app):
    """The DOCX tables are built by copying their first row (a convention's DOCX 188 → 124
    ms): the XML must be python-docx's own, byte for byte — texts with line breaks, tabs,
    empty cells, several body and footer rows, and no row at all."""
    headers = ["Rubrique", "Valeur", "Détail"]
    rows = [["a", "b", "c"], ["ligne 1\nligne 2", "", "tab\there"], ["x", "y " * 40, "z"]]
    footer = [["Total", "12 h", ""], ["", "fin", "—"]]
    for body, feet in ((rows, footer), (rows[:1], []), ([], footer), ([], [])):
        with app.app_context():
            fast, reference = Document(), Document()
            got = _table(fast, headers, body, feet)
            expected = _reference_table(reference, headers, body, feet)
        assert etree.tostring(got._tbl) == etree.tostring(expected._tbl)
        assert len(got.rows) == 1 + len(body) + len(feet)
        assert [c.text for c in got.rows[-1].cells] == ([*body, *feet] or [headers])[-1]
