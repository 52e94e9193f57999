"""Background jobs: on RQ (Redis) when ``REDIS_URL`` is set, in this process otherwise.

One call, ``enqueue("portal.area.module.function", *args)``, names the job by its dotted
path (so the worker imports it; the arguments must pickle: ids, bytes, strings). Where it
runs:

- with ``REDIS_URL``: on the RQ queue ``JOBS_QUEUE``, taken by ``flask --app portal
  worker`` (``make worker``), on any host; the web request returns at once;
- without (the embedded default, ``make run`` alone): in a daemon thread of the web
  process, so the request still returns at once and nothing else needs starting.

Work whose embedded fallback is its own — exports, which the database-polling ``flask
jobs work`` loop takes from their table; e-mails, sent after the response — asks
``on_queue()`` and enqueues only then.

Every job runs in a fresh request context built like the CLI's (links from
``PUBLIC_URL``, no client address: services record the request's IP and user agent as
evidence, and a job has neither). A job records its own outcome (an export's row, a PDF's
failure file): RQ's result keys are not where the pages look.
"""

import importlib
import threading

from flask import Flask, current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker, Worker

from portal.extensions import db

DEFAULT_TIMEOUT = 600  # seconds a job may run before RQ stops it
QueueError = RedisError  # what ``enqueue`` raises when Redis does not answer


def on_queue() -> bool:
    """True when jobs go to RQ (``REDIS_URL`` is set)."""
    return bool(current_app.config.get("REDIS_URL"))


def connection(*, worker: bool = False) -> Redis:
    """A client of the configured Redis: a web request waits 5 s at most for an answer; a
    worker none (its blocking dequeue and its pub/sub thread wait longer on purpose: with a
    socket timeout, each burst of RQ 3 ends a minute late)."""
    timeout = None if worker else 5
    return Redis.from_url(
        current_app.config["REDIS_URL"], socket_timeout=timeout, socket_connect_timeout=5
    )


def queue(redis: Redis | None = None) -> Queue:
    """The RQ queue of this portal (``JOBS_QUEUE``)."""
    return Queue(current_app.config["JOBS_QUEUE"], connection=redis or connection())


def enqueue(func_path: str, *args, timeout: int = DEFAULT_TIMEOUT) -> None:
    """Run ``func_path(*args)`` in the background: on RQ with Redis, else in a thread."""
    if on_queue():
        redis = connection()
        try:
            queue(redis).enqueue("portal.core.jobs.execute", func_path, *args, job_timeout=timeout)
        finally:
            redis.close()
        return
    app = current_app._get_current_object()
    threading.Thread(
        target=_in_thread, args=(app, func_path, args), name=f"job {func_path}", daemon=True
    ).start()


def job_context(app: Flask | None = None):
    """A request context for a job or a CLI command: links from ``PUBLIC_URL``, and no
    client address, which the services would otherwise record as evidence."""
    app = app or current_app
    return app.test_request_context(
        base_url=app.config["PUBLIC_URL"],
        environ_base={"REMOTE_ADDR": "", "HTTP_USER_AGENT": ""},
    )


def _function(func_path: str):
    module, _dot, name = func_path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def execute(func_path: str, *args):
    """The entry point of every RQ job: ``func_path(*args)`` in a job context of the
    worker's app (``flask worker`` runs inside the application context)."""
    with job_context():
        try:
            return _function(func_path)(*args)
        finally:
            db.session.remove()


def _in_thread(app: Flask, func_path: str, args: tuple) -> None:
    with app.app_context():
        execute(func_path, *args)


class AppWorker(Worker):
    """RQ's forking worker; each job's process starts with a connection pool of its own
    (connections inherited through ``fork`` must not be shared with the parent)."""

    def main_work_horse(self, job, queue):
        db.engine.dispose(close=False)
        super().main_work_horse(job, queue)


class _BurstWorker:
    """A worker that empties the queue and ends: without RQ's command channel (a pub/sub
    thread, for « stop » or « kill » sent to a long-running worker), whose stop waits up to
    a minute when the burst ended before it had subscribed (RQ 3 with redis-py 8)."""

    def subscribe(self):
        self.pubsub_thread = None


class BurstWorker(_BurstWorker, AppWorker):
    """``flask worker --burst``."""


class SimpleBurstWorker(_BurstWorker, SimpleWorker):
    """The tests' worker: the jobs in this process, until the queue is empty."""


def work(*, burst: bool = False, simple: bool = False) -> bool:
    """Run an RQ worker on the portal's queue (inside the application context): until
    stopped, or with ``burst`` until the queue is empty. ``simple`` runs the jobs in this
    process (tests, always a burst), not in a forked one."""
    redis = connection(worker=True)
    if simple:
        worker_class, burst = SimpleBurstWorker, True
    else:
        worker_class = BurstWorker if burst else AppWorker
    try:
        worker = worker_class([queue(redis)], connection=redis)
        return worker.work(burst=burst, with_scheduler=False)
    finally:
        redis.close()
