"""The background job interface (portal/core/jobs.py): with ``REDIS_URL`` a job goes on
the portal's RQ queue and runs in a worker, in a job context (links from ``PUBLIC_URL``,
no client address); without, the same call runs it in a thread of the web process. Then
what goes through it: exports (the row stays the state the page polls) and e-mails, and
``flask worker``. The Redis tests use a queue of their own, deleted afterwards; Redis
unreachable, they skip with the reason (fail in CI, REQUIRE_REDIS=1)."""

import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
from flask import request, url_for
from sqlalchemy import select

from portal.core import jobs
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.mail.services import queue_mail
from portal.reporting import jobs as export_jobs
from portal.reporting.models import ExportJob, JobStatus
from tests.reporting import factories as reporting
from tests.support import client_as, committed

RAN: list[tuple] = []  # what ``remember`` saw, in this process
DONE = threading.Event()


def remember(*args) -> str:
    """A job: note its arguments and the context it ran in."""
    RAN.append((args, url_for("core.home", _external=True), request.remote_addr))
    DONE.set()
    return "remembered"


@pytest.fixture(autouse=True)
def _forget():
    RAN.clear()
    DONE.clear()


def burst(app) -> bool:
    """Run the queued jobs in this process, as ``flask worker --burst`` does in a fork."""
    with app.app_context():
        return jobs.work(burst=True, simple=True)


def queued(app) -> list:
    with app.app_context():
        redis = jobs.connection()
        try:
            return jobs.queue(redis).get_jobs()
        finally:
            redis.close()


def test_without_redis_a_job_runs_in_a_thread_in_a_job_context(app):
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "192.0.2.7"}):
        assert not jobs.on_queue()
        jobs.enqueue("tests.core.test_jobs.remember", 7, b"bytes")
    assert DONE.wait(10)
    assert RAN == [((7, b"bytes"), "http://portail.test/", "")]


def test_with_redis_a_job_waits_on_the_queue_until_a_worker_runs_it(rq_app):
    with rq_app.test_request_context("/"):
        assert jobs.on_queue()
        jobs.enqueue("tests.core.test_jobs.remember", 7, b"bytes", timeout=30)
    [job] = queued(rq_app)
    assert job.func_name == "portal.core.jobs.execute"
    assert job.args == ("tests.core.test_jobs.remember", 7, b"bytes")
    assert job.timeout == 30
    assert RAN == []  # nothing ran in the web process
    assert burst(rq_app) is True
    assert RAN == [((7, b"bytes"), "http://portail.test/", "")]
    assert queued(rq_app) == []
    assert burst(rq_app) is False  # the queue is empty


def test_the_queue_is_the_configured_one(rq_app):
    with rq_app.app_context():
        assert jobs.queue().name == rq_app.config["JOBS_QUEUE"]
        assert jobs.queue().name.startswith("portal-test-")


@pytest.fixture
def pilot(app):
    with committed(app):
        return SimpleNamespace(world=reporting.Pilot())


def test_an_export_is_handed_to_rq_and_written_by_the_worker(rq_app, pilot):
    browser = client_as(rq_app, reporting.REGION_ADMIN)
    response = browser.post("/pilotage/exports/operations/csv")
    assert response.status_code == 303
    with rq_app.app_context():
        job = db.session.scalars(select(ExportJob)).one()
        assert job.status == JobStatus.QUEUED
    [queued_job] = queued(rq_app)
    assert queued_job.args == ("portal.reporting.jobs.run_queued", job.id)
    assert burst(rq_app) is True
    with rq_app.app_context():
        done = db.session.get(ExportJob, job.id)
        assert (done.status, done.attempts) == (JobStatus.DONE, 1)
    page = browser.get(response.headers["Location"])
    assert "Télécharger defi-operations-" in page.get_data(as_text=True)


def test_an_export_taken_by_another_worker_is_not_written_twice(rq_app, pilot):
    browser = client_as(rq_app, reporting.REGION_ADMIN)
    browser.post("/pilotage/exports/operations/csv")
    with rq_app.app_context():
        job = db.session.scalars(select(ExportJob)).one()
        job.status = JobStatus.RUNNING  # the polling worker claimed it first
        job_id = job.id
        db.session.commit()
    burst(rq_app)
    with rq_app.app_context():
        assert db.session.get(ExportJob, job_id).attempts == 0


def test_with_redis_the_request_e_mails_are_sent_by_a_job(rq_app, monkeypatch):
    monkeypatch.setitem(rq_app.config, "MAIL_SERVER", "127.0.0.1")
    with rq_app.test_request_context("/"):
        message = queue_mail("someone@example.org", "Sujet", "Corps")
        db.session.commit()
        response = rq_app.process_response(rq_app.response_class())
        message_id = message.id
    response.close()  # nothing sent after the response: the job will
    [job] = queued(rq_app)
    assert job.args == ("portal.mail.services.send_pending", [message_id])
    with rq_app.app_context():
        assert db.session.get(OutboxMessage, message_id).attempts == 0


def test_flask_worker_without_redis_runs_the_exports_loop_once(app):
    result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output
    assert "REDIS_URL absent" in result.output
    assert "Exports écrits : 0." in result.output


def test_flask_worker_with_redis_runs_the_queued_jobs_in_a_forked_process(rq_app, tmp_path):
    marker = tmp_path / "ran"
    with rq_app.test_request_context("/"):
        jobs.enqueue("os.mkdir", str(marker))
    result = rq_app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output
    assert f"file « {rq_app.config['JOBS_QUEUE']} »" in result.output
    assert marker.exists()  # written by the work horse
    assert RAN == []


def test_a_forked_work_horse_writes_an_export_through_its_own_connections(rq_app, pilot):
    """``flask worker`` forks a process per job: it must not share the parent's pooled
    database connections (``AppWorker.main_work_horse`` gives it a pool of its own)."""
    browser = client_as(rq_app, reporting.REGION_ADMIN)
    browser.post("/pilotage/exports/operations/csv")
    with rq_app.app_context():
        db.session.scalar(select(ExportJob.id))  # the parent holds a pooled connection
    result = rq_app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output
    with rq_app.app_context():
        job = db.session.scalars(select(ExportJob)).one()
        assert (job.status, job.attempts) == (JobStatus.DONE, 1)


def test_with_redis_a_stalled_export_is_handed_to_rq_again(rq_app, pilot):
    browser = client_as(rq_app, reporting.REGION_ADMIN)
    browser.post("/pilotage/exports/operations/csv")
    burst(rq_app)
    with rq_app.app_context():
        job = db.session.scalars(select(ExportJob)).one()
        job.status, job.finished_at = JobStatus.RUNNING, None  # its worker died meanwhile
        job.progressed_at -= timedelta(hours=1)
        job_id = job.id
        db.session.commit()
    with rq_app.test_request_context("/"):
        assert export_jobs.sweep() == (0, 1)
    [requeued] = queued(rq_app)
    assert requeued.args == ("portal.reporting.jobs.run_queued", job_id)
    burst(rq_app)
    with rq_app.app_context():
        done = db.session.get(ExportJob, job_id)
        assert (done.status, done.attempts) == (JobStatus.DONE, 2)
