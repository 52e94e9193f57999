"""The convention as DOCX: built from the frozen version and its evidence (title page,
parties, articles, promises, annex, signatures, evidence page, footers), byte-identical
for one state of the version, recorded once per distinct file, every download audited,
and only for the operation's participants."""

import re
import zipfile
from datetime import UTC
from io import BytesIO

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.conventions import services as conventions
from portal.conventions.documents import convention_docx, filename
from portal.conventions.evidence_page import hash_cell
from portal.conventions.models import ConventionVersion, IssuedDocument
from portal.core.fingerprints import NBSP, blocks
from portal.extensions import db
from portal.operations import lifecycle
from portal.operations.models import Status
from tests.conventions.factories import make_convention_ready, sign_all, sign_as
from tests.conventions.helpers_documents import (
    DOCX_MIMETYPE,
    all_text,
    read_docx,
    submit_convention,
    table_rows,
)
from tests.operations.factories import EMPLOYER, OF_A, OF_B
from tests.support import committed, count, login_as, snapshot, user_with

# Two lines of four blocks of 8 hex digits, the blocks joined by no-break spaces.
HASH_LINES = r"[0-9a-f]{8}(\u00a0[0-9a-f]{8}){3}\n[0-9a-f]{8}(\u00a0[0-9a-f]{8}){3}"

# --- Service level ------------------------------------------------------------------------


def test_the_same_version_gives_the_same_bytes_with_fixed_dates(ctx):
    ready = make_convention_ready()
    version = ready.submit()
    first, second = convention_docx(version), convention_docx(version)
    assert first == second
    stamp = version.submitted_at.timetuple()[:6]
    stamp = (*stamp[:5], stamp[5] - stamp[5] % 2)  # zip times count in 2-second steps
    with zipfile.ZipFile(BytesIO(first)) as package:
        infos = package.infolist()
    assert {info.date_time for info in infos} == {stamp}
    assert infos[0].filename == "[Content_Types].xml"
    assert [i.filename for i in infos[1:]] == sorted(i.filename for i in infos[1:])
    properties = read_docx(first).core_properties
    submitted = version.submitted_at.replace(microsecond=0, tzinfo=UTC)
    assert properties.created == properties.modified == submitted
    assert properties.author == properties.last_modified_by == "Portail DEFI"
    assert properties.revision == 1
    assert properties.comments == version.sha256


def test_a_signature_gives_another_file(ctx):
    ready = make_convention_ready()
    version = ready.submit()
    before = convention_docx(version)
    user, org = ready.carrier
    sign_as(version, user, org)
    assert convention_docx(version) != before


def test_the_title_page_parties_promises_and_articles(ctx):
    ready = make_convention_ready()
    version = ready.submit()
    document = read_docx(convention_docx(version))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[0] == "Région Centre-Val de Loire"
    assert [p.text for p in document.paragraphs if p.style.name == "Title"] == [
        "Convention de partenariat DEFI"
    ]
    assert ready.operation.title in [
        p.text for p in document.paragraphs if p.style.name == "Subtitle"
    ]
    facts = dict(table_rows(document.tables[0])[1:])
    assert facts["Référence"] == ready.convention.reference
    assert facts["Version"] == "1"
    # Blocks of 8 joined by no-break spaces, four a line: no line breaks inside a block.
    assert facts["Empreinte SHA-256 de la version"] == hash_cell(version.sha256)
    assert re.fullmatch(HASH_LINES, facts["Empreinte SHA-256 de la version"])
    assert facts["État de la version"] == "En cours de signature"
    assert facts["Bassin d'emploi"] == "Tours"
    assert facts["Heures prévues"] == "420 h en centre, 140 h en entreprise, 560 h au total"
    parties = table_rows(document.tables[1])
    assert parties[0] == ["Partie", "SIRET", "Rôle"]
    assert {row[0] for row in parties[1:]} == {
        "Région Centre-Val de Loire", "Organisme A", "Entreprise E", "Partenaire P",
    }  # fmt: skip
    promises = table_rows(document.tables[2])
    assert promises[1][:5] == ["Entreprise E", "Agent·e d'entretien", "", "3", "CDI"]
    assert promises[-1][:4] == ["Total", "", "", "3"]
    snapshot = conventions.snapshot_of(version)
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    articles = [h for h in headings if h.startswith("Article ")]
    assert articles == [
        f"Article {n} — {clause['title']}" for n, clause in enumerate(snapshot["clauses"], 1)
    ]
    first_clause = snapshot["clauses"][0]["content"]["text"].splitlines()[0]
    assert first_clause in paragraphs


