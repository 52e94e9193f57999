"""Support of the concurrency tests (issue #11): service calls raced in threads; for the
co-design, a committed operation with editors, the form of a skills save, the section's
state, and the portal served by gunicorn.

The gunicorn server is the one ``make run`` starts (sync workers, no preload), on a free
loopback port, against the test run's own database (SQLite file or PostgreSQL).
"""

import html
import http.cookiejar
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from portal.accounts.models import Organisation, User
from portal.core.errors import RuleError
from portal.design.models import SectionKey, SectionRevision
from portal.design.queries import load_design
from portal.extensions import db
from tests.design.factories import to_co_design
from tests.factories import make_user
from tests.operations.factories import Market
from tests.support import SECRET_KEY

ROOT = Path(__file__).resolve().parents[2]
SKILLS = "skills"
BASE_URL = "http://portail.test"


def _attempt(app, barrier, work) -> str:
    """Run ``work()`` in a fresh context once every attempt is ready; what happened:
    "done", "refused: <French message>" or "error: …" (a 500 in a view)."""
    with app.test_request_context(base_url=BASE_URL):
        try:
            barrier.wait()  # before any query: no pooled connection held while waiting
            work()
            db.session.commit()
            return "done"
        except RuleError as exc:
            db.session.rollback()
            return f"refused: {exc.message}"
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
            db.session.rollback()
            return f"error: {type(exc).__name__}: {exc}"
        finally:
            db.session.remove()


def acting(pair: tuple[int, int]) -> dict:
    """``by=`` and ``org=`` of a service call, from (user id, organisation id)."""
    user_id, org_id = pair
    return {"by": db.session.get(User, user_id), "org": db.session.get(Organisation, org_id)}


def race(app, *works) -> list[str]:
    """Run every ``work`` at once, each in its own thread, context, session and connection,
    released together by a barrier; their outcomes, in order."""
    barrier = threading.Barrier(len(works), timeout=60)
    with ThreadPoolExecutor(max_workers=len(works)) as pool:
        futures = [pool.submit(_attempt, app, barrier, work) for work in works]
        return [future.result(timeout=120) for future in futures]


def while_held(app, first, second, *, hold: float = 0.6) -> list[str]:
    """Run ``first()`` in a thread and keep its transaction open ``hold`` seconds after it
    returns, while ``second()`` runs in another thread; the outcomes of both, in order.

    Deterministic where ``race`` leaves the order to chance: ``second`` starts only once
    ``first`` has written (and locked what it locks). A verb that locks the row it reads
    waits for ``first``'s commit and decides on its result; one that reads without a lock
    decides on the state from before ``first`` and acts on it anyway.
    """
    written = threading.Event()

    def run_first() -> str:
        with app.test_request_context(base_url=BASE_URL):
            try:
                first()
                db.session.flush()
                written.set()
                time.sleep(hold)
                db.session.commit()
                return "done"
            except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
                db.session.rollback()
                return f"error: {type(exc).__name__}: {exc}"
            finally:
                written.set()
                db.session.remove()

    with ThreadPoolExecutor(max_workers=2) as pool:
        held = pool.submit(run_first)
        waiting = pool.submit(_attempt, app, written, second)
        return [held.result(timeout=120), waiting.result(timeout=120)]


@dataclass
class Editors:
    """An operation in co-design, the skills section as its editors found it, and them."""

    operation_id: int
    base_version: int
    base_items: list[dict]
    emails: list[str]

    @property
    def save_path(self) -> str:
        return f"/operations/{self.operation_id}/conception/{SKILLS}"

    @property
    def page_path(self) -> str:
        return f"/operations/{self.operation_id}/conception"


def make_editors(app, count: int) -> Editors:
    """Commit an operation in co-design with ``count`` members of Entreprise E (editors)."""
    with app.test_request_context(base_url=BASE_URL):
        market = Market()
        operation = to_co_design(market)
        emails = [
            make_user(market.employer, email=f"editor{n:02d}@example.fr").email
            for n in range(count)
        ]
        section = load_design(operation.id).section(SectionKey.SKILLS)
        editors = Editors(operation.id, section.version, list(section.content["items"]), emails)
        db.session.commit()
        db.session.remove()
    return editors


