"""« Pour aller plus loin » (issue #12): every logged-in person reads and downloads the
Région's reference documents; only the Région's admins publish (PDF or DOCX, checked by
their bytes, size-limited, stored with a random name) and remove them."""

import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.resources import services
from portal.resources.models import DocumentKind, ReferenceDocument
from tests.support import HTMX, login_as, snapshot

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
URL = "/pour-aller-plus-loin"


def text(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'")


def docx_bytes() -> bytes:
    document = Document()
    document.add_paragraph("Convention type DEFI")
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def upload(client, data: bytes, filename: str, title="Convention type", **kwargs):
    return client.post(
        URL,
        data={"title": title, "description": "", "file": (BytesIO(data), filename)},
        content_type="multipart/form-data",
        **kwargs,
    )


def documents(app) -> list[ReferenceDocument]:
    with app.app_context():
        found = db.session.scalars(select(ReferenceDocument)).all()
        db.session.expunge_all()
        return found


def stored(app, document: ReferenceDocument) -> Path:
    with app.app_context():
        return services.storage_dir() / document.stored_name


def test_the_region_admin_publishes_a_pdf_in_place(app, client, world):
    login_as(client, world.emails["region_admin"])
    page = text(client.get(URL))
    assert "Aucun document publié pour l'instant." in page and "Publier un document" in page
    response = upload(client, PDF, "../../etc/Convention type.pdf", headers=HTMX)
    assert response.status_code == 200
    fragment = text(response)
    assert fragment.lstrip().startswith('<div id="documents"')
    assert "Document « Convention type » publié." in fragment
    [document] = documents(app)
    assert document.filename == "Convention type.pdf"  # no path kept from the browser
    assert document.stored_name.endswith(".pdf") and "Convention" not in document.stored_name
    assert stored(app, document).read_bytes() == PDF
    with app.app_context():
        assert db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "reference_document.added")
        )


def test_a_docx_without_js_redirects(app, client, world):
    login_as(client, world.emails["region_admin"])
    response = upload(client, docx_bytes(), "fiche.docx", title="Fiche action DEFI")
    assert response.status_code == 303
    assert [d.kind.value for d in documents(app)] == ["docx"]


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"Bonjour, je ne suis pas un PDF.", "faux.pdf", "ni un PDF ni un document Word"),
        (b"PK\x03\x04pas un zip", "faux.docx", "ni un PDF ni un document Word"),
        (b"MZ\x90\x00 executable", "plaquette.pdf", "ni un PDF ni un document Word"),
    ],
)
def test_the_type_is_checked_by_the_bytes(app, client, world, data, filename, message):
    login_as(client, world.emails["region_admin"])
    response = upload(client, data, filename, headers=HTMX)
    assert response.status_code == 422
    assert message in text(response)
    assert documents(app) == []


def test_the_size_is_limited_and_the_form_checked(app, client, world):
    login_as(client, world.emails["region_admin"])
    app.config["REFERENCE_DOCUMENT_MAX_BYTES"] = 64
    try:
        response = upload(client, PDF + b"x" * 100, "gros.pdf", headers=HTMX)
    finally:
        app.config["REFERENCE_DOCUMENT_MAX_BYTES"] = 4 * 1024 * 1024
    assert response.status_code == 422
    assert "Le fichier dépasse 0 Mo." in text(response)
    response = client.post(URL, data={"title": ""}, headers=HTMX)
    assert response.status_code == 422
    page = text(response)
    assert "Ce champ est obligatoire." in page and "Choisissez le fichier à publier." in page
    assert documents(app) == []


