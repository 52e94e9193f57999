"""Exports written in the background (issue #14): the dashboard queues a request, a worker
writes it as its author, the page follows its progress (htmx polling, announced once)
and offers the file to that person only while it is kept. Unit rules (claim, progress,
sweep, rights at run time) and the routes, incl. other people refused."""

import csv
import io
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

from portal.accounts.models import Membership
from portal.extensions import db
from portal.recruitment.models import TraineeAccess
from portal.reporting import catalogue, jobs
from portal.reporting.models import ExportJob, JobStatus
from portal.reporting.scope import Filters
from tests.reporting import factories as f
from tests.support import HTMX, client_as, committed, flashes, text, user_with

BASE_URL = "http://portail.test"


@pytest.fixture
def site(app):
    with committed(app):
        world = f.Pilot()
        return SimpleNamespace(tours=world.territories["TRS"].id)


@pytest.fixture(autouse=True)
def _empty_exports_folder(app):
    """The folder is the process's: files of earlier tests (ids start again) go first."""
    shutil.rmtree(jobs_folder(app), ignore_errors=True)


def worker(app):
    """What ``flask jobs work`` does, once: claim the oldest request and write it."""
    return jobs.work_once(lambda: app.test_request_context(base_url=BASE_URL))


def job_row(app, job_id: int) -> ExportJob:
    with app.app_context():
        job = db.session.get(ExportJob, job_id)
        db.session.expunge(job)
        return job


def queue(browser, path="/pilotage/exports/operations/csv", **headers):
    return browser.post(path, headers=headers)


def only_job(app) -> ExportJob:
    with app.app_context():
        [job] = db.session.scalars(select(ExportJob)).all()
        db.session.expunge(job)
        return job


def fetched(browser, path: str):
    """A download read whole and closed (``send_file`` keeps the file open until then)."""
    response = browser.get(path)
    response.get_data()
    response.close()
    return response