def skills_form(editors: Editors, new_label: str) -> dict:
    """What the edit form posts: the items as they were at the base version, plus one."""
    data = {"base_version": str(editors.base_version)}
    rows = [*editors.base_items, {"id": "", "label": new_label, "employer_id": None}]
    for index, item in enumerate(rows):
        prefix = f"{SKILLS}-items-{index}-"
        data[prefix + "id"] = item["id"]
        data[prefix + "label"] = item["label"]
        data[prefix + "block_code"] = item.get("block_code", "")
        data[prefix + "employer_id"] = str(item["employer_id"] or "")
    return data


@dataclass
class SectionState:
    labels: list[str]
    version: int
    revision_versions: list[int]
    drafts: int


def section_state(app, operation_id: int) -> SectionState:
    """The skills section as stored: its labels, version and every revision's version."""
    with app.app_context():
        section = load_design(operation_id).section(SectionKey.SKILLS)
        revisions = db.session.scalars(
            select(SectionRevision).where(SectionRevision.section_id == section.id)
        ).all()
        state = SectionState(
            labels=[item["label"] for item in section.content["items"]],
            version=section.version,
            revision_versions=sorted(r.version for r in revisions if r.version is not None),
            drafts=sum(1 for r in revisions if r.kind == "draft"),
        )
        db.session.remove()
    return state


# --- gunicorn ------------------------------------------------------------------------------

LISTENING = re.compile(r"Listening at: (http://127\.0\.0\.1:\d+)")


@contextmanager
def gunicorn(database_url: str, tmp_path: Path, *, workers: int = 2, timeout: float = 120):
    """Serve ``wsgi:app`` with gunicorn on a free loopback port; yield its base URL.

    The server reads its configuration from the environment, as in production; it is
    stopped (SIGTERM to the master we started, then SIGKILL) whatever happens.
    """
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET_KEY,
        "PORTAL_ENV": "test",
        "PORTAL_INSTANCE_PATH": str(tmp_path),
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST": str(8 * 1024),
        "ARGON2_PARALLELISM": "1",
        "PUBLIC_URL": "http://portail.test",
    }
    for name in ("MAIL_SERVER", "REDIS_URL"):
        env.pop(name, None)
    log_path = tmp_path / "gunicorn.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                "127.0.0.1:0",
                "--workers",
                str(workers),
                "--timeout",
                "60",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield _wait_until_served(process, log_path, workers, timeout)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_until_served(process, log_path: Path, workers: int, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    url = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn stopped:\n" + log_path.read_text())
        log = log_path.read_text()
        match = LISTENING.search(log)
        if match:
            url = match.group(1)
        if url and log.count("Booting worker") >= workers:
            try:
                with urllib.request.urlopen(url + "/connexion", timeout=30) as response:  # noqa: S310
                    if response.status == 200:
                        return url
            except (urllib.error.URLError, ConnectionError):
                pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not serve in time:\n" + log_path.read_text())


CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Browser:
    """One person's browser against a live server: cookies, CSRF token, form posts."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.token = ""

    def request(self, path: str, data: dict | None = None, headers=None) -> tuple[int, str]:
        """GET (or POST ``data``); returns the status and the page, errors included."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base_url + path, data=body, headers=headers or {})  # noqa: S310
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def login(self, email: str, password: str) -> None:
        status, page = self.request("/connexion")
        assert status == 200, page
        token = CSRF_INPUT.search(page).group(1)
        status, page = self.request(
            "/connexion", {"csrf_token": token, "email": email, "password": password}
        )
        assert status == 200 and "Se déconnecter" in html.unescape(page), f"login of {email}"

    def open(self, path: str) -> None:
        """Open a page and keep its CSRF token for the next posts."""
        status, page = self.request(path)
        assert status == 200, page
        self.token = CSRF_META.search(page).group(1)

    def post(self, path: str, data: dict, headers=None) -> tuple[int, str]:
        return self.request(path, {**data, "csrf_token": self.token}, headers)


def at_once(count: int, work) -> tuple[list, float]:
    """Run ``work(index, barrier)`` in ``count`` threads released together; the results
    in order and the seconds from the release to the last answer."""
    barrier = threading.Barrier(count + 1, timeout=120)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            results[index] = work(index, barrier)
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
            results[index] = f"error: {type(exc).__name__}: {exc}"

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join(timeout=180)
    return results, time.perf_counter() - started
