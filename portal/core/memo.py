"""A per-request memo of reads that several parts of one page make (issue #16).

The operation page shows an area's figures in its card and asks the same area, through
« À faire » (``todo.duties``), what is expected of the user: both read the same rows. A read
call site that may share its result wraps it in ``remember(key, compute)``; the first call
computes, the others of the same request reuse.

Never stale: the memo lives on ``flask.g`` (one request, or one app context of a command),
it is emptied whenever the session flushes, commits or rolls back, and it is bypassed (and
emptied) while the session holds changes not flushed yet — a read after a write in the same
request computes again. Only read paths use it: a service's guard read under a lock calls
the area's function directly.
"""

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import g, has_app_context
from sqlalchemy import Select, event, literal_column, select, true
from sqlalchemy.orm import Session

from portal.extensions import db

T = TypeVar("T")


def remember(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, once per request for ``key`` (a tuple naming the read and its
    arguments, e.g. ``("recruitment.figures", operation.id)``)."""
    if not has_app_context():
        return compute()
    session = db.session
    if session.new or session.dirty or session.deleted:
        forget()
        return compute()
    memo = g.get("_memo")
    if memo is None:
        memo = g._memo = {}
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def forget(*_args) -> None:
    """Empty the memo of this request (after a write)."""
    if has_app_context():
        g.pop("_memo", None)


@dataclass(frozen=True)
class Read:
    """A read that several parts of a page share, as data so that a page can run several of
    them in one statement (``prefetch``): its memo key, its statement (or a function that
    builds it: building a statement costs more than finding its key in the memo), and
    what to make of the statement's rows (``build(rows)``, rows as tuples)."""

    key: Hashable
    statement: Select | Callable[[], Select]
    build: Callable[[list[tuple]], Any]

    def select(self) -> Select:
        return self.statement if isinstance(self.statement, Select) else self.statement()


def remember_read(read: Read):
    """``read``'s result, once per request (``remember``), by its own statement."""
    return remember(
        read.key, lambda: read.build([tuple(r) for r in db.session.execute(read.select())])
    )


def prefetch(*reads: Read) -> None:
    """Run the ``reads`` not remembered yet in one statement and remember each one's
    result: for a page whose cards each read a few figures of one operation, one query
    instead of one per card.

    Each read must give at most one row (figures of one operation): each becomes a
    subquery left-joined on true to a one-row base, marked so that « no row » and « a row
    of NULLs » stay apart. Does nothing where ``remember`` would not keep the results."""
    if not has_app_context() or db.session.new or db.session.dirty or db.session.deleted:
        return
    memo = g.get("_memo")
    if memo is None:
        memo = g._memo = {}
    todo = list({read.key: read for read in reads if read.key not in memo}.values())
    if not todo:
        return
    parts = [read.select().add_columns(literal_column("1").label("found")).subquery()
             for read in todo]  # fmt: skip
    base = select(literal_column("1").label("one")).subquery()
    statement = select(*(column for part in parts for column in part.c)).select_from(base)
    for part in parts:
        statement = statement.outerjoin(part, true())
    row = tuple(db.session.execute(statement).one())
    start = 0
    for read, part in zip(todo, parts, strict=True):
        values = row[start : start + len(part.c)]
        start += len(part.c)
        memo[read.key] = read.build([values[:-1]] if values[-1] is not None else [])


for _name in ("after_flush", "after_commit", "after_rollback", "after_soft_rollback"):
    event.listen(Session, _name, forget)
