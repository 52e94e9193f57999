"""Rules of the steering committee, without HTTP: who composes and convenes, when a
meeting changes, takes attendance and minutes, who approves, decisions and action items,
the « À faire », the reminders, the DOCX and the bilan."""

from datetime import date, timedelta
from io import BytesIO

import pytest
from docx import Document
from sqlalchemy import select

from portal.core.errors import RuleError
from portal.core.time import utcnow
from portal.design import comments as design_comments
from portal.design import services as design_services
from portal.design.services import design_for, is_started
from portal.extensions import db
from portal.notifications.models import Notification
from portal.operations.models import Status
from portal.reporting.bilan import bilan_docx
from portal.steering import documents, minutes, queries, reminders, rules, services
from portal.steering.models import MeetingStatus, Presence
from tests.steering.factories import Committee, meeting_data


@pytest.fixture
def world(ctx):
    return Committee()


def refused(call, *args, **kwargs) -> str:
    with pytest.raises(RuleError) as caught:
        call(*args, **kwargs)
    return caught.value.message


def _action(world, meeting, *, days=10, owner=None, user=None):
    owner = owner or world.market.employer
    data = {
        "title": "Envoyer les fiches de poste",
        "owner_org_id": owner.id,
        "owner_user_id": getattr(user, "id", None),
        "due_on": rules.paris(meeting.starts_at).date() + timedelta(days=days),
    }
    return minutes.add_action(meeting, data, **world.region)


# --- Members and meetings ------------------------------------------------------------------


def test_only_the_region_composes_and_convenes(world):
    op, m = world.operation, world.market
    assert "La Région pilote" in refused(
        services.add_member, op, m.employer.id, None, **world.carrier
    )
    assert "La Région pilote" in refused(
        services.schedule_meeting, op, meeting_data(), **world.carrier
    )


def test_members_come_from_the_participants(world):
    op, m = world.operation, world.market
    assert "participe à l'opération" in refused(
        services.add_member, op, world.outsider_org.id, None, **world.region
    )
    assert "pas membre de l'organisation" in refused(
        services.add_member, op, m.employer.id, m.a_user.id, **world.region
    )
    assert "Déjà membre" in refused(services.add_member, op, m.employer.id, None, **world.region)
    member = services.add_member(op, m.employer.id, world.employer_member.id, **world.region)
    assert member.label == "Eva Martin (Entreprise E)"


def test_a_committee_without_members_is_not_convened(ctx):
    world = Committee()
    for member in services.committee_for(world.operation).active_members():
        services.remove_member(member, **world.region)
    assert "Composez le comité" in refused(world.convene)


def test_a_meeting_is_convened_ahead_ends_after_it_starts_and_is_somewhere(world):
    past = meeting_data(-1)
    assert "date à venir" in refused(
        services.schedule_meeting, world.operation, past, **world.region
    )
    backwards = meeting_data(3)
    backwards["ends_at"] = backwards["starts_at"] - timedelta(minutes=5)
    assert "fin de la réunion" in refused(
        services.schedule_meeting, world.operation, backwards, **world.region
    )
    nowhere = meeting_data(3, place="", video_url="")
    assert "lieu ou un lien" in refused(
        services.schedule_meeting, world.operation, nowhere, **world.region
    )


def test_convening_notifies_every_member_and_tells_the_timeline(world):
    meeting = world.convene()
    told = db.session.scalars(
        select(Notification.user_id).where(Notification.kind == "steering_convened")
    ).all()
    m = world.market
    assert sorted(told) == sorted([m.referent.id, m.a_user.id, m.employer_user.id])
    assert meeting.sequence == 0 and meeting.status == MeetingStatus.PLANNED


def test_an_update_without_change_is_refused_and_a_started_meeting_no_longer_changes(world):
    meeting = world.convene()
    same = {k: getattr(meeting, k) for k in services.MEETING_FIELDS}
    assert "Rien n'a changé" in refused(services.update_meeting, meeting, same, **world.region)
    world.hold(meeting)
    assert "a commencé" in refused(
        services.update_meeting, meeting, meeting_data(9), **world.region
    )
    assert "a commencé" in refused(services.cancel_meeting, meeting, "Non.", **world.region)