def read_csv(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def test_a_queued_export_is_written_by_the_worker_and_downloaded_by_its_author(app, site):
    browser = client_as(app, f.REGION_ADMIN)
    response = queue(browser, f"/pilotage/exports/operations/csv?bassin={site.tours}")
    job = only_job(app)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/pilotage/exports/demandes/{job.id}")
    assert (job.status, job.filters, job.export, job.fmt) == (
        JobStatus.QUEUED,
        {"bassin": site.tours},
        "operations",
        "csv",
    )
    waiting = text(browser.get(f"/pilotage/exports/demandes/{job.id}"))
    assert "En attente" in waiting and 'http-equiv="refresh"' in waiting

    assert worker(app) == job.id
    assert worker(app) is None  # the queue is empty
    done = job_row(app, job.id)
    assert done.status == JobStatus.DONE and done.rows == 1 and done.attempts == 1
    page = text(browser.get(f"/pilotage/exports/demandes/{job.id}"))
    assert "Télécharger defi-operations-" in page and 'http-equiv="refresh"' not in page
    download = fetched(browser, f"/pilotage/exports/demandes/{job.id}/fichier")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    direct = browser.get(f"/pilotage/exports/operations.csv?bassin={site.tours}")
    assert download.get_data() == direct.get_data()
    assert [row["Opération"] for row in read_csv(download.get_data())] == [f.TOURS]


def test_htmx_polls_the_request_and_announces_it_once_ready(app, site):
    browser = client_as(app, f.REGION_ADMIN)
    asked = queue(browser, "/pilotage/exports/promesses/xlsx", **HTMX)
    job = only_job(app)
    fragment = text(asked)
    assert asked.status_code == 200 and "<html" not in fragment
    assert f'hx-get="/pilotage/exports/demandes/{job.id}"' in fragment
    assert 'hx-trigger="every 1s"' in fragment
    assert 'id="export-announce" hx-swap-oob="innerHTML">Export demandé' in fragment
    polled = text(browser.get(f"/pilotage/exports/demandes/{job.id}", headers=HTMX))
    assert 'hx-trigger="every 1s"' in polled and "export-announce" not in polled
    worker(app)
    ended = text(browser.get(f"/pilotage/exports/demandes/{job.id}", headers=HTMX))
    assert "hx-trigger" not in ended  # the polling stops
    assert '<div id="export-announce" hx-swap-oob="innerHTML">Export prêt : Promesses' in ended


def test_the_dashboard_offers_each_export_as_a_form_with_the_filters(app, site):
    page = text(client_as(app, f.REGION_ADMIN).get(f"/pilotage/?bassin={site.tours}"))
    for name in catalogue.EXPORTS:
        for fmt in catalogue.FORMATS:
            assert f'action="/pilotage/exports/{name}/{fmt}?bassin={site.tours}"' in page
    assert 'id="export-announce" role="status"' in page


def test_only_its_author_follows_and_downloads_a_request(app, site, client):
    queue(client_as(app, f.REGION_ADMIN))
    job = only_job(app)
    worker(app)
    for email in (f.REFERENT_TOURS, f.OF1, f.OUTSIDER):  # same organisation, or another
        other = client_as(app, email)
        assert other.get(f"/pilotage/exports/demandes/{job.id}").status_code == 404
        assert other.get(f"/pilotage/exports/demandes/{job.id}/fichier").status_code == 404
    for path in (f"/pilotage/exports/demandes/{job.id}", "/pilotage/exports/demandes/999999"):
        assert client.get(path).status_code == 302  # anonymous: to the login page
    assert client.post("/pilotage/exports/operations/csv").status_code in (302, 400)
    assert (
        client_as(app, f.REGION_ADMIN).get("/pilotage/exports/demandes/999999").status_code == 404
    )


def test_an_unknown_export_or_format_is_404_and_queues_nothing(app, site):
    browser = client_as(app, f.REGION_ADMIN)
    assert queue(browser, "/pilotage/exports/salaires/csv").status_code == 404
    assert queue(browser, "/pilotage/exports/operations/pdf").status_code == 404
    with app.app_context():
        assert db.session.scalars(select(ExportJob)).all() == []


def test_a_fourth_unfinished_request_is_refused_in_french(app, site):
    browser = client_as(app, f.REGION_ADMIN)
    for _ in range(jobs.MAX_UNFINISHED):
        assert queue(browser).status_code == 303
    refused = queue(browser, **HTMX)
    assert refused.status_code == 422
    assert "Vous avez déjà 3 exports en préparation" in text(refused)
    plain = queue(browser, f"/pilotage/exports/operations/csv?bassin={site.tours}")
    assert plain.status_code == 303
    assert plain.headers["Location"].endswith(f"/pilotage/?bassin={site.tours}")
    assert any("exports en préparation" in message for _c, message in flashes(browser))
    with app.app_context():
        assert len(db.session.scalars(select(ExportJob)).all()) == jobs.MAX_UNFINISHED
    worker(app)  # one is written: a new request is accepted again
    assert queue(browser).status_code == 303


def test_the_worker_writes_with_the_rights_of_its_author_and_logs_trainees_shown(app, site):
    """A partner's trainee export: pseudonymised as the direct download is, and the access
    log line written when the file is (as the partner)."""
    browser = client_as(app, f.PARTNER)
    queue(browser, "/pilotage/exports/stagiaires/csv")
    job = only_job(app)
    worker(app)
    written = fetched(browser, f"/pilotage/exports/demandes/{job.id}/fichier").get_data()
    with app.app_context():
        [access] = db.session.scalars(select(TraineeAccess)).all()
        assert access.action == "export_trainees" and access.user_id == user_with(f.PARTNER).id
    direct = browser.get("/pilotage/exports/stagiaires.csv").get_data()
    assert written == direct and read_csv(written)


def test_a_member_who_left_before_the_run_gets_a_french_failure_and_no_file(app, site):
    browser = client_as(app, f.OF1)
    queue(browser)
    job = only_job(app)
    with committed(app):
        db.session.execute(
            update(Membership).where(Membership.user_id == user_with(f.OF1).id).values(active=False)
        )
    worker(app)
    failed = job_row(app, job.id)
    assert failed.status == JobStatus.FAILED and failed.stored == ""
    assert failed.error.startswith("Vous n'êtes plus membre de cette organisation")
    assert not list(jobs_folder(app).glob(f"{job.id}-*"))


def jobs_folder(app):
    with app.app_context():
        return jobs.folder()


def test_progress_is_seen_from_another_connection_while_the_file_is_written(app, site, monkeypatch):
    monkeypatch.setattr(jobs, "PROGRESS_EVERY", 0)
    seen = []

    def rows(_scope, _membership):
        for n in range(1, 6):
            if n == 4:  # three rows handed over: what does the page see now?
                with db.engine.connect() as conn:
                    seen.append(conn.scalar(select(ExportJob.rows)))
            yield (f"Opération {n}",)

    export = catalogue.Export("operations", "Opérations", lambda: [catalogue.Column("A")], rows)
    monkeypatch.setitem(catalogue.EXPORTS, "operations", export)
    monkeypatch.setitem(jobs.EXPORTS, "operations", export)
    queue(client_as(app, f.REGION_ADMIN))
    job = only_job(app)
    worker(app)
    assert seen == [3] and job_row(app, job.id).rows == 5


def test_the_sweep_deletes_expired_files_and_requeues_stalled_requests(app, site):
    browser = client_as(app, f.REGION_ADMIN)
    for _ in range(3):
        queue(browser)
    with app.app_context():
        ids = list(db.session.scalars(select(ExportJob.id).order_by(ExportJob.id)))
    worker(app)
    long_ago = timedelta(hours=25)
    with committed(app):
        expired = db.session.get(ExportJob, ids[0])
        expired.finished_at -= long_ago
        path = jobs.path_of(expired)
        for job_id, attempts in ((ids[1], 1), (ids[2], jobs.MAX_ATTEMPTS)):
            stalled = db.session.get(ExportJob, job_id)
            stalled.status, stalled.attempts = JobStatus.RUNNING, attempts
            stalled.progressed_at = expired.finished_at
    assert path.exists()
    with app.test_request_context(base_url=BASE_URL):
        assert jobs.sweep() == (1, 2)
    assert not path.exists()
    assert job_row(app, ids[0]).removed_at is not None
    assert job_row(app, ids[1]).status == JobStatus.QUEUED
    gave_up = job_row(app, ids[2])
    assert gave_up.status == JobStatus.FAILED and "interrompu plusieurs fois" in gave_up.error
    gone = browser.get(f"/pilotage/exports/demandes/{ids[0]}/fichier")
    assert gone.status_code == 303
    assert any("plus) disponible" in message for _c, message in flashes(browser))


def test_two_workers_never_take_the_same_request(app, site, monkeypatch):
    """Two workers ask for the next request at the same moment (two threads, two
    connections, released by a barrier), and the first to find it dawdles before marking
    it taken: one takes it, the other finds the queue empty (without the lock, both took
    it)."""
    queue(client_as(app, f.REGION_ADMIN))
    job = only_job(app)
    barrier = threading.Barrier(2, timeout=30)
    real_utcnow = jobs.utcnow

    def dawdling_utcnow():
        time.sleep(0.3)  # between finding the request and marking it taken
        return real_utcnow()

    monkeypatch.setattr(jobs, "utcnow", dawdling_utcnow)

    def claim():
        with app.test_request_context(base_url=BASE_URL):
            barrier.wait()
            try:
                return jobs.claim_next()
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=2) as pool:
        claimed = [future.result(timeout=60) for future in [pool.submit(claim) for _ in "ab"]]
    assert sorted(claimed, key=str) == sorted([job.id, None], key=str)
    assert job_row(app, job.id).attempts == 1


