"""The gate's verdict kept in ``designs.gate_met`` (``portal/design/gate.py``, issue #16)
never goes stale: after every kind of write the gate reads (a section saved, emptied or
restored, the operation's dates or hours changed, a design started), on each path the
flush takes (the design in memory or read back), and over the whole demo, it equals
``design_problems`` in Python; and the Région's SQL condition (``approvable_sql``) is then
exactly Python's verdict, blocking threads included."""

from datetime import date

import pytest
from sqlalchemy import select

from portal.design import comments
from portal.design.gate import approvable_sql
from portal.design.models import Design, SectionKey, SectionRevision
from portal.design.services import design_for, design_problems, restore_revision
from portal.extensions import db
from portal.operations.services import update_operation
from tests.design.factories import (
    complete_contents,
    filled_design,
    period,
    save,
    to_co_design,
)
from tests.operations.factories import Market
from tests.support import load_demo_copy


def python_verdict(design: Design) -> bool:
    keys = {s.key for s in design.sections}
    if keys < set(SectionKey.design_keys()):
        return False
    return not design_problems(design, include_approval=False, blocking=0)


def stored(design_id: int) -> bool:
    return db.session.scalar(select(Design.gate_met).where(Design.id == design_id))


def check(design: Design) -> bool:
    """The stored verdict, once flushed, equal to Python's on the design read afresh; and
    the Région's SQL condition equal to Python's full verdict."""
    db.session.flush()
    db.session.expire_all()
    verdict = python_verdict(design)
    assert stored(design.id) is verdict
    full = not design_problems(design, include_approval=False)
    sql = db.session.scalar(select(Design.id).where(Design.id == design.id, approvable_sql()))
    assert (sql is not None) is full
    return verdict


@pytest.fixture
def market(ctx):
    return Market()


@pytest.fixture
def filled(market):
    return filled_design(market)


def test_a_design_being_started_and_then_filled(market):
    design = design_for(to_co_design(market))
    assert check(design) is False  # started, nothing written yet
    for key, content in complete_contents(market.employer.id).items():
        save(market, design.section(key), content)
        check(design)  # at each step, the stored verdict is Python's
    assert check(design) is True


@pytest.mark.parametrize(
    ("key", "content"),
    [
        (SectionKey.OBJECTIVES, {"text": "\n\t"}),  # blank for Python, not for SQL's trim
        (SectionKey.SKILLS, {"items": []}),
        (SectionKey.RHYTHM, {"items": [period("centre", "2027-01-04", "2027-03-26", 400)]}),
        (SectionKey.RHYTHM, {"items": []}),
        (SectionKey.MODULES, {"items": [{"title": "CACES", "place": "platform",
                                         "employer_id": 999}]}),
    ],
)  # fmt: skip
def test_a_section_saved_changes_the_verdict_both_ways(market, filled, key, content):
    before = filled.section(key).content
    save(market, filled.section(key), content)
    assert check(filled) is False
    save(market, filled.section(key), before)
    assert check(filled) is True


def test_a_section_saved_with_the_design_in_memory(market, filled):
    """The save of a section on its page: the design and its sections already read, the
    verdict decided without reading them again — and still right."""
    db.session.expire_all()
    design = db.session.get(Design, filled.id)
    _ = [s.content for s in design.sections], design.operation.hours_centre
    save(market, design.section(SectionKey.RHYTHM), {"items": []})
    assert design.gate_met is False  # the object in memory agrees with the row
    assert check(filled) is False
    design = db.session.get(Design, filled.id)
    _ = [s.content for s in design.sections]  # the operation left expired
    save(market, design.section(SectionKey.RHYTHM),
         complete_contents(market.employer.id)[SectionKey.RHYTHM])  # fmt: skip
    assert check(filled) is True


@pytest.mark.parametrize(
    "change",
    [
        {"hours_centre": 421},
        {"hours_company": None},
        {"session_start": "2027-02-01"},
        {"session_end": "2027-03-01"},
    ],
)
def test_the_operations_dates_and_hours_change_the_verdict(market, filled, change):
    operation = filled.operation
    data = {k: date.fromisoformat(v) if isinstance(v, str) else v for k, v in change.items()}
    before = {k: getattr(operation, k) for k in data}
    if "session_start" not in data and "session_end" not in data:
        update_operation(operation, {"session_start": date(2027, 1, 1),
                                     "session_end": date(2027, 5, 31)},
                         by=market.a_user, org=market.of_a)  # fmt: skip
        assert check(filled) is True
    update_operation(operation, data, by=market.a_user, org=market.of_a)
    assert check(filled) is False
    update_operation(filled.operation, before, by=market.a_user, org=market.of_a)
    assert check(filled) is True


def test_a_restored_revision_changes_the_verdict(market, filled):
    rhythm = filled.section(SectionKey.RHYTHM)
    good = db.session.scalar(
        select(SectionRevision)
        .where(SectionRevision.section_id == rhythm.id, SectionRevision.version.is_not(None))
        .order_by(SectionRevision.version.desc())
    )
    save(market, rhythm, {"items": []})
    assert check(filled) is False
    restore_revision(filled.section(SectionKey.RHYTHM), good, by=market.a_user, org=market.of_a,
                     steering=True)  # fmt: skip
    assert check(filled) is True


def test_blocking_threads_are_read_not_kept(market, filled):
    section = filled.section(SectionKey.MODULES)
    comment = comments.add_comment(section, "Il manque le module CACES.",
                                   by=market.employer_user, org=market.employer,
                                   blocking=True)  # fmt: skip
    assert check(filled) is True  # the kept verdict, while SQL says « not yet »
    comments.set_comment_resolved(comment, True, by=market.a_user, org=market.of_a)
    assert check(filled) is True


def test_the_demo_keeps_every_verdict(app):
    load_demo_copy(app)
    with app.test_request_context():
        designs = db.session.scalars(select(Design)).all()
        assert designs
        for design in designs:
            assert design.gate_met is python_verdict(design), design.operation.title
