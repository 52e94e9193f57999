"""The kept verdict (``designs.gate_met``, issue #16) under concurrent writes of its inputs.

An operation's dates change while a section of its design is saved: each transaction
recomputes the verdict when it flushes. On PostgreSQL (READ COMMITTED) each read the
other's input as it was before the other's commit, so after both commits the stored
verdict was neither the one alone nor the other's but a stale mix, and the Région's
« À faire » listed (or hid) a design that approval would then refuse (or allow). Every
recomputation now locks the design first and reads its inputs after the lock. Each order
is served with ``while_held`` (the first transaction keeps its writes uncommitted while the
second runs), on SQLite and on PostgreSQL.
"""

from datetime import date

import pytest

from portal.design.models import SectionKey
from portal.design.queries import load_design
from portal.design.services import design_problems
from portal.extensions import db
from portal.operations.models import Operation
from portal.operations.services import update_operation
from tests.design.concurrency_helpers import BASE_URL, acting, while_held
from tests.design.factories import filled_design, period, save
from tests.operations.factories import Market


@pytest.fixture
def filled(app) -> dict:
    """A committed design in co-design meeting the gate (session from 4 January to 25 June
    2027, its immersion from 29 March to 30 April), and who edits it."""
    with app.test_request_context(base_url=BASE_URL):
        market = Market()
        design = filled_design(market)
        ids = {
            "operation": design.operation_id,
            "employer": market.employer.id,
            "carrier": (market.a_user.id, market.of_a.id),
        }
        db.session.commit()
        db.session.remove()
    return ids


def _rhythm(employer_id: int, immersion_end: str) -> dict:
    return {
        "items": [
            period("centre", "2027-01-04", "2027-03-26", 420),
            period("immersion", "2027-03-29", immersion_end, 140, employer_id=employer_id),
        ]
    }


def _move_end(filled, session_end: date):
    def move():
        operation = db.session.get(Operation, filled["operation"])
        update_operation(operation, {"session_end": session_end}, **acting(filled["carrier"]))

    return move


def _save_rhythm(filled, immersion_end: str):
    def save_rhythm():
        section = load_design(filled["operation"]).section(SectionKey.RHYTHM)
        content = _rhythm(filled["employer"], immersion_end)
        by = acting(filled["carrier"])
        save(None, section, content, user=by["by"], org=by["org"])

    return save_rhythm


def _kept_and_true(app, operation_id: int) -> tuple[bool, bool]:
    with app.test_request_context(base_url=BASE_URL):  # the problems are worded in French
        design = load_design(operation_id)
        verdict = not design_problems(design, include_approval=False, blocking=0)
        kept = design.gate_met
        db.session.remove()
    return kept, verdict


def test_dates_changed_while_the_rhythm_is_saved(app, filled):
    """The rhythm's save holds the design; the session then ends sooner (15 April). Alone,
    the end cuts the old immersion (to 30 April): the operation's edit stored « not met »
    while the new rhythm (immersion to 9 April) fits the new dates."""
    outcomes = while_held(
        app, _save_rhythm(filled, "2027-04-09"), _move_end(filled, date(2027, 4, 15))
    )
    assert outcomes == ["done", "done"]
    kept, verdict = _kept_and_true(app, filled["operation"])
    assert verdict is True
    assert kept is verdict


def test_rhythm_saved_while_the_dates_change(app, filled):
    """The operation's edit (the session ends on 15 May, the old rhythm still fits) is
    uncommitted when the rhythm is saved with an immersion to 31 May: the save read the
    old dates and kept « met », while the new rhythm overruns the new session."""
    outcomes = while_held(
        app, _move_end(filled, date(2027, 5, 15)), _save_rhythm(filled, "2027-05-31")
    )
    assert outcomes == ["done", "done"]
    kept, verdict = _kept_and_true(app, filled["operation"])
    assert verdict is False
    assert kept is verdict
