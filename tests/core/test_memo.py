"""The per-request memo (``portal.core.memo``): computed once per request, never across a
write nor across requests."""

from sqlalchemy import func, select

from portal.accounts.models import Territory
from portal.core.memo import remember
from portal.extensions import db


def _counting():
    calls = []

    def count() -> int:
        calls.append(1)
        return db.session.scalar(select(func.count(Territory.id)))

    return calls, count


def test_computed_once_per_request(app):
    calls, count = _counting()
    with app.test_request_context():
        assert remember(("territories",), count) == remember(("territories",), count) == 0
        assert len(calls) == 1
        assert remember(("other",), count) == 0
        assert len(calls) == 2
    with app.test_request_context():
        remember(("territories",), count)
    assert len(calls) == 3  # a new request reads again


def test_a_write_in_the_request_is_seen(app):
    calls, count = _counting()
    with app.test_request_context():
        assert remember(("territories",), count) == 0
        db.session.add(Territory(code="T1", name="Bassin 1"))
        # Pending, not flushed: the memo is bypassed (the count autoflushes and sees it).
        assert remember(("territories",), count) == 1
        assert remember(("territories",), count) == 1
        db.session.add(Territory(code="T2", name="Bassin 2"))
        db.session.flush()  # flushed: forgotten
        assert remember(("territories",), count) == 2
        db.session.commit()
        assert remember(("territories",), count) == 2
        assert len(calls) == 5  # 0, bypassed, 1 (kept), 2 after the flush, 2 after the commit
        territory = db.session.scalar(select(Territory).where(Territory.code == "T2"))
        db.session.delete(territory)
        assert remember(("territories",), count) == 1
        db.session.rollback()  # rolled back: forgotten, the row is back
        assert remember(("territories",), count) == 2
