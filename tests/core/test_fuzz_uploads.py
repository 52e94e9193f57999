"""Issue #17, « Fuzzing »: every upload of the portal, with generated files.

CSV imports (the market's lots, a recruitment's candidates) get text in every encoding a
spreadsheet or a script writes (UTF-8 with or without BOM, latin-1, cp1252, UTF-16) and
damaged (invalid UTF-8, one huge line, NUL bytes, empty, a zip bomb); documents (the
Région's reference documents, a convention to verify) get empty, random, truncated or
damaged PDFs and DOCX, zips that are no Word document and a zip bomb named .docx. The
other fields hold valid values, so the file is what is judged. Each answer: no 500, a
refusal says why in French and wrote nothing (no row, no file on disk), an acceptance
stored clean text and, for a reference document, exactly the bytes sent.

The uploads are found, not listed by hand: every form class of the portal with a file
field must be in ``UPLOADS`` (``test_every_upload_is_fuzzed``).
"""

import importlib
import os
import pkgutil
from pathlib import Path

import pytest
from flask_wtf.file import FileField
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms import Form

import portal
from portal.conventions.verification_views import VerifyFileForm
from portal.extensions import db
from portal.lots.forms import ImportLotsForm
from portal.recruitment.forms import ImportTraineesForm
from portal.resources.forms import AddDocumentForm
from portal.resources.models import ReferenceDocument
from tests.fuzz_demo import EXEMPT, Demo, check_answer, post
from tests.fuzzing import (
    PER_UPLOAD,
    StoredTextCheck,
    Upload,
    binary_files,
    csv_texts,
    encoded,
    filenames,
    fuzz_settings,
)
from tests.support import snapshot

CSV = st.one_of(encoded(csv_texts()), binary_files())
DOCUMENTS = st.one_of(binary_files(), encoded(csv_texts()))
# Form with a file field → (its route, the endpoint's rule path, the files, other fields).
UPLOADS = {
    AddDocumentForm: ("resources.upload_document", DOCUMENTS, {"title": "Guide du tutorat"}),
    ImportTraineesForm: ("recruitment.import_trainees", CSV, {}),
    ImportLotsForm: ("lots.import_lots", CSV, {}),
    VerifyFileForm: ("verification.verify", DOCUMENTS, {"method": "file"}),
}
# An error notice on the page (a form's summary, the verification's), or an error page.
FRENCH_REFUSAL = ('class="alert alert--error" role="alert"', "Requête incorrecte", "Fichier trop")


def _forms_with_a_file() -> set[type]:
    for module in pkgutil.walk_packages(portal.__path__, "portal."):
        importlib.import_module(module.name)
    found, todo = set(), [Form]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            unbound = [getattr(sub, name, None) for name in dir(sub)]
            if any(getattr(u, "field_class", None) is FileField for u in unbound):
                found.add(sub)
    return {form for form in found if form.__module__.startswith("portal.")}


def test_every_upload_is_fuzzed():
    """A new form with a file field must join ``UPLOADS`` (and so this fuzz)."""
    assert _forms_with_a_file() == set(UPLOADS)


def _stored_files(app) -> set[str]:
    folder = Path(app.config["DOCUMENTS_DIR"])
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def _rule(app, endpoint: str):
    return next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)


@pytest.mark.parametrize(
    ("endpoint", "files", "fields"),
    [pytest.param(*spec, id=spec[0]) for spec in UPLOADS.values()],
)
def test_fuzz_upload(app, endpoint, files, fields):
    """Issue #17: generated files on every upload: no 500, a French refusal that wrote
    nothing, or a clean acceptance."""
    demo = Demo(app)
    target = demo.reach(_rule(app, endpoint))
    assert target.status not in (403, 404), f"no one of the demo reaches {endpoint}"
    field = "file"  # the name of every file field of the portal

    @fuzz_settings(PER_UPLOAD)
    @given(data=files, filename=filenames, htmx=st.booleans())
    def case(data, filename, htmx):
        client = demo.client(target.person)
        body = MultiDict(fields)
        body[field] = Upload(data, filename)
        before, on_disk = snapshot(app), _stored_files(app)
        with StoredTextCheck(EXEMPT) as check:
            response = post(client, target.url, body, csrf="header", htmx=htmx, other_token="")
        try:
            page = check_answer(
                app, response, before=before, csrf="header", check=check, endpoint=endpoint
            )
            wrote = snapshot(app) != before
            if response.status_code >= 400:
                assert any(sign in page for sign in FRENCH_REFUSAL), page[:1000]
            if not wrote:
                assert _stored_files(app) == on_disk, "a refused file was left on disk"
            elif endpoint == "resources.upload_document":
                _assert_stored_as_sent(app, data)
        finally:
            demo.restore()

    case()


def _assert_stored_as_sent(app, data: bytes) -> None:
    with app.app_context():
        document = db.session.scalars(
            select(ReferenceDocument).order_by(ReferenceDocument.id.desc())
        ).first()
        folder = Path(app.config["DOCUMENTS_DIR"])
        assert (folder / document.stored_name).read_bytes() == data
        assert document.kind.value in ("pdf", "docx")


@pytest.fixture(autouse=True)
def _documents_dir(app, tmp_path):
    """Reference documents of these tests in a folder of their own."""
    previous = app.config["DOCUMENTS_DIR"]
    app.config["DOCUMENTS_DIR"] = os.fspath(tmp_path / "documents")
    yield
    app.config["DOCUMENTS_DIR"] = previous
