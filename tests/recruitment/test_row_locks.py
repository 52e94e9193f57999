"""Review of issue #11: the early start decision read the operation's step without a lock.

The decision is served while another request holds the operation (``while_held``): it must
wait for that request and decide on what it left, on SQLite and on PostgreSQL.
"""

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.operations import lifecycle
from portal.operations.models import Operation, OperationEvent, Status
from portal.recruitment import training
from tests.design.concurrency_helpers import BASE_URL, acting, while_held
from tests.operations.factories import Market
from tests.recruitment.factories import make_recruiting_operation


@pytest.fixture
def recruiting(app) -> dict:
    """A committed operation at the recruitment step; who acts for the porteur and the Région."""
    with app.test_request_context(base_url=BASE_URL):
        market = Market()
        operation = make_recruiting_operation(market)
        ids = {
            "operation": operation.id,
            "carrier": (market.a_user.id, market.of_a.id),
            "region": (market.region_admin.id, market.region.id),
        }
        db.session.commit()
        db.session.remove()
    return ids


def test_an_early_start_decided_while_the_operation_is_cancelled_is_refused(app, recruiting):
    """Review of #11 (row locks): ``decide_early_start`` checked the step (recruitment)
    without locking the operation: decided while a cancellation was being committed, it was
    recorded on the cancelled operation. It now waits for the cancellation and refuses."""

    def cancel():
        operation = db.session.get(Operation, recruiting["operation"])
        lifecycle.cancel(operation, reason="Plus de besoin.", **acting(recruiting["region"]))

    def decide():
        operation = db.session.get(Operation, recruiting["operation"])
        training.decide_early_start(operation, "Employeurs prêts", **acting(recruiting["carrier"]))

    assert while_held(app, cancel, decide) == [
        "done",
        "refused: Le démarrage se décide pendant l'étape de recrutement.",
    ]
    with app.app_context():
        kinds = db.session.scalars(
            select(OperationEvent.kind).where(
                OperationEvent.operation_id == recruiting["operation"]
            )
        ).all()
        assert Status(db.session.get(Operation, recruiting["operation"]).status) == (
            Status.CANCELLED
        )
        db.session.remove()
    assert "training_start_decided" not in kinds
