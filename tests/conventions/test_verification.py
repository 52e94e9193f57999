"""The public verification page: without an account, a copy is recognised by its file or
by its reference and hash (full or the 12 digits of the footers), a copy changed by one
character is "inconnu ou modifié", wrong types and sizes are refused in French, only
names, capacities and dates are told, and unknown documents are throttled per IP."""

import hashlib
import io
import zipfile

import pytest
from sqlalchemy import select

from portal.accounts.models import LoginFailure
from portal.conventions.models import ConventionVersion
from portal.extensions import db
from tests.conventions.factories import sign_as
from tests.conventions.helpers_documents import replace_in_document, submit_convention
from tests.operations.factories import EMPLOYER, OF_A
from tests.support import HTMX, committed, count, login_as, text, user_with

URL = "/verification/"
UNKNOWN = "Document inconnu ou modifié."
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def signed_copy(app, other_client):
    """Version 1 signed by Organisme A, and its DOCX as downloaded by a participant."""
    submitted = submit_convention(app)
    with committed(app):
        version = db.session.get(ConventionVersion, submitted.version_id)
        sign_as(version, user_with(OF_A), version.submitted_org)
    login_as(other_client, EMPLOYER)
    submitted.docx = other_client.get(submitted.url()).data
    return submitted


def upload(client, data: bytes, name: str = "convention.docx", **kwargs):
    return client.post(
        URL,
        data={"method": "file", "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        **kwargs,
    )


def by_reference(client, reference: str, digest: str, **kwargs):
    return client.post(
        URL, data={"method": "reference", "reference": reference, "digest": digest}, **kwargs
    )


def test_the_page_is_public_and_offers_both_ways(client):
    response = client.get(URL)
    assert response.status_code == 200
    page = text(response)
    assert "Vérifier une convention DEFI" in page
    assert 'enctype="multipart/form-data"' in page
    assert 'name="reference"' in page and 'name="digest"' in page
    assert '<div id="verify-result" aria-live="polite">' in page


def test_an_uploaded_copy_is_recognised_with_its_signatures(app, client, signed_copy):
    response = upload(client, signed_copy.docx)
    assert response.status_code == 200
    page = text(response)
    assert "Convention reconnue" in page
    assert f"Version 1 de la convention {signed_copy.reference} de l'opération «" in page
    assert "Camille Martin (Organisme A, directrice) le " in page
    assert "État :</strong> En cours de signature." in page
    assert "Ce fichier (DOCX) a été édité par le portail le " in page
    assert "il portait alors 1 signature." in page
    # Only names, capacities and dates: no IP, user agent or e-mail on the public page.
    for private in ("192.0.2.10", "pytest-browser", OF_A, "@example.fr"):
        assert private not in page


def test_one_character_changed_makes_the_copy_unknown(app, client, signed_copy):
    # Another last digit (the reference ends with the operation id, which may end with 9).
    other = "8" if signed_copy.reference.endswith("9") else "9"
    changed = replace_in_document(
        signed_copy.docx, signed_copy.reference, signed_copy.reference[:-1] + other
    )
    assert len(changed) > 0 and changed != signed_copy.docx
    response = upload(client, changed)
    assert response.status_code == 200
    page = text(response)
    assert UNKNOWN in page
    assert "Convention reconnue" not in page and "Organisme A" not in page


def test_an_outdated_copy_says_the_version_moved_on(app, client, signed_copy):
    with committed(app):
        version = db.session.get(ConventionVersion, signed_copy.version_id)
        employer = user_with(EMPLOYER)
        sign_as(version, employer, employer.memberships[0].organisation)
    page = text(upload(client, signed_copy.docx))
    assert "il portait alors 1 signature." in page
    assert "La version a évolué depuis l'édition de ce fichier" in page


@pytest.mark.parametrize("length", [64, 12, 20])
def test_reference_and_hash_find_the_version(client, signed_copy, length):
    digest = signed_copy.sha256[:length]
    response = by_reference(client, signed_copy.reference.lower(), " " + digest.upper() + " ")
    assert response.status_code == 200
    page = text(response)
    assert "Convention reconnue" in page
    assert f"Version 1 de la convention {signed_copy.reference}" in page
    assert "Ce fichier" not in page  # no file was checked


def test_the_full_hash_of_a_file_is_recognised_too(client, signed_copy):
    digest = hashlib.sha256(signed_copy.docx).hexdigest()
    page = text(by_reference(client, signed_copy.reference, digest))
    assert "il portait alors 1 signature." in page


@pytest.mark.parametrize(
    ("reference", "digest"),
    [("own", "0" * 12), ("DEFI-1999-0001", "own"), ("own", "own-short-wrong")],
    ids=["wrong-hash", "unknown-reference", "wrong-short-hash"],
)
def test_a_wrong_hash_or_reference_tells_nothing(client, signed_copy, reference, digest):
    reference = signed_copy.reference if reference == "own" else reference
    if digest == "own":
        digest = signed_copy.sha256
    elif digest == "own-short-wrong":
        digest = signed_copy.sha256[:11] + ("0" if signed_copy.sha256[11] != "0" else "1")
    response = by_reference(client, reference, digest)
    assert response.status_code == 200
    page = text(response)
    assert UNKNOWN in page
    assert "Organisme A" not in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"reference": "2025-42", "digest": "0" * 12}, "La référence s'écrit DEFI-AAAA-NNNN"),
        ({"reference": "DEFI-2025-0001", "digest": "abc"}, "de 12 à 64 caractères hexadécimaux"),
        ({"reference": "", "digest": ""}, "Indiquez la référence de la convention."),
    ],
)
def test_malformed_input_is_refused_in_french(client, fields, message):
    response = client.post(URL, data={"method": "reference", **fields})
    assert response.status_code == 422
    assert message in text(response)