def test_everyone_downloads_as_an_attachment(app, client, other_client, world):
    login_as(client, world.emails["region_admin"])
    upload(client, PDF, "convention.pdf")
    [document] = documents(app)
    login_as(other_client, world.emails["employer_admin"])
    page = text(other_client.get(URL))
    assert "Convention type" in page and "Publier un document" not in page
    with other_client.get(f"{URL}/{document.id}/fichier") as response:  # closes the file
        assert response.status_code == 200
        assert response.data == PDF
        assert response.mimetype == "application/pdf"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert "convention.pdf" in response.headers["Content-Disposition"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert other_client.get(f"{URL}/999999/fichier").status_code == 404


@pytest.mark.parametrize("person", ["region_member", "a_admin", "employer_admin", "partner_admin"])
def test_only_the_region_admins_publish_and_remove(app, client, other_client, world, person):
    login_as(client, world.emails["region_admin"])
    upload(client, PDF, "convention.pdf")
    [document] = documents(app)
    login_as(other_client, world.emails[person])
    assert upload(other_client, PDF, "autre.pdf").status_code == 403
    assert other_client.post(f"{URL}/{document.id}/suppression").status_code == 403
    assert len(documents(app)) == 1


def test_removing_a_document_deletes_its_file(app, client, world):
    login_as(client, world.emails["region_admin"])
    upload(client, PDF, "convention.pdf")
    [document] = documents(app)
    path = stored(app, document)
    response = client.post(f"{URL}/{document.id}/suppression", headers=HTMX)
    assert response.status_code == 200
    assert "Document « Convention type » retiré." in text(response)
    assert documents(app) == [] and not path.exists()
    assert client.post(f"{URL}/{document.id}/suppression").status_code == 404


def test_csrf_is_required(app, client, world):
    login_as(client, world.emails["region_admin"])
    assert upload(client, PDF, "convention.pdf", csrf=False).status_code == 400
    assert documents(app) == []


def test_a_file_over_the_request_limit_is_answered_in_french(app, client, world):
    login_as(client, world.emails["region_admin"])
    app.config["MAX_CONTENT_LENGTH"] = 1024
    try:
        response = upload(client, PDF + b"x" * 4096, "enorme.pdf")
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 5 * 1024 * 1024
    assert response.status_code == 413
    assert "Le fichier dépasse la taille autorisée" in text(response)


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in members.items():
            package.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (PDF[:-7], "Ce PDF est incomplet"),  # cut before its %%EOF
        (_zip({"word/document.xml": b"<w:document/>"}), "Ce document Word est endommagé"),
        (
            _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"\0" * 50_000_000}),
            "se décompresse en un volume anormal",
        ),
    ],
    ids=["truncated-pdf", "zip-not-a-docx", "zip-bomb"],
)
def test_fuzz_damaged_documents_are_refused_in_french(app, client, world, data, message):
    """Issue #17 fuzz: a truncated PDF, a zip holding only ``word/document.xml`` and a zip
    bomb named .docx were published as they were; each is refused, nothing stored."""
    login_as(client, world.emails["region_admin"])
    before = snapshot(app)
    response = upload(client, data, "document.docx", headers=HTMX)
    assert response.status_code == 422
    assert message in text(response)
    assert documents(app) == []
    assert snapshot(app) == before


def test_a_truncated_docx_is_refused(app, client, world):
    login_as(client, world.emails["region_admin"])
    response = upload(client, docx_bytes()[:-200], "fiche.docx", headers=HTMX)
    assert response.status_code == 422
    assert documents(app) == []


@pytest.mark.parametrize(
    ("filename", "shown"),
    [
        ("plan\x85d'action\u2028final.pdf", "plan d'action final.pdf"),
        ("re\u0301sume\u0301\x9b.pdf", "résumé.pdf"),
        ("..\\..\\dossier/\x01caché.pdf", "caché.pdf"),
    ],
)
def test_fuzz_the_name_offered_at_download_is_clean_text(filename, shown):
    """Issue #17 fuzz: C1 controls, U+2028 and decomposed accents of the sent file's name
    were kept in the stored name; it is cleaned as typed text is."""
    assert services.display_name(filename, DocumentKind.PDF) == shown
