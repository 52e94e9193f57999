"""The public verification page recognises an issued archive by its manifest (the file or
its hash) or by its zip, says which operation and when it was issued, and refuses a
manifest changed by one character, an archive never issued, and a JSON of its own."""

import hashlib
import io
import json

import pytest

from portal.audit.services import record
from portal.extensions import db
from portal.operations.models import Operation
from tests.archive.factories import entries
from tests.support import HTMX, client_as, committed, text

URL = "/verification/"
UNKNOWN = "Document inconnu ou modifié."
DOMAIN = "demo.defi.test"


def upload(client, data: bytes, name: str, **kwargs):
    return client.post(
        URL,
        data={"method": "file", "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        **kwargs,
    )


def by_manifest_hash(client, digest: str, **kwargs):
    return client.post(URL, data={"method": "manifest", "manifest_digest": digest}, **kwargs)


@pytest.fixture
def issued(app, demo):
    """The closed operation's archive, downloaded by the organisme porteur."""
    response = client_as(app, f"of@{DOMAIN}").get(f"/operations/{demo.fleury}/archive/archive.zip")
    assert response.status_code == 200
    return response.get_data()


def test_the_page_offers_the_manifest_hash(client):
    page = text(client.get(URL))
    assert 'name="manifest_digest"' in page
    assert "Elle reconnaît aussi l'archive d'une opération DEFI" in page


def test_an_uploaded_manifest_is_recognised(client, issued):
    response = upload(client, entries(issued)["manifeste.json"], "manifeste.json")
    assert response.status_code == 200
    page = text(response)
    assert "Archive reconnue" in page
    assert (
        "Ce manifeste est celui de l'archive de l'opération « Préparateur·rice de commandes "
        "— session de Fleury »." in page
    )
    assert "Convention de partenariat : DEFI-" in page
    assert "Émise par le portail le " in page
    assert "archive définitive de l'opération close le " in page
    assert "L'archive contient 4 documents." in page
    assert "évènements du journal d'audit de l'opération." in page
    assert "Une archive plus récente" not in page
    # Nothing about who downloaded it.
    for private in ("of@demo.defi.test", "Forma'Centre", "127.0.0.1"):
        assert private not in page


def test_its_hash_and_the_zip_are_recognised_too(client, issued):
    digest = hashlib.sha256(entries(issued)["manifeste.json"]).hexdigest()
    spaced = " ".join(digest[i : i + 8] for i in range(0, 64, 8)).upper()
    assert "Archive reconnue" in text(by_manifest_hash(client, spaced))
    page = text(upload(client, issued, "archive.zip"))
    assert "Cette archive ZIP est celle de l'opération « Préparateur·rice" in page


def test_a_convention_file_of_the_archive_is_recognised_on_its_own(client, issued):
    files = entries(issued)
    [convention] = [name for name in files if name.startswith("convention/")]
    page = text(upload(client, files[convention], "convention.docx"))
    assert "Convention reconnue" in page


def test_a_manifest_changed_by_one_character_is_unknown(client, issued):
    manifest = entries(issued)["manifeste.json"]
    changed = manifest.replace(b'"final": true', b'"final": false')
    assert changed != manifest
    page = text(upload(client, changed, "manifeste.json"))
    assert UNKNOWN in page and "Archive reconnue" not in page
    other = hashlib.sha256(changed).hexdigest()
    assert UNKNOWN in text(by_manifest_hash(client, other))


def test_a_json_of_its_own_is_unknown_and_counted(app, client, issued, monkeypatch):
    monkeypatch.setitem(app.config, "VERIFY_MAX_UNKNOWN_PER_IP", 2)
    for _ in range(2):
        page = text(upload(client, json.dumps({"format": "autre"}).encode(), "m.json"))
        assert UNKNOWN in page
    response = by_manifest_hash(
        client, hashlib.sha256(entries(issued)["manifeste.json"]).hexdigest()
    )
    assert response.status_code == 429


def test_a_newer_archive_is_mentioned(app, client, demo):
    browser = client_as(app, f"of@{DOMAIN}")
    saran = f"/operations/{demo.saran}/archive/archive.zip"
    first = entries(browser.post(saran).get_data())["manifeste.json"]
    page = text(upload(client, first, "manifeste.json"))
    assert "archive provisoire : l'opération était à l'étape « Formation en cours »" in page
    assert "Une archive plus récente" not in page
    with committed(app):  # the operation moves on: its next archive differs
        record("operation.updated", obj=db.session.get(Operation, demo.saran), fields=[])
    second = entries(browser.post(saran).get_data())["manifeste.json"]
    assert second != first
    assert "Une archive plus récente" in text(upload(client, first, "manifeste.json"))
    assert "Une archive plus récente" not in text(upload(client, second, "manifeste.json"))


@pytest.mark.parametrize(
    ("digest", "message"),
    [("abc", "64 caractères hexadécimaux"), ("", "Indiquez l'empreinte du manifeste.")],
)
def test_a_malformed_hash_is_refused_in_french(client, digest, message):
    response = by_manifest_hash(client, digest)
    assert response.status_code == 422
    assert message in text(response)


def test_htmx_gets_the_result_only(client, issued):
    response = upload(client, entries(issued)["manifeste.json"], "manifeste.json", headers=HTMX)
    fragment = text(response)
    assert "<html" not in fragment and "Archive reconnue" in fragment
