"""What the layout shows on every page — the demo banner and the unread notifications
badge — read in one query, once per request, and only if a template shows it.

The badge counts at most ``BADGE_CAP`` + 1 unread notifications and shows « 99+ » beyond
``BADGE_CAP``: counting them all made every page's cost grow with a person's unread
backlog (69,000 for the bench's organisme at 10,000 operations, most of the layout's work).
The notifications page still says the exact number.

The context processor hands templates two lazy proxies (``demo_mode``,
``unread_notifications``): an htmx fragment that never reads them costs no query, a page
that reads both costs one (issue #16's layout budget: user and session, memberships with
their organisations, and this one). Counted by tests/core/test_layout_queries.py.
"""

import functools
from dataclasses import dataclass

from flask import g
from flask_login import current_user
from sqlalchemy import Select, exists, func, literal, select
from werkzeug.local import LocalProxy

from portal.accounts.models import User
from portal.core.demo_state import DEMO_DOMAIN
from portal.core.memo import Read, remember_read
from portal.notifications.models import Notification

BADGE_CAP = 99
# Statements of the layout's read kept, one per person recently seen by this process.
FACTS_STATEMENTS_KEPT = 512


@dataclass(frozen=True)
class LayoutFacts:
    """The demo banner's flag and the header's unread count for this request."""

    demo_mode: bool
    unread_notifications: int


def layout_facts() -> LayoutFacts:
    """Both facts in one statement, remembered for the rest of the request (a page that
    runs its reads together, ``memo.prefetch``, may have read them already)."""
    facts = g.get("layout_facts")
    if facts is None:
        facts = g.layout_facts = remember_read(facts_read())
    return facts


def facts_read() -> Read:
    """``layout_facts``' read, for a page to run with its own (``memo.prefetch``)."""
    user_id = current_user.id if current_user.is_authenticated else None
    return Read(("layout.facts",), _facts_statement(user_id), _facts)


@functools.lru_cache(maxsize=FACTS_STATEMENTS_KEPT)
def _facts_statement(user_id: int | None) -> Select:
    """The statement of ``facts_read`` for ``user_id`` (None: anonymous), built once per
    person: a statement never changes once built, and building this one anew cost a
    twentieth of a page that shows only the layout (issue #16). It stays a plain
    ``Select`` with the person's id in it, so that a page may still join it to its own
    reads (``memo.prefetch``)."""
    if user_id is not None:
        first_unread = (
            select(Notification.id)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
            .limit(BADGE_CAP + 1)
            .subquery()
        )
        unread = select(func.count()).select_from(first_unread).scalar_subquery()
    else:
        unread = literal(0)
    demo = exists().where(User.email.like(f"%@{DEMO_DOMAIN}"))
    return select(unread.label("unread"), demo.label("demo"))


def _facts(rows: list[tuple]) -> LayoutFacts:
    ((unread, demo),) = rows
    return LayoutFacts(bool(demo), int(unread or 0))


def layout_globals() -> dict:
    """The template variables: read only when a template uses them."""
    return {
        "demo_mode": LocalProxy(lambda: layout_facts().demo_mode),
        "unread_notifications": LocalProxy(lambda: layout_facts().unread_notifications),
    }
