"""The operation's archive in a real browser, axe-core on every page: the organisme porteur
downloads the closed Fleury operation's archive from the operation page, makes a
provisional one of the running Saran operation with the button, and anyone checks the
manifest on the public verification page."""

import json
import zipfile

import pytest
from playwright.sync_api import expect

from tests.browser.support import OF_EMAIL, check_a11y, heading, log_in, log_out, visit

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo")]

FLEURY = "Préparateur·rice de commandes — session de Fleury"
SARAN = "Préparateur·rice de commandes — session de Saran"
ARCHIVE_LINK = "Archive de l'opération : tous ses documents et leur manifeste (ZIP)"


def _manifest(path) -> tuple[str, bytes]:
    with zipfile.ZipFile(path) as package:
        [name] = [n for n in package.namelist() if n.endswith("/manifeste.json")]
        return name, package.read(name)


def test_the_carrier_archives_and_anyone_verifies_the_manifest(page, tmp_path):
    log_in(page, OF_EMAIL)
    visit(page, "/operations/", "operations")
    page.get_by_role("link", name=FLEURY).click()
    page.get_by_role("link", name=ARCHIVE_LINK).click()
    expect(heading(page)).to_have_text("Archive de l'opération")
    expect(page.get_by_text("l'archive est définitive")).to_be_visible()
    check_a11y(page, "final archive")
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger l'archive (ZIP)").click()
    assert download.value.suggested_filename.startswith("archive-operation-")
    _name, manifest = _manifest(download.value.path())
    assert json.loads(manifest)["final"] is True

    # Before closing: a page that says it is provisional, then the button.
    visit(page, "/operations/", "operations again")
    page.get_by_role("link", name=SARAN).click()
    page.get_by_role("link", name=ARCHIVE_LINK).click()
    expect(page.get_by_text("L'opération n'est pas close")).to_be_visible()
    check_a11y(page, "provisional archive")
    with page.expect_download() as download:
        page.get_by_role("button", name="Produire l'archive provisoire (ZIP)").click()
    with zipfile.ZipFile(download.value.path()) as package:
        names = package.namelist()
    assert any("/retours-experience/" in n for n in names)
    page.reload()
    expect(page.get_by_role("cell", name="provisoire (Formation en cours)")).to_be_visible()
    check_a11y(page, "provisional archive listed")

    # Anyone, without an account, checks the final archive's manifest.
    log_out(page)
    saved = tmp_path / "manifeste.json"
    saved.write_bytes(manifest)
    visit(page, "/verification/", "verification")
    page.get_by_label("Fichier à vérifier").set_input_files(str(saved))
    page.get_by_role("button", name="Vérifier le fichier").click()
    expect(page.get_by_role("heading", name="Archive reconnue")).to_be_visible()
    expect(page.locator("#verify-result")).to_contain_text(FLEURY)
    check_a11y(page, "archive recognised")