def test_the_cli_writes_the_waiting_requests_once(app, site):
    browser = client_as(app, f.REGION_ADMIN)
    queue(browser)
    queue(browser, "/pilotage/exports/suivis/ods")
    result = app.test_cli_runner().invoke(args=["jobs", "work", "--once"])
    assert result.exit_code == 0, result.output
    assert "Exports écrits : 2." in result.output
    with app.app_context():
        statuses = set(db.session.scalars(select(ExportJob.status)))
    assert statuses == {JobStatus.DONE}


def test_two_requests_at_once_never_pass_the_ceiling(app, site, monkeypatch):
    """Two tabs of the same person ask for an export at the same moment with two already
    in preparation (two threads, two connections), each dawdling between counting and
    queuing: one is queued, the other refused in French — never four unfinished."""
    browser = client_as(app, f.REGION_ADMIN)
    for _ in range(jobs.MAX_UNFINISHED - 1):
        assert queue(browser).status_code == 303
    real_args = Filters.args

    def dawdling_args(self):
        time.sleep(0.3)  # between the count and the insert
        return real_args(self)

    monkeypatch.setattr(Filters, "args", dawdling_args)
    tabs = [client_as(app, f.REGION_ADMIN) for _ in range(2)]
    barrier = threading.Barrier(len(tabs), timeout=30)

    def ask(tab):
        barrier.wait()
        response = queue(tab, **HTMX)
        return response.status_code, text(response)

    with ThreadPoolExecutor(max_workers=len(tabs)) as pool:
        answers = list(pool.map(ask, tabs))
    assert sorted(status for status, _page in answers) == [200, 422]
    assert any("exports en préparation" in page for status, page in answers if status == 422)
    with app.app_context():
        assert len(db.session.scalars(select(ExportJob)).all()) == jobs.MAX_UNFINISHED