def test_the_annex_renders_the_design_sections_of_the_snapshot(ctx):
    ready = make_convention_ready()
    version = ready.submit()
    document = read_docx(convention_docx(version))
    snapshot = conventions.snapshot_of(version)
    annex = [p.text for p in document.paragraphs if p.style.name == "Heading 2"]
    assert annex[: len(snapshot["design"])] == [s["title"] for s in snapshot["design"]]
    assert "Nettoyer" in [
        p.text.split(" (")[0] for p in document.paragraphs if p.style.name == "List Bullet"
    ]
    modules = next(t for t in document.tables if table_rows(t)[0][0] == "Module")
    assert table_rows(modules)[1][:3] == ["Techniques de nettoyage", "420 h", "Centre de formation"]
    rhythm = next(t for t in document.tables if table_rows(t)[0][0] == "Période")
    assert table_rows(rhythm)[-1] == ["Total général", "", "", "560 h", ""]


def test_signature_table_and_evidence_page(ctx):
    ready = make_convention_ready()
    version = ready.submit()
    user, org = ready.carrier
    signature = sign_as(version, user, org)
    document = read_docx(convention_docx(version))
    signatures = next(
        t
        for t in document.tables
        if table_rows(t)[0] == ["Partie", "Signataire", "Qualité", "Date"]
    )
    rows = {row[0]: row for row in table_rows(signatures)[1:]}
    assert rows["Organisme A"][1:3] == [user.full_name, "directrice"]
    assert re.fullmatch(r"\d{1,2} \w+ \d{4} à \d{2}:\d{2}:\d{2}", rows["Organisme A"][3])
    assert rows["Entreprise E"][1:] == ["—", "—", "en attente"]
    assert rows["Région Centre-Val de Loire"][3] == "en attente de validation"
    text = all_text(document)
    assert "Dossier de preuve" in [p.text for p in document.paragraphs]
    assert "Signature d'Organisme A" in [p.text for p in document.paragraphs]
    evidence = next(
        t for t in document.tables if table_rows(t)[1:2] == [["Signataire", user.full_name]]
    )
    facts = dict(table_rows(evidence)[1:])
    assert facts["Adresse IP"] == "192.0.2.10"
    assert facts["Navigateur (user agent)"] == "pytest-browser/1.0"
    assert facts["Authentification"] == "mot de passe saisi de nouveau au moment de signer"
    assert facts["Consentement exprimé"] == signature.consent_text
    assert facts["Empreinte SHA-256 signée"] == hash_cell(version.sha256)
    assert facts["Date et heure (UTC)"] == signature.signed_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    assert " à " in facts["Date et heure (Paris)"]
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "ConventionVersion", AuditEvent.object_id == version.id)
        .order_by(AuditEvent.seq)
    ).all()
    assert [e.action for e in events] == ["convention.submitted", "convention.signed"]
    journal = next(t for t in document.tables if table_rows(t)[0][-1] == "Empreinte de chaînage")
    assert [(r[0], r[2], r[5]) for r in table_rows(journal)[1:]] == [
        (str(events[0].seq), "Soumission aux signatures", hash_cell(events[0].hash, 2)),
        (str(events[1].seq), "Signature", hash_cell(events[1].hash, 2)),
    ]
    chain_cell = journal.rows[1].cells[5].paragraphs[0].runs[0]
    assert (chain_cell.font.name, chain_cell.font.size.pt) == ("Courier New", 8)
    assert "1366 et 1367" in text


def test_every_page_footer_carries_reference_version_and_short_hash(ctx):
    ready = make_convention_ready()
    version = ready.submit()
    document = read_docx(convention_docx(version))
    footer = document.sections[0].footer.paragraphs[0]
    assert footer.text.startswith(
        f"Convention {ready.convention.reference} — v1 — empreinte "
        f"{NBSP.join(blocks(version.sha256[:12]))} — page "
    )
    fields = footer._p.xpath("./w:fldSimple/@w:instr")
    assert fields == ["PAGE", "NUMPAGES"]


def test_a_voided_signature_is_marked_annulee_with_why(ctx):
    ready = make_convention_ready()
    first = ready.submit()
    user, org = ready.carrier
    sign_as(first, user, org)
    ready.edit_clause("Un objet reformulé.")
    ready.submit()
    document = read_docx(convention_docx(first))
    paragraphs = [p.text for p in document.paragraphs]
    assert "Signature d'Organisme A — annulée" in paragraphs
    evidence = next(
        t for t in document.tables if table_rows(t)[1:2] == [["Signataire", user.full_name]]
    )
    assert dict(table_rows(evidence)[1:])["Annulation"].endswith(": Remplacée par la version 2.")
    signatures = next(
        t
        for t in document.tables
        if table_rows(t)[0] == ["Partie", "Signataire", "Qualité", "Date"]
    )
    assert table_rows(signatures)[1][3] == "annulée"
    facts = dict(table_rows(document.tables[0])[1:])
    assert facts["État de la version"].startswith("Annulée le ")


