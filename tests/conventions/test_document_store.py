"""The convention's DOCX is built once per state of the version and kept (issue #16):
downloads of one state send the kept bytes without building again; any change the document
would show (a signature, the Région's decision, a voided signature, a renamed signer or
organisation, an audit event) gives a new file, equal to a fresh build, never the old one.
"""

import pytest

from portal.audit.services import record
from portal.conventions import documents
from portal.conventions.documents import convention_docx, state_key, stored_docx
from portal.conventions.models import ConventionVersion
from portal.core import storage
from portal.extensions import db
from tests.conventions.factories import make_convention_ready, sign_as
from tests.conventions.helpers_documents import submit_convention
from tests.operations.factories import OF_A
from tests.support import login_as


@pytest.fixture
def builds(monkeypatch):
    """Count the DOCX builds (``convention_docx`` calls) behind ``stored_docx``."""
    calls = []
    build = documents.convention_docx

    def counted(version):
        calls.append(version.id)
        return build(version)

    monkeypatch.setattr(documents, "convention_docx", counted)
    return calls


def test_two_downloads_send_the_same_bytes_built_once(app, client, builds, documents_dir):
    submitted = submit_convention(app)
    login_as(client, OF_A)
    first = client.get(submitted.url())
    second = client.get(submitted.url())
    assert first.status_code == second.status_code == 200
    assert second.data == first.data
    assert builds == [submitted.version_id]  # the second download read the kept copy
    assert len(list(documents_dir.rglob("*.docx"))) == 1
    with app.test_request_context():
        version = db.session.get(ConventionVersion, submitted.version_id)
        assert first.data == build_now(version)  # the kept copy is what a build gives


def build_now(version: ConventionVersion) -> bytes:
    """The document built afresh, not read from the store."""
    db.session.expire_all()
    return convention_docx(version)


def _sign(ready, version):
    sign_as(version, *ready.carrier)


def _validate(ready, version):
    for user, org in ready.signers[1:]:  # the porteur signed already
        sign_as(version, user, org)
    ready.validate(version)


def _supersede(ready, version):  # a new version voids the signatures of this one
    ready.edit_clause("Un objet reformulé.")
    ready.submit()


def _rename_signer(ready, version):
    version.signatures[0].user.last_name = "Nouveau-Nom"


def _rename_organisation(ready, version):
    version.signatures[0].organisation.name = "Organisme A renommé"


def _rename_submitter(ready, version):
    version.submitted_by.first_name = "Prénom-Changé"


def _audit_event(ready, version):
    user, org = ready.carrier
    record("convention.reminded", actor=user, organisation=org, obj=version)


CHANGES = {
    "signature": _sign,
    "validation": _validate,
    "superseded, signature voided": _supersede,
    "signer renamed": _rename_signer,
    "organisation renamed": _rename_organisation,
    "submitter renamed": _rename_submitter,
    "audit event": _audit_event,
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_any_change_the_document_shows_gives_a_fresh_file(ctx, builds, change):
    ready = make_convention_ready()
    version = ready.submit()
    if change is not _sign:
        sign_as(version, *ready.carrier)  # a signature whose details can change
    db.session.flush()
    key, before = state_key(version), stored_docx(version)
    change(ready, version)
    db.session.flush()
    db.session.expire_all()
    assert state_key(version) != key
    after = stored_docx(version)
    assert after != before
    assert after == build_now(version)
    assert len(builds) == 2  # before and after (``build_now`` is not counted)


def test_a_download_event_leaves_the_key_alone(ctx):
    """Downloads stay out of the document (``version_events``), so out of its key too."""
    ready = make_convention_ready()
    version = ready.submit()
    key = state_key(version)
    user, org = ready.carrier
    record("convention.downloaded", actor=user, organisation=org, obj=version, kind="docx")
    db.session.flush()
    assert state_key(version) == key


def test_a_new_state_removes_the_copies_of_earlier_states_and_keeps_its_pdfs(
    ctx, builds, documents_dir
):
    """Only the current state's copy stays on disk (before: one ~45 KB file per signature,
    per version, forever); a PDF already made of an earlier state stays (someone may be
    waiting for it), and a reader whose chosen copy was removed builds it again."""
    ready = make_convention_ready()
    version = ready.submit()
    stored_docx(version)
    folder = storage.documents_dir() / "conventions" / str(version.id)
    (folder / "old-state.pdf").write_bytes(b"%PDF-")
    sign_as(version, *ready.carrier)
    db.session.flush()
    db.session.expire_all()
    current = stored_docx(version)
    assert sorted(p.name for p in folder.iterdir()) == [
        f"docx-{state_key(version)}.docx",
        "old-state.pdf",
    ]
    (folder / f"docx-{state_key(version)}.docx").unlink()  # removed by a newer state
    assert stored_docx(version) == current
    assert len(builds) == 3
