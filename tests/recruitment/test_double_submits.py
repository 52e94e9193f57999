"""Issue #11, finding 11: a candidate form submitted twice at once recorded the same
person twice. The operation's lock makes the second submit find the first's rows (and
refuse them in French, as it would one after the other); the database refuses a second
candidacy with the same address in an operation."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.operations.models import Operation
from portal.recruitment import services
from portal.recruitment.models import Trainee
from tests.design.concurrency_helpers import BASE_URL, acting, race
from tests.operations.factories import Market
from tests.recruitment.factories import make_recruiting_operation, make_trainee

ROW = {
    "last_name": "Moreau",
    "first_name": "Inès",
    "email": "ines.moreau@example.fr",
    "phone": "",
    "birth_year": 1998,
    "prescriber_id": None,
    "public_category": "",
}


@pytest.fixture
def recruiting(app) -> dict:
    with app.test_request_context(base_url=BASE_URL):
        market = Market()
        operation = make_recruiting_operation(market)
        ids = {"operation": operation.id, "carrier": (market.a_user.id, market.of_a.id)}
        db.session.commit()
        db.session.remove()
    return ids


def test_the_same_candidate_submitted_twice_at_once_is_recorded_once(app, recruiting):
    """Issue #11 finding 11: double submits create duplicates (candidates)."""

    def add():
        operation = db.session.get(Operation, recruiting["operation"])
        services.add_trainees(operation, [dict(ROW)], **acting(recruiting["carrier"]))

    outcomes = race(app, add, add)
    assert sorted(outcomes) == [
        "done",
        "refused: 1 ligne(s) à corriger : aucun·e candidat·e n'a été enregistré·e.",
    ]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Trainee)) == 1
        db.session.remove()


def test_the_database_refuses_a_second_candidacy_with_one_address(app, recruiting):
    """Issue #11 finding 11: one candidacy per e-mail address in an operation (addresses
    left empty do not collide)."""
    with app.app_context():
        operation = db.session.get(Operation, recruiting["operation"])
        for _n in range(2):
            make_trainee(operation, email="")
        make_trainee(operation, email=ROW["email"])
        with pytest.raises(IntegrityError):
            make_trainee(operation, email=ROW["email"])
        db.session.rollback()
        db.session.remove()