def test_a_newcomer_is_convened_to_the_meetings_to_come(world):
    world.convene()
    services.add_member(
        world.operation, world.market.employer.id, world.employer_member.id, **world.region
    )
    told = db.session.scalars(
        select(Notification.user_id).where(Notification.kind == "steering_convened")
    ).all()
    assert world.employer_member.id in told


# --- Attendance and minutes ---------------------------------------------------------------


def test_attendance_waits_for_the_meeting_and_is_kept_by_those_who_steer(world):
    meeting = world.convene()
    member = world.member(world.market.employer)
    presences = {member.id: Presence.EXCUSED}
    assert "pas encore eu lieu" in refused(
        minutes.record_attendance, meeting, presences, **world.carrier
    )
    world.hold(meeting)
    assert "tiennent le relevé" in refused(
        minutes.record_attendance, meeting, presences, **world.employer
    )
    minutes.record_attendance(meeting, presences, **world.carrier)
    minutes.record_attendance(meeting, {member.id: Presence.PRESENT}, **world.region)
    assert [(a.member_id, a.presence) for a in meeting.attendances] == [
        (member.id, Presence.PRESENT)
    ]


def test_the_minutes_are_a_design_section_of_their_own(world):
    meeting = world.held()
    section = minutes.open_minutes(meeting, **world.carrier)
    assert section.slug == f"minutes-{meeting.id}"
    assert section.key.is_minutes and not section.key.is_design
    assert design_services.is_open_for_edit(section)
    assert not design_services.can_edit_section(section, steering=False)
    # Opening them twice gives the same section; the co-design is still to start.
    assert minutes.open_minutes(meeting, **world.carrier).id == section.id
    assert not is_started(design_for(world.operation))


def test_minutes_before_the_co_design_do_not_start_it(ctx):
    world = Committee(status=Status.CO_DESIGN)
    minutes.open_minutes(world.held(), **world.carrier)
    design = design_for(world.operation)
    assert design_services.design_problems(design) == ["La co-conception n'a pas commencé."]


def test_approval_waits_for_attendance_minutes_and_blocking_comments(world):
    meeting = world.held()
    assert minutes.approval_problems(meeting, None) == [
        "La présence des membres n'est pas relevée.",
        "Le compte rendu n'est pas rédigé.",
    ]
    world.attend(meeting)
    section = world.write(meeting)
    design_comments.add_comment(section, "Chiffres à vérifier.", blocking=True, **world.employer)
    assert minutes.approval_problems(meeting, section) == [
        "Un commentaire bloquant du compte rendu n'est pas résolu."
    ]
    # A blocking comment on the minutes never holds the design's gate to the convention.
    assert design_comments.open_blocking_comments(section.design) == 0


def test_only_the_carrier_approves_what_it_read(world):
    meeting = world.ready()
    section = minutes.minutes_section(meeting)
    assert "Seul l'organisme porteur" in refused(
        minutes.approve_minutes, meeting, section.version, **world.region
    )
    assert "a changé depuis" in refused(
        minutes.approve_minutes, meeting, section.version - 1, **world.carrier
    )
    minutes.approve_minutes(meeting, section.version, **world.carrier)
    assert meeting.minutes_approved
    assert not design_services.is_open_for_edit(section)
    assert "approuvé" in refused(minutes.add_decision, meeting, "Encore une.", **world.region)
    assert "approuvé" in refused(
        design_services.save_section,
        section,
        {"text": "Autre"},
        base_version=section.version,
        steering=True,
        **world.carrier,
    )


# --- Decisions and action items -----------------------------------------------------------


def test_an_action_has_an_owner_among_the_participants_and_a_due_date_after_the_meeting(world):
    meeting = world.held()
    assert "Choisissez une organisation" in refused(
        minutes.add_action,
        meeting,
        {"title": "X", "owner_org_id": world.outsider_org.id, "owner_user_id": None,
         "due_on": date.today()},
        **world.region,
    )  # fmt: skip
    assert "L'échéance suit" in refused(_action, world, meeting, days=-3)
    action = _action(world, meeting, user=world.employer_member)
    assert action.owner_label == "Eva Martin (Entreprise E)"
    told = db.session.scalars(
        select(Notification.user_id).where(Notification.kind == "steering_action")
    ).all()
    assert told == [world.employer_member.id]


