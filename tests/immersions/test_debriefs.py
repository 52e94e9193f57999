"""Debriefs on the services: which are due and overdue, individual and collective debriefs
recorded all or nothing, skills linked to the tutor's ratings."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.core.errors import RuleError
from portal.extensions import db
from portal.immersions import assessments, debriefs, path, queries
from portal.immersions.models import (
    Debrief,
    DebriefKind,
    DebriefSkill,
    Immersion,
    Presence,
    SkillLevel,
    WouldHire,
)
from portal.immersions.rules import ImmersionState
from portal.operations.models import Status
from tests.immersions.factories import PAST, TODAY, Running, generate, make_trainee


@pytest.fixture
def running(ctx):
    return Running()


@pytest.fixture
def trainees(running):
    """Alice and Bob at Entreprise E, Chloé at Entreprise F; immersions generated."""
    e, f = running.market.employer, running.market.employer2
    people = [
        make_trainee(running, "Alice", "Durand", employer=e),
        make_trainee(running, "Bob", "Petit", employer=e),
        make_trainee(running, "Chloé", "Roux", employer=f),
    ]
    generate(running)
    return people


def past_immersion(trainee):
    return next(i for i in db.session.scalars(select(Immersion)) if
                i.trainee_id == trainee.id and i.ends_on < TODAY)  # fmt: skip


def data(running, immersions, **overrides) -> dict:
    values = {
        "kind": DebriefKind.INDIVIDUAL if len(immersions) == 1 else DebriefKind.COLLECTIVE,
        "held_on": TODAY - timedelta(days=2),
        "immersions": immersions,
        "absent": set(),
        "attendee_ids": [],
        "went_well": "Bonne intégration.",
        "difficulties": "Horaires matinaux.",
        "decisions": "Prolonger l'autolaveuse.",
        "next_steps": "Revoir au prochain bilan.",
        "skills": [],
    }
    values.update(overrides)
    return values


def test_finished_immersions_without_debrief_are_due_then_overdue(running, trainees, app):
    due = debriefs.due_debriefs(running.operation)
    assert {d.immersion.trainee_id for d in due} == {t.id for t in trainees}
    assert all(d.overdue for d in due)  # ended 21 days ago, 7 days allowed
    assert due[0].overdue_on == PAST[1] + timedelta(days=8)
    # On the day after the end, it is only « à faire ».
    later = debriefs.due_debriefs(running.operation, today=PAST[1] + timedelta(days=1))
    assert later and not any(d.overdue for d in later)
    at_limit = debriefs.due_debriefs(running.operation, today=PAST[1] + timedelta(days=8))
    assert all(d.overdue for d in at_limit)
    app.config["DEBRIEF_OVERDUE_DAYS"] = 30
    try:
        assert not any(d.overdue for d in debriefs.due_debriefs(running.operation))
    finally:
        app.config["DEBRIEF_OVERDUE_DAYS"] = 7


def test_an_individual_debrief_closes_the_immersion(running, trainees):
    alice = trainees[0]
    immersion = past_immersion(alice)
    staff = running.of_staff
    debrief = debriefs.record_debrief(
        running.operation,
        data(running, [immersion], attendee_ids=[staff.id, running.tutor_e.id]),
        **running.carrier,
    )
    assert debrief.kind == DebriefKind.INDIVIDUAL
    assert [(t.trainee_id, t.attended) for t in debrief.trainees] == [(alice.id, True)]
    assert {(a.user_id, a.organisation_id) for a in debrief.attendees} == {
        (staff.id, running.market.of_a.id),
        (running.tutor_e.id, running.market.employer.id),
    }
    assert immersion.id not in {d.immersion.id for d in debriefs.due_debriefs(running.operation)}
    assert queries.figures(running.operation).debriefs_due == 2
    states = [row.state for row in path.trainee_path(alice).immersions]
    assert states[0] == ImmersionState.DEBRIEFED


def test_a_collective_debrief_links_skills_to_the_tutors_ratings(running, trainees):
    alice, bob, _chloe = trainees
    first, second = past_immersion(alice), past_immersion(bob)
    first.tutor_id = running.tutor_e.id
    assessment = assessments.record_assessment(
        first,
        {
            "presence": Presence.FULL,
            "would_hire": WouldHire.YES,
            "ratings": [
                {"skill_id": running.skill_ids[0], "level": SkillLevel.IN_PROGRESS, "comment": ""}
            ],
        },
        by=running.tutor_e,
        org=running.market.employer,
    )
    skills = [
        {"trainee_id": alice.id, "skill_id": running.skill_ids[0], "level": SkillLevel.ACQUIRED,
         "comment": "Maîtrisé au retour."},
        {"trainee_id": bob.id, "skill_id": running.skill_ids[0], "level": SkillLevel.NOT_ACQUIRED,
         "comment": ""},
        {"trainee_id": bob.id, "skill_id": running.skill_ids[1], "level": None, "comment": ""},
    ]  # fmt: skip
    debrief = debriefs.record_debrief(
        running.operation,
        data(running, [first, second], absent={second.id}, skills=skills),
        **running.carrier,
    )
    assert debrief.kind == DebriefKind.COLLECTIVE
    assert {(t.trainee_id, t.attended) for t in debrief.trainees} == {
        (alice.id, True),
        (bob.id, False),
    }
    noted = {(s.trainee_id, s.level, s.rating_id) for s in debrief.skills}
    assert noted == {
        (alice.id, SkillLevel.ACQUIRED, assessment.ratings[0].id),
        (bob.id, SkillLevel.NOT_ACQUIRED, None),
    }
    cells = path.trainee_path(alice).progress[0].cells
    assert (cells[0].tutor, cells[0].debrief, cells[0].level) == (
        SkillLevel.IN_PROGRESS,
        SkillLevel.ACQUIRED,
        SkillLevel.ACQUIRED,
    )


def _refused(running, values, match, field=None):
    before = db.session.scalar(select(func.count(Debrief.id)))
    with pytest.raises(RuleError, match=match) as exc:
        debriefs.record_debrief(running.operation, values, **running.carrier)
    if field:
        assert exc.value.field == field
    assert db.session.scalar(select(func.count(Debrief.id))) == before
    assert db.session.scalar(select(func.count(DebriefSkill.id))) == 0


def test_debrief_rules_refuse_with_french_messages_and_write_nothing(running, trainees):
    alice, bob, chloe = trainees
    first, second = past_immersion(alice), past_immersion(bob)
    coming = next(
        i
        for i in db.session.scalars(select(Immersion))
        if i.trainee_id == bob.id and i.ends_on > TODAY
    )
    cases = [
        (data(running, []), "au moins une immersion", "immersions"),
        (data(running, [first, second], kind=DebriefKind.INDIVIDUAL), "une seule immersion",
         "immersions"),
        (data(running, [first], kind=DebriefKind.COLLECTIVE), "au moins deux", "immersions"),
        (data(running, [first, coming]), "même période", "immersions"),
        (data(running, [first], held_on=TODAY + timedelta(days=1)), "dans le futur", "held_on"),
        (data(running, [first], held_on=PAST[1] - timedelta(days=1)), "suit l'immersion",
         "held_on"),
        (data(running, [first], attendee_ids=[running.outsider.id]), "Les présent·es",
         "attendee_ids"),
        (data(running, [first], attendee_ids=[running.tutor_f.id]), "Les présent·es",
         "attendee_ids"),  # Entreprise F hosts no immersion of this debrief
        (data(running, [first], skills=[{"trainee_id": bob.id, "skill_id": running.skill_ids[0],
                                          "level": SkillLevel.ACQUIRED, "comment": ""}]),
         "aucun·e stagiaire du retour", None),
        (data(running, [first], skills=[{"trainee_id": alice.id, "skill_id": running.skill_ids[0],
                                          "level": None, "comment": "À revoir"}]),
         "Indiquez le niveau", f"skill-{alice.id}-{running.skill_ids[0]}"),
    ]  # fmt: skip
    for values, match, field in cases:
        _refused(running, values, match, field)
    recorded = debriefs.record_debrief(running.operation, data(running, [first]), **running.carrier)
    # The same debrief again (issue #11, a double submit) answers the one recorded; another
    # debrief of the same immersion is refused.
    again = debriefs.record_debrief(running.operation, data(running, [first]), **running.carrier)
    assert again.id == recorded.id
    assert db.session.scalar(select(func.count()).select_from(Debrief)) == 1
    later = data(running, [first], held_on=TODAY - timedelta(days=1))
    _refused(running, later, "déjà fait l'objet", "immersions")


def test_only_the_carrier_records_a_running_operations_debriefs(running, trainees):
    immersion = past_immersion(trainees[0])
    with pytest.raises(RuleError, match="Seul l'organisme"):
        debriefs.record_debrief(
            running.operation,
            data(running, [immersion]),
            by=running.market.region_admin,
            org=running.market.region,
        )
    running.operation.status = Status.CLOSED
    with pytest.raises(RuleError, match="une fois la convention validée"):
        debriefs.record_debrief(running.operation, data(running, [immersion]), **running.carrier)
