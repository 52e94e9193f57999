"""``support.load_demo_copy``: after the first real load, the demo is copied from the rows
that load wrote; a copy must be the very same data, and later rows must get new ids."""

from sqlalchemy import select

from portal.accounts.models import Organisation, OrgKind
from portal.extensions import db
from portal.reporting import jobs as report_jobs
from portal.reporting.models import ExportJob
from portal.resources.models import ReferenceDocument
from tests.factories import make_org
from tests.support import all_rows, empty_database, load_demo_copy, login_as, text

BASE_URL = "http://copie.portail.test"  # a key of its own: the first call here loads for real


def test_a_copy_is_the_loaded_demo_row_for_row_and_the_portal_works_on_it(app, client):
    load_demo_copy(app, BASE_URL)
    loaded = all_rows(app)
    assert sum(len(rows) for rows in loaded.values()) > 500
    empty_database(app)
    assert not any(all_rows(app).values())

    load_demo_copy(app, BASE_URL)
    assert all_rows(app) == loaded

    # New rows take identifiers after the copied ones, and the pages read the copy.
    with app.app_context():
        newest = db.session.scalar(select(Organisation.id).order_by(Organisation.id.desc()))
        assert make_org(OrgKind.EMPLOYER, "Après la copie").id > newest
        db.session.rollback()
    login_as(client, "region@demo.defi.test")
    assert "Bonjour" in text(client.get("/"))


def test_a_copy_brings_the_demos_files_into_the_documents_folder_of_the_moment(
    app, client, tmp_path
):
    """The reference documents' files follow the copy: a copy made while the documents
    folder is another one than at the real load still serves them (the real load may have
    run inside a test pointing ``DOCUMENTS_DIR`` at its own folder)."""
    load_demo_copy(app, BASE_URL)
    previous = app.config["DOCUMENTS_DIR"]
    app.config["DOCUMENTS_DIR"] = str(tmp_path / "ailleurs")
    try:
        load_demo_copy(app, BASE_URL)
        with app.app_context():
            document_ids = db.session.scalars(select(ReferenceDocument.id)).all()
        assert document_ids
        login_as(client, "region@demo.defi.test")
        for document_id in document_ids:
            with client.get(f"/pour-aller-plus-loin/{document_id}/fichier") as response:
                assert response.status_code == 200
                assert response.data
    finally:
        app.config["DOCUMENTS_DIR"] = previous


def test_a_copy_puts_back_the_demos_export_file_a_purge_removed(app, client):
    """The demo's ready export (« Vos derniers exports ») keeps its file through copies: a
    test that empties the exports folder (the purge) no longer leaves the next copies with a
    job whose file is gone (the GET walk of tests/core/test_routes.py met a 303 instead of
    the download)."""
    load_demo_copy(app, BASE_URL)
    with app.app_context():
        job = db.session.scalar(select(ExportJob).where(ExportJob.stored != ""))
        assert job is not None
        report_jobs.path_of(job).unlink()
    load_demo_copy(app, BASE_URL)
    login_as(client, "region@demo.defi.test")
    with client.get(f"/pilotage/exports/demandes/{job.id}/fichier") as response:
        assert response.status_code == 200
        assert response.data.startswith(b"PK")  # the XLSX, a zip
