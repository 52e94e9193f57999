"""The convention as PDF: LibreOffice converts the DOCX in a background job (the PDF's
text carries the reference and the short hash, runs in CI), each PDF is recorded and its
download audited; without LibreOffice, or when it fails, the route and the button say why
in French instead of failing. The page that follows the job: tests/conventions/
test_pdf_jobs.py."""

import re
import stat

import pytest
from flask import render_template
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.conventions import pdf
from portal.conventions.documents import convention_docx, sha256_of
from portal.conventions.models import ConventionVersion, IssuedDocument
from portal.core import storage
from portal.core.fingerprints import NBSP, blocks
from portal.extensions import db
from tests.conventions.helpers_documents import (
    pdf_text,
    pdftotext,
    submit_convention,
)
from tests.operations.factories import EMPLOYER, OF_A
from tests.support import count, fetch_pdf, login_as, require_soffice, text

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
    response = fetch_pdf(client, submitted.url("pdf"))
    assert response.status_code == 200, text(response)
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=convention-{submitted.reference}-v1.pdf"
    )
    assert response.data.startswith(b"%PDF-")
    content = pdf_text(response.data)
    assert "Convention de partenariat DEFI" in content
    assert submitted.reference in content
    footer = f"empreinte{NBSP}{NBSP.join(blocks(submitted.sha256[:12]))}"
    # The footers: blocks joined by no-break spaces (which pdf_text reads as text runs of
    # their own, one a line).
    assert footer in re.sub(rf"\s*{NBSP}\s*", NBSP, content.replace(" ", NBSP))
    poppler = pdftotext(response.data)
    if poppler is not None:  # where poppler exists, both readings agree
        assert submitted.reference in poppler
        assert footer in re.sub(rf"\s*{NBSP}\s*", NBSP, poppler.replace(" ", NBSP))
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
    assert f'data-fingerprint="{submitted.sha256[:12]}"' in with_soffice
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
    response = fetch_pdf(client, submitted.url("pdf"))
    assert response.status_code == 503
    assert FAILED in text(response)
    assert "Réessayer" in text(response)
    assert count(app, IssuedDocument) == 0


def counting_soffice(tmp_path):
    """A LibreOffice stand-in writing a small PDF; each run adds a line to ``runs``."""
    runs = tmp_path / "runs"
    script = fake_soffice(
        tmp_path,
        f'echo run >> "{runs}"\nmkdir -p "$7"\nprintf "%%PDF-1.4 converted" > "$7/convention.pdf"',
    )
    return script, runs


def test_each_version_state_is_converted_once_and_the_pdf_kept(
    app, client, submitted, soffice_at, tmp_path, documents_dir
):
    """Issue #11 M9: the PDF of a version is converted once, kept under ``DOCUMENTS_DIR``
    with its hash recorded, and served from there afterwards (even without LibreOffice)."""
    script, runs = counting_soffice(tmp_path)
    soffice_at(script)
    login_as(client, OF_A)
    first = fetch_pdf(client, submitted.url("pdf"))
    assert first.status_code == 200 and first.data == b"%PDF-1.4 converted"
    soffice_at(tmp_path / "absent" / "soffice")
    second = client.get(submitted.url("pdf"))
    assert second.status_code == 200 and second.data == first.data
    assert runs.read_text().count("run") == 1
    kept = list(documents_dir.rglob("*.pdf"))
    assert [path.read_bytes() for path in kept] == [first.data]
    assert not list(documents_dir.rglob("*.queued"))  # the job's marker went with it
    with app.app_context():
        issued = db.session.scalars(select(IssuedDocument)).one()
        docx = convention_docx(db.session.get(ConventionVersion, submitted.version_id))
    assert [path.name for path in kept] == [f"{sha256_of(docx)}.pdf"]  # kept with its hash
    assert (issued.kind, issued.sha256) == ("pdf", sha256_of(first.data))
    assert count(app, AuditEvent, AuditEvent.action == "convention.downloaded") == 2


def test_a_job_that_waits_too_long_for_another_conversion_fails_and_is_retried(
    app, client, submitted, soffice_at, tmp_path, monkeypatch
):
    """One conversion at a time per storage: a job that finds another holding the lock
    past ``PDF_CONVERSION_WAIT`` gives up and says so in French; « Réessayer » converts."""
    script, runs = counting_soffice(tmp_path)
    soffice_at(script)
    monkeypatch.setitem(app.config, "PDF_CONVERSION_WAIT", 0.2)
    login_as(client, OF_A)
    with app.app_context(), storage.exclusive(pdf.CONVERSION_LOCK) as held:
        assert held  # another job converting
        response = fetch_pdf(client, submitted.url("pdf"))
    assert response.status_code == 503
    assert "D'autres conversions en PDF occupent le serveur." in text(response)
    assert not runs.exists() and count(app, IssuedDocument) == 0
    retried = client.post(submitted.url("pdf") + "/reessayer")
    assert retried.status_code == 303
    assert retried.headers["Location"] == submitted.url("pdf")
    assert fetch_pdf(client, submitted.url("pdf")).data == b"%PDF-1.4 converted"


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_a_link_on_another_site_writes_no_evidence(
    app, client, submitted, soffice_at, tmp_path, site
):
    """Issue #11 M9: « opened » and « downloaded » are recorded only for the user's own
    navigation (``Sec-Fetch-Site`` same-origin or none), not for a link elsewhere."""
    script, _runs = counting_soffice(tmp_path)
    soffice_at(script)
    login_as(client, EMPLOYER)
    version_page = submitted.url("pdf").rsplit("/", 1)[0]
    elsewhere = {"Sec-Fetch-Site": site}
    assert client.get(version_page, headers=elsewhere).status_code == 200
    assert client.get(submitted.url("docx"), headers=elsewhere).status_code == 200
    assert fetch_pdf(client, submitted.url("pdf"), headers=elsewhere).status_code == 200
    actions = ("convention.opened", "convention.downloaded")
    assert count(app, AuditEvent, AuditEvent.action.in_(actions)) == 0
    own = {"Sec-Fetch-Site": "same-origin"}
    client.get(version_page, headers=own)
    # The version opened is part of the document's evidence: a new DOCX, a new conversion.
    fetch_pdf(client, submitted.url("pdf"), headers=own)
    assert count(app, AuditEvent, AuditEvent.action.in_(actions)) == 2
