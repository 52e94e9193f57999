"""Exports written in the background, so that a long one shows its progress in the page
instead of a browser waiting on a frozen download (issue #14).

The dashboard queues a request (``request_export``: which export, which format, the
filters, who asks and for which organisation). A worker — ``flask --app portal jobs
work``, started by ``make run`` next to the web server, a service of its own in
production — claims the oldest request (``claim_next``: ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so several workers never take the same one; the database's write lock on
SQLite), writes the file as the person who asked, with their rights of the moment
(``run``), and records how many lines it has written every half second, through a
connection of its own so the page sees it at once. The page polls the request (htmx,
every second; a meta refresh without JavaScript) and offers the file once written, to
that person only, for ``EXPORT_RETENTION_HOURS``; then ``sweep`` deletes it.

A worker that dies mid-export leaves its request « en cours »: ``sweep`` puts it back in
the queue once it has shown no progress for ``STALLED_AFTER`` (three tries at most).

With ``REDIS_URL`` set, the request is also handed to RQ once committed (``dispatch``):
``flask --app portal worker`` runs it (``run_queued``, which claims that very request and
sweeps first), so no process polls the table; the row stays the state the page polls.
"""

import logging
import secrets
import time
from datetime import timedelta
from pathlib import Path

from flask import current_app, g
from flask_babel import gettext as _
from flask_login import login_user
from sqlalchemy import func, select, update

from portal.accounts.models import Membership, User
from portal.core.errors import RuleError
from portal.core.jobs import enqueue, on_queue
from portal.core.locking import begin_write, lock
from portal.core.time import utcnow
from portal.extensions import db
from portal.reporting.catalogue import EXPORTS, FORMATS, write
from portal.reporting.models import ExportJob, JobStatus
from portal.reporting.scope import Filters, scope_ids

log = logging.getLogger(__name__)

MAX_UNFINISHED = 3  # per person: a fourth waits for one of them
MAX_ATTEMPTS = 3
STALLED_AFTER = timedelta(minutes=5)
EXPORT_TIMEOUT = 3600  # seconds RQ lets one export run
PROGRESS_EVERY = 0.5  # seconds between two progress records
UNFINISHED = (JobStatus.QUEUED, JobStatus.RUNNING)


def folder() -> Path:
    return Path(current_app.config["EXPORTS_DIR"])


def retention() -> timedelta:
    return timedelta(hours=current_app.config["EXPORT_RETENTION_HOURS"])


def request_export(name: str, fmt: str, filters: Filters, *, membership: Membership):
    """Queue the export ``name`` as ``fmt`` of what ``filters`` select, for the member."""
    if name not in EXPORTS or fmt not in FORMATS:
        raise RuleError(_("Cet export n'existe pas."))
    user_id, organisation_id = membership.user_id, membership.organisation_id
    # The person's row is locked first: two requests served at once count one after the
    # other, so the ceiling holds (issue #11's rule for every read-then-write).
    lock(db.session.get(User, user_id))
    unfinished = db.session.scalar(
        select(func.count(ExportJob.id)).where(
            ExportJob.user_id == user_id, ExportJob.status.in_(UNFINISHED)
        )
    )
    if unfinished >= MAX_UNFINISHED:
        raise RuleError(
            _(
                "Vous avez déjà %(n)d exports en préparation : attendez que l'un d'eux "
                "soit prêt avant d'en demander un autre.",
                n=MAX_UNFINISHED,
            )
        )
    job = ExportJob(
        export=name,
        fmt=fmt,
        filters=filters.args(),
        user_id=user_id,
        organisation_id=organisation_id,
    )
    db.session.add(job)
    db.session.flush()
    return job


def title(job: ExportJob) -> str:
    return f"{EXPORTS[job.export].title} ({job.fmt.upper()})"


def owned(job_id: int, user: User) -> ExportJob | None:
    """The request, if ``user`` made it (anyone else: None, the view's 404)."""
    job = db.session.get(ExportJob, job_id)
    return job if job is not None and job.user_id == user.id else None


def recent(user: User, limit: int = 10) -> list[ExportJob]:
    return db.session.scalars(
        select(ExportJob)
        .where(ExportJob.user_id == user.id)
        .order_by(ExportJob.id.desc())
        .limit(limit)
    ).all()


def kept_until(job: ExportJob):
    return job.finished_at + retention() if job.finished_at else None


def path_of(job: ExportJob) -> Path:
    return folder() / job.stored


# ---- the worker ------------------------------------------------------------------------


def dispatch(job_id: int) -> None:
    """Hand a committed request to RQ when ``REDIS_URL`` is set; without Redis the
    database-polling worker (``work``) takes it from the table."""
    if on_queue():
        enqueue("portal.reporting.jobs.run_queued", job_id, timeout=EXPORT_TIMEOUT)


def run_queued(job_id: int) -> JobStatus | None:
    """The RQ job of one request: sweep, then claim and write it (None if another worker
    took it first, or it is no longer queued)."""
    sweep()
    if claim_next(job_id) is None:
        return None
    return run(job_id)


