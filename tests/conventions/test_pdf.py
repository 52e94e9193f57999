"""The convention as PDF: LibreOffice converts the DOCX (the PDF's text carries the
reference and the short hash, runs in CI), each PDF is recorded and its download
audited; without LibreOffice, or when it fails, the route and the button say why in
French instead of failing."""

import stat

import pytest
from flask import render_template
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.conventions.documents import sha256_of
from portal.conventions.models import ConventionVersion, IssuedDocument
from portal.extensions import db
from tests.conventions.helpers_documents import (
    pdf_text,
    pdftotext,
    require_soffice,
    submit_convention,
)
from tests.operations.factories import EMPLOYER, OF_A
from tests.support import count, login_as, text

MISSING = "LibreOffice n'est pas installé sur le serveur (paquet libreoffice-writer-nogui)"
FAILED = "La conversion en PDF a échoué."


@pytest.fixture
def submitted(app):
    return submit_convention(app)


@pytest.fixture
def soffice_at(app, monkeypatch):
    """Point ``SOFFICE_PATH`` (and ``SOFFICE_TIMEOUT``) elsewhere for one test."""

    def point(path, timeout=None):
        monkeypatch.setitem(app.config, "SOFFICE_PATH", str(path))
        if timeout is not None:
            monkeypatch.setitem(app.config, "SOFFICE_TIMEOUT", timeout)

    return point


def fake_soffice(tmp_path, body: str):
    script = tmp_path / "soffice"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_libreoffice_converts_the_docx_into_a_pdf_with_the_reference(app, client, submitted):
    require_soffice()
    login_as(client, EMPLOYER)
    response = client.get(submitted.url("pdf"))
    assert response.status_code == 200, text(response)
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=convention-{submitted.reference}-v1.pdf"
    )
    assert response.data.startswith(b"%PDF-")
    content = pdf_text(response.data)
    assert "Convention de partenariat DEFI" in content
    assert submitted.reference in content
    assert f"empreinte {submitted.sha256[:12]}" in content  # the footers
    poppler = pdftotext(response.data)
    if poppler is not None:  # where poppler exists, both readings agree
        assert submitted.reference in poppler
        assert f"empreinte {submitted.sha256[:12]}" in poppler
    with app.app_context():
        issued = db.session.scalars(select(IssuedDocument)).one()
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "convention.downloaded")
        ).one()
    assert (issued.kind, issued.sha256, issued.size) == (
        "pdf",
        sha256_of(response.data),
        len(response.data),
    )
    assert issued.signatures == 0
    assert event.detail == {"number": 1, "kind": "pdf", "sha256": issued.sha256}


def test_without_libreoffice_the_pdf_route_explains_what_is_missing(
    app, client, submitted, soffice_at, tmp_path
):
    soffice_at(tmp_path / "absent" / "soffice")
    login_as(client, OF_A)
    response = client.get(submitted.url("pdf"))
    assert response.status_code == 503
    assert "PDF indisponible" in text(response)
    assert MISSING in text(response)
    assert count(app, IssuedDocument) == 0
    assert count(app, AuditEvent, AuditEvent.action == "convention.downloaded") == 0


def test_the_buttons_disable_the_pdf_and_say_why_without_libreoffice(
    app, submitted, soffice_at, tmp_path
):
    with app.test_request_context():
        version = db.session.get(ConventionVersion, submitted.version_id)
        operation = version.convention.operation
        soffice_at(tmp_path / "absent" / "soffice")
        without = render_template(
            "conventions/_document_links.html", operation=operation, version=version
        )
        soffice_at(fake_soffice(tmp_path, "exit 0"))
        with_soffice = render_template(
            "conventions/_document_links.html", operation=operation, version=version
        )
    assert f'href="{submitted.url("docx")}"' in without
    assert f'href="{submitted.url("pdf")}"' not in without
    assert 'disabled aria-describedby="pdf-missing-1"' in without
    assert "libreoffice-writer-nogui" in without
    assert f'href="{submitted.url("pdf")}"' in with_soffice
    assert "disabled" not in with_soffice
    assert submitted.sha256[:12] in with_soffice
    assert 'href="/verification/"' in with_soffice


@pytest.mark.parametrize(
    ("body", "timeout"),
    [("exit 1", None), ("exit 0", None), ("sleep 30", 1)],
    ids=["fails", "writes-nothing", "overruns"],
)
def test_a_failed_conversion_answers_503_in_french(
    app, client, submitted, soffice_at, tmp_path, body, timeout
):
    soffice_at(fake_soffice(tmp_path, body), timeout)
    login_as(client, OF_A)
    response = client.get(submitted.url("pdf"))
    assert response.status_code == 503
    assert FAILED in text(response)
    assert count(app, IssuedDocument) == 0
