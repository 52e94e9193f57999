"""Reminders of the follow-up (``flask reminders send``): « à faire » once, « en retard »
again after the cooldown, the +6 months escalation to the referent once."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.core.time import utcnow
from portal.extensions import db
from portal.followup import reminders
from portal.mail.models import OutboxMessage
from portal.notifications.models import Notification
from portal.operations.models import Status
from tests.followup.factories import TODAY, Training, milestone_of
from tests.support import committed


@pytest.fixture
def world(ctx):
    world = Training(started=400)
    world.exit(world.alice, TODAY - timedelta(days=100))  # +3 months due nine days ago or so
    world.answer(world.alice, "exit", world.of, employer_id=world.market.employer.id)
    db.session.flush()
    return world


def notes(kind: str) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.kind == kind)))


def test_a_follow_up_due_is_reminded_once_to_the_organisme(world):
    now = utcnow()
    assert reminders.send_due_reminders(now) == 1
    sent = notes("followup_due")
    assert {n.user_id for n in sent} == {world.market.a_user.id, world.of_staff.id}
    assert "Alice Durand — suivi à 3 mois, échéance le" in sent[0].message
    assert "/suivi-emploi" in sent[0].link
    mails = db.session.scalars(select(OutboxMessage.subject)).all()
    assert mails.count(f"Suivi dans l'emploi à faire — {world.operation.title}") == 2
    assert milestone_of(world.alice, "m3").reminded_at == now
    assert reminders.send_due_reminders(now + timedelta(hours=1)) == 0


def test_an_overdue_follow_up_is_reminded_again_after_the_cooldown(world):
    m3 = milestone_of(world.alice, "m3")
    late = utcnow() + timedelta(days=(m3.due_on - TODAY).days + 16)
    assert reminders.send_due_reminders(late) == 1
    assert len(notes("followup_overdue")) == 2 and notes("followup_due") == []
    assert reminders.send_due_reminders(late + timedelta(days=6)) == 0  # cooldown: 7 days
    assert reminders.send_due_reminders(late + timedelta(days=7)) == 1
    assert len(notes("followup_overdue")) == 4


def test_disagreeing_answers_are_reminded_as_late(world):
    e = world.market.employer.id
    world.answer(world.alice, "m3", world.of, employer_id=e)
    world.answer(world.alice, "m3", world.employer, situation="job_seeking")
    reminders.send_due_reminders(utcnow())
    [note, *_] = notes("followup_overdue")
    assert "aux réponses à rapprocher" in note.message and "Alice Durand" in note.message


def test_a_missing_six_months_follow_up_goes_to_the_referent_once(world):
    world.exit(world.bob, TODAY - timedelta(days=230))  # +6 months due seven weeks ago
    now = utcnow()
    reminders.send_due_reminders(now)
    escalated = notes("followup_escalated")
    referent = world.market.referent
    assert referent.id in {n.user_id for n in escalated}
    assert "Bob Petit — suivi à 6 mois" in escalated[0].message
    assert "plus de 30 jours après son échéance" in escalated[0].message
    assert milestone_of(world.bob, "m6").escalated_at == now
    reminders.send_due_reminders(now + timedelta(days=30))
    assert len(notes("followup_escalated")) == len(escalated)  # once


def test_cancelled_operations_are_not_reminded(world):
    world.operation.status = Status.CANCELLED
    assert reminders.send_due_reminders(utcnow()) == 0


def test_the_command_sends_them(app, world):
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["reminders", "send"])
    assert result.exit_code == 0, result.output
    assert "Relances envoyées : 0 pour des conventions à signer, 0 pour des immersions." in (
        result.output
    )
    assert "Suivi dans l'emploi : 1 suivi(s) relancé(s) ou signalé(s)." in result.output
    with committed(app):
        assert len(notes("followup_due")) == 2