def claim_next(job_id: int | None = None) -> int | None:
    """Take the oldest queued request, or the request ``job_id`` if it is still queued
    (marked running, committed); None when there is none."""
    begin_write()
    query = select(ExportJob).where(ExportJob.status == JobStatus.QUEUED)
    if job_id is not None:
        query = query.where(ExportJob.id == job_id)
    job = db.session.scalar(query.order_by(ExportJob.id).limit(1).with_for_update(skip_locked=True))
    if job is None:
        db.session.rollback()
        return None
    now = utcnow()
    job.status, job.started_at, job.progressed_at = JobStatus.RUNNING, now, now
    job.attempts += 1
    job_id = job.id
    db.session.commit()
    return job_id


def _progress(job_id: int, written: int) -> None:
    """Record the lines written so far, on a connection of its own (seen at once)."""
    with db.engine.begin() as conn:
        conn.execute(
            update(ExportJob)
            .where(ExportJob.id == job_id)
            .values(rows=written, progressed_at=utcnow())
        )


def _counted(job_id: int, data):
    written, last = 0, time.monotonic()
    for row in data:
        yield row
        written += 1
        if time.monotonic() - last >= PROGRESS_EVERY:
            _progress(job_id, written)
            last = time.monotonic()
    _progress(job_id, written)


def _act_as(job: ExportJob) -> Membership:
    """Log the request's author in for this context, with the organisation they asked
    for; refused if they no longer may (account disabled, membership ended)."""
    user = db.session.get(User, job.user_id)
    membership = db.session.scalar(
        select(Membership).where(
            Membership.user_id == job.user_id,
            Membership.organisation_id == job.organisation_id,
            Membership.active.is_(True),
        )
    )
    if user is None or not user.is_enabled or membership is None:
        raise RuleError(
            _("Vous n'êtes plus membre de cette organisation : l'export n'a pas été écrit.")
        )
    login_user(user)
    g.membership = membership
    return membership


def run(job_id: int) -> JobStatus:
    """Write the claimed request's file, as its author; its status once done."""
    job = db.session.get(ExportJob, job_id)
    export = EXPORTS[job.export]
    stored = f"{job.id}-{secrets.token_hex(8)}.{job.fmt}"
    target = folder() / stored
    try:
        membership = _act_as(job)
        scope = scope_ids(Filters.from_args(job.filters))
        export.log_access(scope)
        db.session.commit()  # the access log holds, and no write lock is kept meanwhile
        folder().mkdir(parents=True, exist_ok=True)
        with target.open("wb") as out:
            write(export, job.fmt, _counted(job.id, export.rows(scope, membership)), out)
    except RuleError as exc:
        return _failed(job_id, exc.message, target)
    except Exception:
        log.exception("export job %s failed", job_id)
        return _failed(job_id, _("L'export n'a pas pu être écrit. Demandez-le à nouveau."), target)
    db.session.rollback()
    job = db.session.get(ExportJob, job_id)
    day = utcnow().strftime("%Y%m%d")
    job.status, job.finished_at = JobStatus.DONE, utcnow()
    job.stored, job.size = stored, target.stat().st_size
    job.download_name = f"defi-{job.export}-{day}.{job.fmt}"
    db.session.commit()
    return job.status


def _failed(job_id: int, message: str, target: Path) -> JobStatus:
    db.session.rollback()
    target.unlink(missing_ok=True)
    job = db.session.get(ExportJob, job_id)
    job.status, job.error, job.finished_at = JobStatus.FAILED, message, utcnow()
    db.session.commit()
    return job.status


def sweep() -> tuple[int, int]:
    """Delete the files kept past their time and requeue the stalled requests; how many
    of each."""
    now = utcnow()
    begin_write()
    expired = db.session.scalars(
        select(ExportJob).where(
            ExportJob.status == JobStatus.DONE,
            ExportJob.removed_at.is_(None),
            ExportJob.finished_at < now - retention(),
        )
    ).all()
    for job in expired:
        path_of(job).unlink(missing_ok=True)
        job.removed_at = now
    stalled = db.session.scalars(
        select(ExportJob).where(
            ExportJob.status == JobStatus.RUNNING,
            ExportJob.progressed_at < now - STALLED_AFTER,
        )
    ).all()
    requeued = []
    for job in stalled:
        if job.attempts >= MAX_ATTEMPTS:
            job.status, job.finished_at = JobStatus.FAILED, now
            job.error = _("L'export a été interrompu plusieurs fois. Demandez-le à nouveau.")
        else:
            job.status = JobStatus.QUEUED
            requeued.append(job.id)
    db.session.commit()
    for job_id in requeued:
        dispatch(job_id)
    return len(expired), len(stalled)


def work_once(context) -> int | None:
    """Claim and write one request in a fresh request context (``context()`` makes one);
    its id, or None when the queue is empty."""
    with context():
        job_id = claim_next()
    if job_id is None:
        return None
    with context():
        try:
            run(job_id)
        finally:
            db.session.remove()
    return job_id


def work(context, *, stop, idle: float = 1.0, sweep_every: float = 60.0) -> None:
    """The worker's loop until ``stop`` (a ``threading.Event``) is set."""
    last_sweep = 0.0
    while not stop.is_set():
        if time.monotonic() - last_sweep >= sweep_every:
            with context():
                sweep()
            last_sweep = time.monotonic()
        if work_once(context) is None:
            stop.wait(idle)
