"""Issue #11, finding 10: convention decisions and lifecycle moves served at once.

Each attempt runs in its own thread, application context, session and connection,
released together by a barrier, on the run's database (SQLite file or PostgreSQL). A
refusal must be a ``RuleError`` with its French message (the views answer it as a form
error), never an exception that would be a 500; the state must be what some order of the
same requests, one after the other, gives.
"""

from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.conventions import services
from portal.conventions.models import Convention, ConventionVersion, VersionStatus
from portal.extensions import db
from portal.operations import lifecycle
from portal.operations import services as operations
from portal.operations.models import Operation, OperationEvent, Status
from tests.conventions.factories import make_convention_ready, sign_all
from tests.design.concurrency_helpers import BASE_URL, acting, race
from tests.operations.factories import Market

ROUNDS = 4


def _ready(app, *, signed: bool = False) -> dict:
    """Commit a convention ready to submit (or a version signed by all); their ids."""
    with app.test_request_context(base_url=BASE_URL):
        ready = make_convention_ready()
        ids = {
            "convention": ready.convention.id,
            "operation": ready.operation.id,
            "carrier": (ready.market.a_user.id, ready.market.of_a.id),
            "region": (ready.market.referent.id, ready.market.region.id),
        }
        if signed:
            version = ready.submit()
            sign_all(ready, version)
            ids["version"] = version.id
        db.session.commit()
        db.session.remove()
    return ids


def _actions(app, name: str) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == name)).all()
        db.session.remove()
    return rows


def test_simultaneous_submissions_give_one_version_and_a_french_refusal(app):
    """Issue #11 finding 10: two concurrent submits must give one version, never a 500."""
    ids = _ready(app)

    def submit():
        services.submit(db.session.get(Convention, ids["convention"]), **acting(ids["carrier"]))

    outcomes = race(app, *[submit] * 4)
    assert [o for o in outcomes if o.startswith("error")] == []
    assert outcomes.count("done") == 1
    assert [o for o in outcomes if o != "done"] == [
        "refused: Rien n'a changé depuis la version 1 : aucune nouvelle version à soumettre."
    ] * 3
    with app.app_context():
        versions = db.session.scalars(
            select(ConventionVersion).where(ConventionVersion.convention_id == ids["convention"])
        ).all()
        assert [(v.number, v.status) for v in versions] == [(1, VersionStatus.TO_SIGN)]
        db.session.remove()
    assert len(_actions(app, "convention.submitted")) == 1


def test_validate_and_reject_at_once_decide_once(app):
    """Issue #11 finding 10: the Région's validate and reject (and a second validate) of a
    signed version, served at once: one decision, the others refused in French."""
    ids = _ready(app, signed=True)

    def validate():
        version = db.session.get(ConventionVersion, ids["version"])
        services.validate(version, **acting(ids["region"]))

    def reject():
        version = db.session.get(ConventionVersion, ids["version"])
        services.reject(version, reason="Article 3 à revoir.", **acting(ids["region"]))

    outcomes = race(app, validate, reject, validate)
    assert [o for o in outcomes if o.startswith("error")] == []
    assert outcomes.count("done") == 1
    with app.app_context():
        status = db.session.get(ConventionVersion, ids["version"]).status
        db.session.remove()
    decisions = _actions(app, "convention.validated") + _actions(app, "convention.rejected")
    assert len(decisions) == 1
    winner = "validated" if outcomes.index("done") != 1 else "rejected"
    assert status == VersionStatus(winner)
    assert decisions[0].action == f"convention.{winner}"


def test_advance_and_cancel_at_once_keep_a_consistent_history(app):
    """Issue #11 finding 10: ``advance`` and ``cancel`` read then wrote the status without a
    lock: a cancellation could be undone by the advance it raced, its event naming a step
    the operation had already left. Now they happen one after the other."""
    rounds = []
    with app.test_request_context(base_url=BASE_URL):
        market = Market()
        for _n in range(ROUNDS):
            operation = market.report()
            operations.acknowledge_need(operation, by=market.referent, org=market.region)
            rounds.append(operation.id)
        carrier = (market.a_user.id, market.of_a.id)
        region = (market.region_admin.id, market.region.id)
        db.session.commit()
        db.session.remove()
    for operation_id in rounds:

        def advance(operation_id=operation_id):
            operation = db.session.get(Operation, operation_id)
            lifecycle.advance(operation, Status.ANALYSIS, **acting(carrier))

        def cancel(operation_id=operation_id):
            operation = db.session.get(Operation, operation_id)
            lifecycle.cancel(operation, reason="Plus de besoin.", **acting(region))

        outcomes = race(app, advance, cancel)
        assert [o for o in outcomes if o.startswith("error")] == []
        assert outcomes[1] == "done"  # a cancellation is always possible here
        with app.app_context():
            status = db.session.get(Operation, operation_id).status
            events = db.session.scalars(
                select(OperationEvent)
                .where(
                    OperationEvent.operation_id == operation_id,
                    OperationEvent.kind.in_(["advanced", "cancelled"]),
                )
                .order_by(OperationEvent.id)
            ).all()
            history = [(e.kind, e.detail.get("source")) for e in events]
            db.session.remove()
        assert status == Status.CANCELLED
        if outcomes[0] == "done":
            assert history == [("advanced", "need_reported"), ("cancelled", "analysis")]
        else:
            assert outcomes[0].startswith("refused: ")
            assert history == [("cancelled", "need_reported")]