def test_an_amendment_says_so_on_its_title_page(ctx):
    ready = make_convention_ready()
    first = ready.submit()
    sign_all(ready, first)
    ready.validate(first)
    user, org = ready.carrier
    lifecycle.advance(ready.operation, Status.RECRUITMENT, by=user, org=org)
    ready.edit_clause("Le comité de pilotage se réunit chaque mois.")
    amendment = ready.submit()
    assert amendment.is_amendment
    document = read_docx(convention_docx(amendment))
    assert "Avenant à la version 1" in [p.text for p in document.paragraphs]
    assert dict(table_rows(document.tables[0])[1:])["Version"] == "2 (avenant)"
    validated = dict(table_rows(read_docx(convention_docx(first)).tables[0])[1:])
    assert validated["État de la version"].startswith("Validée par la Région le ")


# --- Routes -------------------------------------------------------------------------------


@pytest.fixture
def submitted(app):
    return submit_convention(app)


def test_download_is_a_named_docx_recorded_once_and_audited_each_time(app, client, submitted):
    login_as(client, EMPLOYER)  # any participant
    first = client.get(submitted.url())
    assert first.status_code == 200
    assert first.mimetype == DOCX_MIMETYPE
    assert first.headers["Content-Disposition"] == (
        f"attachment; filename=convention-{submitted.reference}-v1.docx"
    )
    assert first.headers["Cache-Control"] == "no-store"
    second = client.get(submitted.url())
    assert second.data == first.data  # downloads do not change the next copy
    with app.app_context():
        issued = db.session.scalars(select(IssuedDocument)).all()
        assert len(issued) == 1
        assert issued[0].kind == "docx"
        assert issued[0].size == len(first.data)
        assert issued[0].signatures == 0
        assert issued[0].generated_by_id == user_with(EMPLOYER).id
        downloads = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "convention.downloaded")
        ).all()
    assert len(downloads) == 2
    assert downloads[0].object_type == "ConventionVersion"
    assert downloads[0].object_id == submitted.version_id
    assert downloads[0].detail == {"number": 1, "kind": "docx", "sha256": issued[0].sha256}


def test_after_a_signature_the_new_file_is_recorded_beside_the_first(app, client, submitted):
    login_as(client, OF_A)
    before = client.get(submitted.url()).data
    with committed(app):
        version = db.session.get(ConventionVersion, submitted.version_id)
        sign_as(version, user_with(OF_A), version.submitted_org)
    after = client.get(submitted.url()).data
    assert after != before  # never the copy kept for the state before the signature
    with app.app_context():
        issued = db.session.scalars(select(IssuedDocument).order_by(IssuedDocument.id)).all()
    assert [(d.signatures, d.size) for d in issued] == [(0, len(before)), (1, len(after))]


@pytest.mark.parametrize("kind", ["docx", "pdf"])
def test_outsiders_get_404_and_nothing_is_written(app, client, submitted, kind):
    login_as(client, OF_B)
    assert client.get(submitted.url(kind)).status_code == 404
    assert count(app, IssuedDocument) == 0
    assert count(app, AuditEvent, AuditEvent.action == "convention.downloaded") == 0


@pytest.mark.parametrize("kind", ["docx", "pdf"])
def test_an_unknown_version_is_404(app, client, submitted, kind):
    login_as(client, OF_A)
    assert client.get(submitted.url(kind, number=2)).status_code == 404


def test_anonymous_visitors_are_sent_to_login(client, submitted):
    response = client.get(submitted.url())
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion")


def test_filename_names_reference_and_version(ctx):
    ready = make_convention_ready()
    version = ready.submit()
    assert filename(version, "pdf") == f"convention-{ready.convention.reference}-v1.pdf"


def test_a_download_writes_only_evidence_tables(app, client, submitted):
    # The route inventory allows a GET to write the audit log and the issued documents only.
    login_as(client, OF_A)
    before = snapshot(app)
    assert client.get(submitted.url()).status_code == 200
    assert snapshot(app) == before
    assert count(app, IssuedDocument) == 1


def test_control_characters_stored_before_cleaning_do_not_break_the_docx(ctx):
    """Issue #11 M7: a control character stored in a title, a clause or a signer's capacity
    made python-docx raise, so the frozen version's DOCX (and PDF) answered 500 forever."""
    ready = make_convention_ready()
    ready.operation.title = "Préparateur\x01 de commandes\u2028Saran"
    ready.edit_clause("Objet\x0b de la convention.\nSuite\x1b.")
    version = ready.submit()
    user, org = ready.carrier
    sign_as(version, user, org).capacity = "gérant\x07"
    db.session.flush()
    document = read_docx(convention_docx(version))
    text = all_text(document)
    assert "Préparateur de commandes\nSaran" in text
    assert "Objet de la convention." in text and "Suite." in text
    assert "gérant" in text
    assert document.core_properties.subject == "Préparateur de commandes\nSaran"
