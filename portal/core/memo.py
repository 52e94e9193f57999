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
from typing import TypeVar

from flask import g, has_app_context
from sqlalchemy import event
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


for _name in ("after_flush", "after_commit", "after_rollback", "after_soft_rollback"):
    event.listen(Session, _name, forget)
