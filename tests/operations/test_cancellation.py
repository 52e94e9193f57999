"""Cancelling an operation (issue #11 L20): only an admin of the carrier OF or the Région,
after a confirmation step that names what stops; every participant and the referent hear
of it."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.accounts.models import User
from portal.core.errors import RuleError
from portal.extensions import db
from portal.immersions.models import Immersion
from portal.notifications.models import Notification
from portal.operations import lifecycle
from portal.operations.models import Operation, Status
from portal.recruitment.models import Trainee, TraineeStatus
from tests.conventions.factories import make_convention_ready, submit_version
from tests.factories import make_user
from tests.operations.factories import OF_A, REFERENT, build_market, report
from tests.support import committed, load, login_as, org_named, text

MEMBER = "a.membre@example.fr"  # a plain (non-admin) member of Organisme A


@pytest.fixture(name="op")
def op_fixture(app):
    build_market(app)
    operation_id = report(app)
    with committed(app):
        make_user(org_named("Organisme A"), email=MEMBER)
    return operation_id


def add_trainees_and_immersion(app, operation_id: int) -> None:
    """Two trainees in training, one candidate, and an immersion planned next month."""
    with committed(app):
        trainees = [
            Trainee(operation_id=operation_id, first_name="Lou", last_name=f"T{i}", status=status)
            for i, status in enumerate(
                [TraineeStatus.IN_TRAINING, TraineeStatus.IN_TRAINING, TraineeStatus.CANDIDATE]
            )
        ]
        db.session.add_all(trainees)
        db.session.flush()
        start = date.today() + timedelta(days=30)
        db.session.add(
            Immersion(
                operation_id=operation_id,
                trainee_id=trainees[0].id,
                employer_id=org_named("Entreprise E").id,
                starts_on=start,
                ends_on=start + timedelta(days=14),
            )
        )


def test_a_plain_member_of_the_carrier_cannot_cancel(app, client, op):
    """Issue #11 L20: a member of the carrier OF who is not its admin may not cancel."""
    login_as(client, MEMBER)
    assert "Annuler l'opération" not in text(client.get(f"/operations/{op}"))
    response = client.post(
        f"/operations/{op}/annulation", data={"reason": "Plus de besoin", "confirmed": "1"}
    )
    assert response.status_code == 403
    assert load(app, Operation, op).status == Status.NEED_REPORTED
    with app.test_request_context():
        member = db.session.scalar(select(User).where(User.email == MEMBER))
        with pytest.raises(RuleError, match="administrateur"):
            lifecycle.cancel(
                db.session.get(Operation, op),
                reason="Plus de besoin",
                by=member,
                org=org_named("Organisme A"),
            )
        db.session.rollback()


def test_cancelling_first_shows_what_stops_and_keeps_the_reason(app, client, op):
    """Issue #11 L20: the first post is a confirmation step naming the trainees in training
    and the immersions planned; nothing is cancelled until it is confirmed."""
    add_trainees_and_immersion(app, op)
    login_as(client, OF_A)
    response = client.post(f"/operations/{op}/annulation", data={"reason": "Employeur parti"})
    assert response.status_code == 200
    page = text(response)
    assert "Ce que l'annulation arrête" in page
    assert "2 stagiaires en formation verront leur formation arrêtée." in page
    assert "1 candidat·e ou stagiaire retenu·e ne pourra pas entrer en formation." in page
    assert "1 période d'immersion prévue ou en cours n'aura pas lieu." in page
    assert "Employeur parti</textarea>" in page  # nothing typed is lost
    assert 'name="confirmed" value="1"' in page
    assert load(app, Operation, op).status == Status.NEED_REPORTED


def test_a_confirmed_cancellation_notifies_participants_and_the_referent(app, client, op):
    """Issue #11 L20: every participant's members and the bassin's referent are told."""
    login_as(client, OF_A)
    response = client.post(
        f"/operations/{op}/annulation", data={"reason": "Employeur parti", "confirmed": "1"}
    )
    assert response.status_code == 303
    assert load(app, Operation, op).status == Status.CANCELLED
    with app.app_context():
        notes = db.session.execute(
            select(User.email, Notification.message)
            .join(Notification, Notification.user_id == User.id)
            # The participants' notice, and the referent's through tell_region (once).
            .where(Notification.kind.in_(["operation_cancelled", "cancelled"]))
        ).all()
        told = {email for email, _message in notes}
        assert all("Employeur parti" in message for _email, message in notes)
    assert {"e.admin@example.fr", MEMBER, REFERENT} <= told
    assert OF_A not in told  # not the one who cancelled


def test_the_confirmation_names_the_convention_version_voided(ctx):
    """Issue #11 L20: an open convention version is named as voided."""
    ready = make_convention_ready()
    submit_version(ready)
    assert any(
        "de la convention, en cours, sera annulée" in line
        for line in lifecycle.cancellation_impact(ready.operation)
    )
