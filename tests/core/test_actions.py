"""``core.actions.act``: one commit per request; ``keep_loaded`` commits without expiring
what the request read (a save's answer shows what it locked and wrote, without reading it
again), and the default still expires it."""

import pytest
from sqlalchemy import select

from portal.accounts.models import Territory
from portal.core.actions import act
from portal.extensions import db
from tests.support import count_queries


def _rename(territory: Territory, name: str) -> str:
    territory.name = name
    db.session.flush()
    return name


@pytest.mark.parametrize(("keep_loaded", "reads"), [(True, 0), (False, 1)])
def test_after_the_commit_the_answer_reads_again_unless_kept_loaded(app, keep_loaded, reads):
    with app.test_request_context():
        db.session.add(Territory(code="T1", name="Bassin 1"))
        db.session.commit()
        territory = db.session.scalar(select(Territory).where(Territory.code == "T1"))
        answer = act(
            lambda: _rename(territory, "Bassin A"),
            success=lambda _name: territory,
            failure=lambda refusal: None,
            keep_loaded=keep_loaded,
        )
        with count_queries(app) as statements:
            assert answer.name == "Bassin A"
        assert len(statements) == reads
    with app.test_request_context():  # committed either way
        assert db.session.scalar(select(Territory.name).where(Territory.code == "T1")) == (
            "Bassin A"
        )
