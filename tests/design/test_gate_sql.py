"""The gate to the convention said by the database (``may_pass_sql``, issue #16) against
``design_problems`` in Python, over varied designs: the database never leaves out a design
Python lets through, and leaves out every one whose problem it can see (not started, a
mandatory section empty, a blocking thread open) — only the rhythm's hours stay Python's."""

import pytest
from sqlalchemy import select

from portal.design import comments
from portal.design.comments import open_blocking_comments
from portal.design.models import Design, SectionKey
from portal.design.services import (
    design_problems,
    gate_designs,
    may_pass_sql,
)
from portal.extensions import db
from tests.design.factories import (
    filled_design,
    period,
    save,
)
from tests.operations.factories import Market


def verdicts(design) -> tuple[bool, bool]:
    """(Python finds no problem, the database selects the design)."""
    db.session.flush()
    db.session.expire_all()
    python = not design_problems(design, include_approval=False)
    sql = db.session.scalar(select(Design.id).where(Design.id == design.id, may_pass_sql()))
    # read as plain rows (``gate_designs``), the same design meets the same verdict
    (gate,) = gate_designs(select(Design.id).where(Design.id == design.id))
    blocking = open_blocking_comments(design)
    assert (not design_problems(gate, include_approval=False, blocking=blocking)) == python
    return python, sql is not None


@pytest.fixture
def market(ctx):
    return Market()


@pytest.fixture
def filled(market):
    return filled_design(market)


@pytest.mark.parametrize(
    ("key", "content", "python", "sql"),
    [
        (None, None, True, True),
        (SectionKey.ATTENTION, {"text": ""}, True, True),
        (SectionKey.OBJECTIVES, {"text": "  "}, False, False),
        (SectionKey.OBJECTIVES, {"text": ""}, False, False),
        (SectionKey.OBJECTIVES, {}, False, False),
        (SectionKey.PUBLIC, {"text": None}, False, False),
        (SectionKey.MEANS, {"text": " x "}, True, True),
        (SectionKey.SKILLS, {"items": []}, False, False),
        (SectionKey.MODULES, {}, False, False),
        (SectionKey.RHYTHM, {"items": []}, False, False),
        # the hours are checked in Python: the database lets these through
        (SectionKey.RHYTHM, {"items": [period("centre", "2027-01-04", "2027-03-26", 400)]},
         False, True),
        # other blanks than spaces: empty for Python, filled for the database (never the
        # other way round)
        (SectionKey.EVALUATION, {"text": "\n\t"}, False, True),
    ],
)  # fmt: skip
def test_sql_and_python_verdicts_on_sections(market, filled, key, content, python, sql):
    if key is not None:
        save(market, filled.section(key), content)
    assert verdicts(filled) == (python, sql)


def test_sql_and_python_verdicts_on_blocking_threads(market, filled):
    section = filled.section(SectionKey.MODULES)
    comment = comments.add_comment(
        section, "Il manque le module CACES.", by=market.employer_user, org=market.employer,
        blocking=True,
    )  # fmt: skip
    assert verdicts(filled) == (False, False)
    comments.set_comment_resolved(comment, True, by=market.a_user, org=market.of_a)
    assert verdicts(filled) == (True, True)
    comments.add_comment(section, "Une remarque.", by=market.employer_user, org=market.employer)
    assert verdicts(filled) == (True, True)


def test_a_design_not_started_passes_neither(market):
    design = Design(operation=market.report())  # holding no section yet
    db.session.add(design)
    assert verdicts(design) == (False, False)
