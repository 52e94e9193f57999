"""The convention PDF in a real browser (issue #16): the link opens « PDF en préparation »
at once, the page updates itself (htmx, every 2 s) when the background job has converted
the document, and the file downloads from there; axe-core on both states. LibreOffice is
a stand-in that takes a second, so the journey needs no real conversion."""

import stat

import pytest
from playwright.sync_api import expect

from tests.browser.support import TIMEOUT_MS, check_a11y, heading, log_in, visit
from tests.conventions.helpers_documents import submit_convention
from tests.operations.factories import OF_A
from tests.support import PASSWORD

pytestmark = pytest.mark.browser


def test_the_pdf_is_prepared_in_the_background_then_offered(app, page, tmp_path, monkeypatch):
    submitted = submit_convention(app)
    script = tmp_path / "soffice"
    script.write_text(
        '#!/bin/sh\nsleep 1\nmkdir -p "$7"\nprintf "%%PDF-1.4 job" > "$7/convention.pdf"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setitem(app.config, "SOFFICE_PATH", str(script))
    monkeypatch.setitem(app.config, "DOCUMENTS_DIR", str(tmp_path / "documents"))

    log_in(page, OF_A, PASSWORD)
    visit(page, submitted.url("pdf").rsplit("/", 1)[0], "version page")
    page.get_by_role("link", name="Télécharger la convention (PDF)").first.click()
    expect(heading(page)).to_contain_text(f"Convention {submitted.reference}, version 1 (PDF)")
    status = page.get_by_role("status").filter(has_text="PDF")
    expect(status).to_contain_text("Le PDF est en préparation")
    check_a11y(page, "PDF being prepared")

    expect(status).to_contain_text("Le PDF est prêt.", timeout=max(TIMEOUT_MS, 20_000))
    check_a11y(page, "PDF ready")
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le PDF").click()
    assert download.value.suggested_filename == f"convention-{submitted.reference}-v1.pdf"
