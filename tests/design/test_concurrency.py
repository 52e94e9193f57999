"""Issue #11 critical: concurrent saves of a section lost an update.

Ten editors open the skills section at the same version, each adds a different skill and
they save at the same moment. Every skill must be kept and the revisions must number the
versions 1..N, without a gap or a duplicate. Tried two ways, on the run's database
(SQLite file or PostgreSQL): requests served by threads in this process, and the portal
served by gunicorn with two sync workers, as ``make run`` serves it.
"""

import time

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.design.models import SectionRevision
from portal.extensions import db
from tests.design.concurrency_helpers import (
    Browser,
    at_once,
    gunicorn,
    make_editors,
    section_state,
    skills_form,
)
from tests.support import HTMX, PASSWORD, CsrfClient
from tests.support import form_login as login_with_form

EDITORS = 10
SAVED = ("Section enregistrée.", "Vos modifications ont été fusionnées")
TIMINGS: dict[str, float] = {}


def _dialect(app) -> str:
    with app.app_context():
        return db.engine.dialect.name


def _check_everything_kept(app, editors, answers) -> None:
    assert [status for status, _page in answers] == [200] * EDITORS, answers
    for _status, page in answers:
        assert any(notice in page for notice in SAVED), page
    state = section_state(app, editors.operation_id)
    added = [f"Compétence {n:02d}" for n in range(EDITORS)]
    assert sorted(label for label in state.labels if label in added) == added
    assert len(state.labels) == len(editors.base_items) + EDITORS
    assert state.version == editors.base_version + EDITORS
    assert state.revision_versions == list(range(1, state.version + 1))
    assert state.drafts == 0


def test_ten_editors_saving_at_once_in_threads_keep_every_item(app):
    """Issue #11 critical: concurrent saves lose an update (threads against the app)."""
    editors = make_editors(app, EDITORS)
    app.test_client_class = CsrfClient
    clients = []
    for email in editors.emails:
        client = app.test_client()
        assert login_with_form(client, email).status_code == 302
        clients.append(client)

    def save(index, barrier):
        client = clients[index]
        data = skills_form(editors, f"Compétence {index:02d}")
        headers = {**HTMX, "X-CSRFToken": client.csrf_token()}
        barrier.wait()
        response = client.post(editors.save_path, data=data, headers=headers, csrf=False)
        return response.status_code, response.get_data(as_text=True)

    answers, elapsed = at_once(EDITORS, save)
    TIMINGS[f"{_dialect(app)}: {EDITORS} editors, threads in process"] = elapsed
    _check_everything_kept(app, editors, answers)


def test_ten_editors_saving_at_once_through_gunicorn_keep_every_item(app, database_url, tmp_path):
    """Issue #11 critical: concurrent saves lose an update (gunicorn, two sync workers)."""
    editors = make_editors(app, EDITORS)
    started = time.perf_counter()
    with gunicorn(database_url, tmp_path, workers=2) as base_url:
        TIMINGS[f"{_dialect(app)}: gunicorn start"] = time.perf_counter() - started
        browsers = []
        for email in editors.emails:
            browser = Browser(base_url)
            browser.login(email, PASSWORD)
            browser.open(editors.page_path)
            browsers.append(browser)

        def save(index, barrier):
            data = skills_form(editors, f"Compétence {index:02d}")
            barrier.wait()
            return browsers[index].post(editors.save_path, data, headers=HTMX)

        answers, elapsed = at_once(EDITORS, save)
    TIMINGS[f"{_dialect(app)}: {EDITORS} editors, gunicorn 2 workers"] = elapsed
    _check_everything_kept(app, editors, answers)


def test_the_database_refuses_two_revisions_of_one_version(app):
    """Issue #11 critical: a unique key on (section, version) in section_revisions; drafts
    (no version) may be many."""
    editors = make_editors(app, 1)
    with app.app_context():
        revision = db.session.scalar(select(SectionRevision).where(SectionRevision.version == 1))
        for _n in range(2):
            db.session.add(
                SectionRevision(
                    section_id=revision.section_id,
                    version=None,
                    base_version=1,
                    kind="draft",
                    content=revision.content,
                )
            )
        db.session.flush()
        db.session.add(
            SectionRevision(
                section_id=revision.section_id,
                version=1,
                base_version=1,
                kind="save",
                content=revision.content,
            )
        )
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
        db.session.remove()
    assert section_state(app, editors.operation_id).revision_versions == [1]


@pytest.fixture(scope="module", autouse=True)
def _report_timings():
    """Print how long the races took (run pytest with -s to see them)."""
    yield
    for label, seconds in TIMINGS.items():
        print(f"\n[concurrency] {label}: {seconds:.2f} s")  # noqa: T201