def test_the_owner_marks_its_action_done_once(world):
    meeting = world.held()
    action = _action(world, meeting)
    outsider = {"by": world.outsider, "org": world.outsider_org}
    assert "responsable de l'action" in refused(minutes.mark_action_done, action, **outsider)
    minutes.mark_action_done(action, **world.employer)
    assert action.is_done and rules.action_state(action) == rules.ActionState.DONE
    assert "déjà faite" in refused(minutes.mark_action_done, action, **world.carrier)


def test_action_states_follow_the_due_date(world, app):
    meeting = world.held(days_ago=20)
    action = _action(world, meeting, days=2)
    today = rules.paris(meeting.starts_at).date()
    assert rules.action_state(action, today) == rules.ActionState.DUE_SOON
    assert rules.action_state(action, today - timedelta(days=5)) == rules.ActionState.OPEN
    assert rules.action_state(action, today + timedelta(days=3)) == rules.ActionState.LATE


def test_the_owner_finds_its_actions_in_a_faire(world):
    meeting = world.held(days_ago=20)
    _action(world, meeting, days=5)
    employer_tasks = queries.todo(world.operation, org=world.market.employer)
    assert len(employer_tasks) == 1 and "(en retard)" in employer_tasks[0]
    assert queries.actions_owned_by(world.market.of_a) == []
    # The organisme porteur is asked to take attendance and write the minutes.
    carrier_tasks = queries.todo(world.operation, org=world.market.of_a)
    assert carrier_tasks == [
        "Relever les présences et rédiger le compte rendu de « Comité de lancement »."
    ]
    world.attend(meeting)
    world.write(meeting)
    assert queries.todo(world.operation, org=world.market.of_a) == [
        "Relire et approuver le compte rendu de « Comité de lancement »."
    ]


# --- Reminders ----------------------------------------------------------------------------


def _reminded(kind: str) -> list[int]:
    return db.session.scalars(select(Notification.user_id).where(Notification.kind == kind)).all()


def test_reminders_before_the_due_date_once_then_after_it_with_a_cooldown(world):
    meeting = world.held(days_ago=30)
    action = _action(world, meeting, days=32, user=world.market.employer_user)  # due in 2 days
    now = utcnow()
    assert reminders.send_due_reminders(now) == 1
    assert reminders.send_due_reminders(now) == 0
    assert _reminded("steering_action_due") == [world.market.employer_user.id]
    later = now + timedelta(days=4)  # past the due date
    assert reminders.send_due_reminders(later) == 1
    assert reminders.send_due_reminders(later + timedelta(days=6)) == 0  # cooldown of 7 days
    assert reminders.send_due_reminders(later + timedelta(days=7)) == 1
    minutes.mark_action_done(action, **world.employer)
    assert reminders.send_due_reminders(later + timedelta(days=30)) == 0
    assert len(_reminded("steering_action_late")) == 2


def test_a_cancelled_meetings_actions_are_not_reminded(world):
    meeting = world.held(days_ago=30)
    _action(world, meeting, days=1)
    meeting.status = MeetingStatus.CANCELLED
    db.session.flush()
    assert reminders.send_due_reminders() == 0


# --- Documents ----------------------------------------------------------------------------


def _text(data: bytes) -> str:
    document = Document(BytesIO(data))
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def test_the_minutes_docx_is_deterministic_and_complete(world):
    meeting = world.ready()
    minutes.add_decision(meeting, "Le rythme est validé.", **world.region)
    _action(world, meeting)
    first = documents.minutes_docx(meeting)
    assert documents.minutes_docx(meeting) == first
    text = _text(first)
    for expected in (
        "Compte rendu du comité de pilotage",
        "Comité de lancement",
        "Le comité valide le rythme de l'alternance.",
        "Le rythme est validé.",
        "Envoyer les fiches de poste",
        "Présent·e",
        "Projet : pas encore approuvé",
    ):
        assert expected in text


def test_the_bilan_lists_the_decisions_of_approved_minutes(world):
    meeting = world.ready()
    minutes.add_decision(meeting, "Une information collective est organisée.", **world.region)
    draft = world.held(days_ago=2)
    minutes.add_decision(draft, "Décision encore en projet.", **world.region)
    minutes.approve_minutes(meeting, minutes.minutes_section(meeting).version, **world.carrier)
    text = _text(bilan_docx(world.operation))
    assert "Comité de pilotage" in text
    assert "Une information collective est organisée. (Comité de lancement)" in text
    assert "Décision encore en projet." not in text
    assert "compte rendu non approuvé" in text
