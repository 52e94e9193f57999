"""Issue #17: fifty signers of one convention version (``make drill``; eight in the normal
suite, four per worker) sign at the same moment through the portal served by gunicorn with
two sync workers (as ``make run`` serves it), on the run's database (SQLite file or
PostgreSQL). Every signature lands once, no request fails, the version ends « signée », each
signature has its evidence and the audit chain verifies.
"""

import os
import time

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.conventions.models import ConventionVersion, Signature, VersionStatus
from portal.extensions import db
from tests.design.concurrency_helpers import Browser, at_once, gunicorn
from tests.drills.support import integrity_problems, make_to_sign
from tests.support import HTMX, PASSWORD

# ``make drill`` runs the fifty; the normal suite eight, still four signatures per worker at
# once (each signer adds a login, a page and a signature; its gunicorn costs the same).
SIGNERS = int(os.environ.get("DRILL_SIGNERS", "8"))
TIMINGS: dict[str, float] = {}
SIGNED = "Votre signature pour"


def _dialect(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


def test_signers_at_once_through_gunicorn(app, database_url, tmp_path):
    started = time.perf_counter()
    to_sign, _editors = make_to_sign(app, SIGNERS)
    TIMINGS[f"{_dialect(app)}: build the {SIGNERS}-party convention"] = (
        time.perf_counter() - started
    )
    started = time.perf_counter()
    with gunicorn(database_url, tmp_path, workers=2) as base_url:
        TIMINGS[f"{_dialect(app)}: gunicorn start"] = time.perf_counter() - started
        started = time.perf_counter()
        browsers = []
        for signer in to_sign.signers:
            browser = Browser(base_url)
            browser.login(signer.email, PASSWORD)
            browser.open(to_sign.page_path)
            browsers.append(browser)
        TIMINGS[f"{_dialect(app)}: {SIGNERS} logins and pages"] = time.perf_counter() - started

        def sign(index, barrier):
            data = to_sign.form(to_sign.signers[index], PASSWORD)
            barrier.wait()
            return browsers[index].post(to_sign.sign_path, data, headers=HTMX)

        answers, elapsed = at_once(SIGNERS, sign)
    TIMINGS[f"{_dialect(app)}: {SIGNERS} signatures at once, gunicorn 2 workers"] = elapsed

    assert [status for status, _page in answers] == [200] * SIGNERS, [
        a if isinstance(a, str) else a[0] for a in answers
    ]
    assert all(SIGNED in page for _status, page in answers)
    with app.app_context():
        version = db.session.get(ConventionVersion, to_sign.version_id)
        organisations = db.session.scalars(
            select(Signature.organisation_id).where(Signature.version_id == version.id)
        ).all()
        assert version.status == VersionStatus.SIGNED
        assert len(organisations) == len(set(organisations)) == SIGNERS
        evidence = db.session.scalars(
            select(Signature).where(Signature.version_id == version.id)
        ).all()
        assert all(s.version_sha256 == version.sha256 and s.ip and s.user_agent for s in evidence)
        assert {s.consent_text for s in evidence} == {s.consent for s in to_sign.signers}
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "convention.signed")
            )
            == SIGNERS
        )
        db.session.remove()
    assert integrity_problems(app) == []


@pytest.fixture(scope="module", autouse=True)
def _report_timings():
    """Print how long it took (run pytest with -s to see them)."""
    yield
    for label, seconds in TIMINGS.items():
        print(f"\n[signers] {label}: {seconds:.2f} s")  # noqa: T201
