"""The per-request memo (``portal.core.memo``): computed once per request, never across a
write nor across requests."""

from sqlalchemy import func, select

from portal.accounts.models import Territory
from portal.core.memo import Read, prefetch, remember, remember_read
from portal.extensions import db
from tests.support import count_queries


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


def _reads() -> list[Read]:
    """Three one-row-or-none reads: a count, a row of NULLs, and no row at all."""
    count = Read(("count",), select(func.count(Territory.id)), lambda rows: rows[0][0])
    nulls = Read(("nulls",), select(func.max(Territory.name), func.min(Territory.code)), list)
    none = Read(("none",), select(Territory.name).where(Territory.code == "absent"), list)
    return [count, nulls, none]


def test_prefetch_runs_reads_in_one_statement_and_remembers_them(app):
    with app.test_request_context():
        alone = [remember_read(read) for read in _reads()]
    assert alone == [0, [(None, None)], []]  # « a row of NULLs » is not « no row »
    with app.test_request_context(), count_queries(app) as statements:
        prefetch(*_reads())
        assert len(statements) == 1
        assert [remember_read(read) for read in _reads()] == alone
        assert len(statements) == 1  # read from the memo
        prefetch(*_reads())  # already remembered: nothing to run
        assert len(statements) == 1


def test_prefetch_keeps_nothing_across_a_write(app):
    with app.test_request_context(), count_queries(app) as statements:
        prefetch(*_reads())
        db.session.add(Territory(code="T1", name="Bassin 1"))
        db.session.flush()
        assert remember_read(_reads()[0]) == 1
        assert len(statements) == 3  # the prefetch, the insert, the count read again
