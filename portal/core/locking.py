"""Row locks for the verbs that read a row, decide, then write it (issue #11).

A save that merges into a section, a submit that numbers the next version, a decision
that moves a status: each reads the row, checks or merges in Python, then writes. Two
requests served at once both read the same state and the second write silently undoes
the first. ``lock(row)`` makes the read part of the write: call it first, before any
change and before the first audit event, and the verb runs on fresh data while every
other writer of that row waits for this transaction to end.

- PostgreSQL: ``SELECT … FOR UPDATE`` of the row (``Session.refresh`` with
  ``with_for_update``), which waits for a concurrent holder and then reads its commit
  (READ COMMITTED); the statements that follow see it too.
- SQLite has no row locks: ``BEGIN IMMEDIATE`` takes the database's write lock before the
  read (waiting up to ``busy_timeout``), so the refresh reads the last commit and no
  other writer can commit until we do. pysqlite's default (legacy) transaction control is
  kept on purpose: it opens a transaction only before a write statement, so reads outside
  a transaction always see the latest commit, and a transaction already open here began
  with a write and so already holds the lock. The SQLAlchemy recipe that turns pysqlite's
  control off (``isolation_level=None`` + ``BEGIN`` on the ``begin`` event) would make
  every request a snapshot from its first read, and a later write would then fail at once
  with ``database is locked`` (SQLITE_BUSY_SNAPSHOT) instead of waiting: it is not needed.

Locks are always taken in the same order — operation, convention, convention version;
design section, design — and before ``record()``/``log_event()``, whose audit chain head
is a lock every writer takes: a row locked after it could deadlock on PostgreSQL. A verb
that needs the design and the operation (validating a version puts the design in force)
locks the design first: a save holds its section and the design, then inserts an event
whose foreign-key check waits for an operation locked FOR UPDATE. The keeper of the
gate's verdict (``design/gate.py``) follows it: an operation's dates or hours changed lock
its design before the flush writes the operation's row, so a verb that changes them must
not lock the operation first.

The session remembers the rows it locked in the current transaction (``holds``), and
whether ``lock()`` took them — then everything it holds was read since, under that lock.
A keeper that recomputes from rows it did not lock (``design/gate.py``) locks them with
``lock_where`` and reads them afresh, but may trust the session's objects for a row
``lock()`` took. The memory ends with the transaction, and with any savepoint (a savepoint
rolled back releases the row locks taken inside it).
"""

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import event, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from portal.core.memo import forget
from portal.extensions import db

Row = TypeVar("Row")
# session.info key: identity key of each row locked in this transaction -> whether
# ``lock()`` took it (everything the session holds was then expired, and read since).
LOCKED = "core.locked_rows"


def begin_write(session: Session | None = None) -> None:
    """On SQLite, take the database's write lock now (``BEGIN IMMEDIATE``) unless this
    session's transaction already holds it; on PostgreSQL nothing (rows lock one by one)."""
    connection = (session or db.session).connection()
    if (
        connection.dialect.name == "sqlite"
        and not connection.connection.driver_connection.in_transaction
    ):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def lock(row: Row) -> Row:
    """Lock ``row`` until the transaction ends and reload it from the database.

    Pending changes are flushed, then everything the session holds is expired: what the
    verb reads next (the row's children, their statuses) loads again, under the lock,
    rather than as the request first saw it. Returns ``row`` itself.
    """
    session = db.session
    begin_write()
    session.flush()
    session.expire_all()
    forget()  # what the request remembered was read before the lock
    # ``of``: lock this table only, whatever the mapper joins in eagerly.
    session.refresh(row, with_for_update={"of": inspect(row).mapper.class_})
    session.info.setdefault(LOCKED, {})[inspect(row).identity_key] = True
    return row


def holds(session: Session, model, row_id: int, *, read_since: bool = False) -> bool:
    """This transaction locked the row ``row_id`` of ``model``; with ``read_since``, through
    ``lock()``, so that whatever the session holds was read under that lock."""
    taken = session.info.get(LOCKED, {}).get(identity_key(model, row_id))
    return bool(taken) if read_since else taken is not None


def lock_where(session: Session, model, condition, *columns) -> list:
    """Lock the rows of ``model`` that ``condition`` selects, in id order (one statement,
    on the session's connection: usable while it flushes), without reloading anything;
    their ``(id, *columns)`` rows. What was read of them before must be read again."""
    begin_write(session)
    rows = (
        session.connection()
        .execute(select(model.id, *columns).where(condition).order_by(model.id).with_for_update())
        .all()
    )
    taken = session.info.setdefault(LOCKED, {})
    for row in rows:
        taken.setdefault(identity_key(model, row.id), False)
    return rows


@event.listens_for(Session, "after_transaction_end")
def _forget_locks(session: Session, transaction) -> None:
    """The locks end with the transaction; a savepoint's may end with it (rolled back):
    forgotten at the end of either, a lock taken again is only one more statement."""
    if transaction.parent is None or transaction.nested:
        session.info.pop(LOCKED, None)


def first_or_add(query, make: Callable[[], Row]) -> Row:
    """The row ``query`` finds, else the row ``make()`` builds, added in a savepoint: evidence
    written once per distinct fact (an issued file, an issued archive) under a unique key,
    without a lock. Two requests may add the same new row at once: the loser's savepoint
    fails on the key and it returns the winner's row."""
    existing = db.session.scalar(query)
    if existing is not None:
        return existing
    row = make()
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return db.session.scalar(query)
    return row