@pytest.mark.parametrize(
    ("data", "name"),
    [(PNG, "convention.docx"), (b"PK\x03\x04 not really a zip", "convention.docx")],
    ids=["png-renamed", "broken-zip"],
)
def test_a_file_of_another_type_is_refused_in_french(client, data, name):
    response = upload(client, data, name)
    assert response.status_code == 422
    assert "ni un document Word (DOCX) ni un PDF" in text(response)


def test_a_zip_that_is_not_a_word_document_is_refused(client):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("content.xml", "<office/>")
    response = upload(client, buffer.getvalue(), "convention.docx")
    assert response.status_code == 422
    assert "ni un document Word (DOCX) ni un PDF" in text(response)


def test_no_file_is_refused_in_french(client):
    response = client.post(URL, data={"method": "file"}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Choisissez le fichier à vérifier." in text(response)


def test_a_file_too_big_gets_a_french_413(app, client):
    # The multipart body is built here, in memory: werkzeug's test encoder would spool it
    # to a temporary file that nothing closes once the request is refused.
    boundary = "verification-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="method"\r\n\r\nfile\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        'filename="convention.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
    )
    body = head.encode() + b"%PDF-" + b"0" * app.config["MAX_CONTENT_LENGTH"]
    body += f"\r\n--{boundary}--\r\n".encode()
    response = client.post(URL, data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413
    assert "Le fichier dépasse la taille autorisée (5 Mo)" in text(response)


def test_htmx_gets_the_result_region_only(client, signed_copy):
    response = upload(client, signed_copy.docx, headers=HTMX)
    assert response.status_code == 200
    fragment = text(response)
    assert "<html" not in fragment and "<form" not in fragment
    assert "Convention reconnue" in fragment
    assert "HX-Request" in response.headers["Vary"]


def test_a_post_without_csrf_token_is_refused(client, signed_copy):
    response = by_reference(client, signed_copy.reference, signed_copy.sha256, csrf=False)
    assert response.status_code == 400
    assert "Votre session a expiré" in text(response)


def test_the_status_follows_the_version(app, client, signed_copy):
    with committed(app):
        version = db.session.get(ConventionVersion, signed_copy.version_id)
        version.status, version.voided_at = version.status.VOIDED, version.submitted_at
        for signature in version.signatures:
            signature.voided_at, signature.void_reason = version.submitted_at, "test"
    page = text(by_reference(client, signed_copy.reference, signed_copy.sha256[:12]))
    assert "État :</strong> Annulée le " in page
    assert "signature annulée" in page


def test_unknown_documents_are_throttled_per_ip(app, client, signed_copy, monkeypatch):
    monkeypatch.setitem(app.config, "VERIFY_MAX_UNKNOWN_PER_IP", 2)
    for _ in range(2):
        assert UNKNOWN in text(by_reference(client, signed_copy.reference, "0" * 12))
    response = by_reference(client, signed_copy.reference, signed_copy.sha256)
    assert response.status_code == 429
    assert "Trop de vérifications infructueuses" in text(response)
    assert count(app, LoginFailure) == 2
    with app.app_context():
        keys = set(db.session.scalars(select(LoginFailure.key)))
    assert keys == {"verify:127.0.0.1"}
