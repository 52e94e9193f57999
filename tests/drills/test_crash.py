"""Issue #17: the crash drill. The portal is served by gunicorn with two sync workers (as
``make run`` serves it) on the run's database (SQLite file or PostgreSQL); editors save a
section and signers sign a convention in a loop of HTTP writes while a worker is killed
with SIGKILL, again and again, at a random moment (both workers are kept busy, so a kill
nearly always lands inside a request). ``make drill`` kills 100 times; the normal suite
twice (``DRILL_ITERATIONS``: each kill waits for a worker's reboot, about two seconds).

After the last kill: every write the portal acknowledged (a 200) is there, nothing was
answered with a 5xx, and the database passes the integrity checks of
``tests/drills/support.py`` (SQLite's integrity_check, no orphan, no duplicated key, no
section version without its revision, no signature without its audit event, the audit
chain verified).
"""

import http.client
import os
import random
import threading
import time
import urllib.error
from dataclasses import dataclass, field

import pytest

from portal.backups import archive
from portal.conventions.models import ConventionVersion, VersionStatus
from portal.extensions import db
from tests.design.concurrency_helpers import Browser, gunicorn, section_state, skills_form
from tests.drills.support import children, gunicorn_master, integrity_problems, kill_9, make_to_sign
from tests.support import HTMX, PASSWORD, another_app, temporary_database

# A worker's reboot (~2 s) paces the kills: 100 take minutes, the suite's 2 some seconds
# (the second after the online backup taken between them).
ITERATIONS = int(os.environ.get("DRILL_ITERATIONS", "2"))
PARTIES = int(os.environ.get("DRILL_PARTIES", "5"))
EDITORS = 4  # with the signers, more clients than workers: both are nearly always busy
BROKEN = (ConnectionError, http.client.HTTPException, urllib.error.URLError, TimeoutError)
REPORT: dict[str, object] = {}


@dataclass
class Tally:
    """What the clients saw: acknowledged writes, cut connections, unexpected answers."""

    saved: list[str] = field(default_factory=list)
    signed: int = 0
    already: int = 0
    interrupted: int = 0
    unexpected: list[str] = field(default_factory=list)
    answers: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answered(self) -> int:
        with self.lock:
            return self.answers


def _edit(browser, editors, index, stop, tally) -> None:
    """Add a skill per save until stopped; a save answered 200 must be kept."""
    n = 0
    while not stop.is_set():
        label = f"Compétence {index}-{n:04d}"
        try:
            status, page = browser.post(
                editors.save_path, skills_form(editors, label), headers=HTMX
            )
        except BROKEN:
            with tally.lock:
                tally.interrupted += 1
            continue
        with tally.lock:
            tally.answers += 1
            if status == 200:
                tally.saved.append(label)
            else:
                tally.unexpected.append(f"save {status}: {page[:200]}")
        n += 1


def _sign(browsers, to_sign, tally) -> None:
    """Each signer in turn, retried after a cut connection until signed (200) or found
    signed by the interrupted attempt (409)."""
    for browser, signer in browsers:
        while True:
            try:
                status, page = browser.post(
                    to_sign.sign_path, to_sign.form(signer, PASSWORD), headers=HTMX
                )
            except BROKEN:
                with tally.lock:
                    tally.interrupted += 1
                continue
            with tally.lock:
                tally.answers += 1
                if status == 200:
                    tally.signed += 1
                elif status == 409 and "a déjà signé" in page:
                    tally.already += 1
                else:
                    tally.unexpected.append(f"sign {status}: {page[:200]}")
            break


def _wait(condition, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the drill waited too long")
        time.sleep(0.02)


def test_kill_9_a_worker_during_writes_loses_nothing(app, database_url, tmp_path):
    to_sign, editors = make_to_sign(app, PARTIES, editors=EDITORS)
    tally, stop, rng = Tally(), threading.Event(), random.Random(17)  # noqa: S311 - not crypto
    kills = 0
    with gunicorn(database_url, tmp_path, workers=2) as base_url:
        master = gunicorn_master()
        editing = []
        for email in editors.emails:
            browser = Browser(base_url)
            browser.login(email, PASSWORD)
            browser.open(editors.page_path)
            editing.append(browser)
        signing = []
        for signer in to_sign.signers:
            browser = Browser(base_url)
            browser.login(signer.email, PASSWORD)
            browser.open(to_sign.page_path)
            signing.append((browser, signer))
        threads = [
            threading.Thread(target=_edit, args=(browser, editors, n, stop, tally))
            for n, browser in enumerate(editing)
        ]
        threads.append(threading.Thread(target=_sign, args=(signing, to_sign, tally)))
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        try:
            for iteration in range(ITERATIONS):
                if iteration == ITERATIONS // 2:  # an online backup, writes going on
                    with app.app_context():
                        backup = archive.create_backup(tmp_path / "pendant.tar")
                # Both workers up and serving again since the last kill, then a random moment.
                _wait(lambda: len(children(master)) == 2)
                seen = tally.answered()
                _wait(lambda seen=seen: tally.answered() >= seen + 2)
                time.sleep(rng.uniform(0, 0.3))
                kills += kill_9(rng.choice(children(master)))
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=120)
        elapsed = time.perf_counter() - started
    with app.app_context():
        dialect = db.engine.dialect.name
    REPORT.update(
        database=dialect,
        kills=kills,
        seconds=round(elapsed, 1),
        saves=len(tally.saved),
        signed=tally.signed,
        already_signed_after_a_cut=tally.already,
        interrupted_requests=tally.interrupted,
    )

    assert kills == ITERATIONS
    assert tally.unexpected == []
    if ITERATIONS >= 10:  # a kill may fall between two requests; among ten, some land inside
        assert tally.interrupted >= 1
    assert tally.signed + tally.already == PARTIES
    kept = section_state(app, editors.operation_id).labels
    assert sorted(set(tally.saved) - set(kept)) == []  # every acknowledged save is there
    with app.app_context():
        assert db.session.get(ConventionVersion, to_sign.version_id).status == (
            VersionStatus.SIGNED
        )
        db.session.remove()
    assert integrity_problems(app) == []
    _restore_elsewhere(backup, tmp_path)


def _restore_elsewhere(backup, tmp_path) -> None:
    """The backup taken during the writes restores into a new database, consistent."""
    with (
        temporary_database("crash_restored", tmp_path) as url,
        another_app(url, DOCUMENTS_DIR=str(tmp_path / "restored")) as restored,
    ):
        with restored.app_context():
            outcome = archive.restore_backup(backup.path)
        assert outcome.problems == []  # counts and chain head as in the manifest
        assert integrity_problems(restored) == []
        REPORT["online backup restored elsewhere"] = sum(outcome.manifest["tables"].values())


@pytest.fixture(scope="module", autouse=True)
def _report():
    """Print the drill's figures (run pytest with -s to see them)."""
    yield
    if REPORT:
        print(f"\n[crash drill] {REPORT}")  # noqa: T201
