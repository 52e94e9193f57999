"""The kinds said in SQL are read in one statement (``rows.read_rows``, a ``UNION ALL``,
issue #16): the same duties — labels, links, operations, urgency — in the same order as
reading each kind on its own, for every demo account, whole and a page at a time, with
their total."""

from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import func, select

from portal.accounts.models import Membership, User
from portal.demo import DEMO_LOGINS
from portal.extensions import db
from portal.operations.models import Operation
from portal.steering.models import SteeringAction
from portal.todo import across
from portal.todo.base import order_key
from portal.todo.rows import Listed, Rows
from tests.support import load_demo_copy


def kind_by_kind(user, org, membership) -> tuple[int, list]:
    """Every duty, each kind read with a query of its own (as before the single statement),
    and their number."""
    found = []
    for kind in across._kinds(user, org, membership):
        if isinstance(kind, Listed):
            found.extend(kind.duties())
            continue
        query = kind.query.order_by(Operation.title, Operation.id, *kind.order)
        found.extend(kind.duty(row) for row in db.session.execute(query))
    found.sort(key=order_key)
    return len(found), found


def shown(duties) -> list[tuple]:
    return [
        (d.kind, str(d.label), str(d.url), d.operation and d.operation.id, d.urgency)
        for d in duties
    ]


def accounts():
    return [email for email, _role in DEMO_LOGINS]


def more_actions(app) -> None:
    """Two more open action items of an operation that has one, owned by the same
    organisation, due before and after it (in id order, not in due order): one kind with
    several rows in one operation, ordered by the kind's own ``order``."""
    with app.app_context():
        action = db.session.scalars(
            select(SteeringAction).where(SteeringAction.done_at.is_(None))
        ).first()
        assert action is not None
        for days, title in ((30, "Plus tard"), (-30, "Plus tôt")):
            db.session.add(SteeringAction(
                meeting_id=action.meeting_id, owner_org_id=action.owner_org_id,
                title=title, due_on=action.due_on + timedelta(days=days),
            ))  # fmt: skip
        db.session.commit()


@pytest.mark.parametrize("email", accounts())
def test_one_statement_reads_what_each_kind_reads(app, email):
    load_demo_copy(app)
    more_actions(app)
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(func.lower(User.email) == email))
        ids = db.session.scalars(
            select(Membership.id).where(Membership.user_id == user_id, Membership.active)
        ).all()
    assert ids
    for membership_id in ids:
        with app.test_request_context():
            # one request per membership: what a request remembers is of its membership
            membership = g.membership = db.session.get(Membership, membership_id)
            user, org = membership.user, membership.organisation
            total, expected = kind_by_kind(user, org, membership)
            assert any(isinstance(k, Rows) for k in across._kinds(user, org, membership))
            assert shown(across.page(user, org, membership)) == shown(expected)
            assert across.count(user, org, membership) == total
            for per_page in (1, 2, 3):
                for offset in range(0, total + per_page, per_page):
                    counted, page = across.count_and_page(
                        user, org, membership, limit=per_page, offset=offset
                    )
                    assert counted == total
                    assert shown(page) == shown(expected[offset : offset + per_page])
