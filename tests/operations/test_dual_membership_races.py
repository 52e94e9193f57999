"""Requests served at once on people in two parties of one operation (issue #11 M6), each
in its own thread, session and connection, on SQLite and on PostgreSQL.

- The Région's decision reads the request, then writes it: two decisions at once give
  one, the others refused in French (never a 500).
- A situation needs two memberships and two participations: a membership and a
  participation committed at the same time must not each miss the other (the request
  would never be opened; the blocks would still hold, read from the data).
"""

from sqlalchemy import select

from portal.accounts import services as accounts
from portal.accounts.models import Organisation, User
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.operations import dual_approvals
from portal.operations import services as operations
from portal.operations.dual_memberships import Situation
from portal.operations.dual_models import DualMembershipApproval
from portal.operations.models import Operation, ParticipantRole
from tests.design.concurrency_helpers import BASE_URL, acting, race, while_held
from tests.operations.factories import Market
from tests.support import count, empty_database


def _requests(app) -> list[DualMembershipApproval]:
    with app.app_context():
        rows = db.session.scalars(select(DualMembershipApproval)).all()
        db.session.remove()
    return rows


def test_two_decisions_at_once_decide_once(app):
    """#11 M6: the decision reads the request then writes it: served at once, approvals
    and a refusal give one decision; the others are told in French, never a 500."""
    with app.test_request_context(base_url=BASE_URL):
        market = Market()
        accounts.add_membership(market.a_user, market.employer)
        operation = market.report()
        first, second = sorted((market.of_a.id, market.employer.id))
        situation = Situation(operation.id, market.a_user.id, first, second)
        referent = (market.referent.id, market.region.id)
        db.session.commit()
        db.session.remove()

    def decide(approve: bool):
        def work():
            dual_approvals.decide(
                db.session.get(Operation, situation.operation_id),
                situation,
                approve=approve,
                reason="Conflit d'intérêts.",
                **acting(referent),
            )

        return work

    outcomes = race(app, decide(True), decide(False), decide(True))
    assert [o for o in outcomes if o.startswith("error")] == []
    assert outcomes.count("done") == 1
    refusals = [o for o in outcomes if o != "done"]
    assert all(o.startswith("refused: La Région a déjà décidé de ce cumul le ") for o in refusals)
    rows = _requests(app)
    assert len(rows) == 1 and rows[0].decision is not None
    decisions = ["operation.dual_membership_approved", "operation.dual_membership_refused"]
    assert count(app, AuditEvent, AuditEvent.action.in_(decisions)) == 1


def _operation_without_f(app) -> dict:
    """Organisme A's operation with Entreprise E; Entreprise F does not take part yet."""
    with app.test_request_context(base_url=BASE_URL):
        market = Market()
        operation = market.report()
        ids = {
            "operation": operation.id,
            "carrier": (market.a_user.id, market.of_a.id),
            "a_user": market.a_user.id,
            "employer2": market.employer2.id,
        }
        db.session.commit()
        db.session.remove()
    return ids


def test_a_membership_and_a_participation_committed_together_open_the_request(app):
    """#11 M6: Organisme A's admin joins Entreprise F while F is added to the operation,
    in both orders: the second request waits for the first and opens the request. (Both
    lock F's row before reading; the audit chain's head, which each takes before the check,
    orders them too, so this guards the outcome rather than telling the two apart.)"""
    for order in ("participation first", "membership first"):
        ids = _operation_without_f(app)

        def join(ids=ids):
            user = db.session.get(User, ids["a_user"])
            accounts.add_membership(user, db.session.get(Organisation, ids["employer2"]))

        def add(ids=ids):
            operations.add_participant(
                db.session.get(Operation, ids["operation"]),
                db.session.get(Organisation, ids["employer2"]),
                ParticipantRole.EMPLOYER,
                **acting(ids["carrier"]),
            )

        first, second = (add, join) if order == "participation first" else (join, add)
        assert while_held(app, first, second) == ["done", "done"], order
        opened = [(r.operation_id, r.user_id) for r in _requests(app)]
        assert opened == [(ids["operation"], ids["a_user"])], order
        empty_database(app)
