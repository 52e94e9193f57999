"""Rules of immersions on the services, without HTTP: generation from the rhythm (idempotent),
adjustments, the preparation checklist, the tutor's assessment (only by the tutor),
reminders, and the trainee's path."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from portal.core.errors import RuleError
from portal.core.time import utcnow
from portal.design.models import SectionKey
from portal.extensions import db
from portal.immersions import assessments, path, queries, reminders, services
from portal.immersions.models import Immersion, Presence, SkillLevel, WouldHire
from portal.immersions.rules import ImmersionState, immersion_state
from portal.mail.models import OutboxMessage
from portal.notifications.models import Notification
from portal.operations.models import OperationEvent, Status
from portal.recruitment.models import TraineeStatus
from tests.immersions.factories import (
    CHECKLIST,
    NEXT,
    PAST,
    TODAY,
    Running,
    generate,
    make_trainee,
    spend_second_period_at,
)


@pytest.fixture
def running(ctx):
    return Running()


@pytest.fixture
def alice(running):
    return make_trainee(running, "Alice", "Durand", employer=running.market.employer)


def immersions_of(trainee) -> list[Immersion]:
    return list(
        db.session.scalars(
            select(Immersion)
            .where(Immersion.trainee_id == trainee.id)
            .order_by(Immersion.starts_on)
        )
    )


def assessment_data(running, level=SkillLevel.ACQUIRED, **overrides) -> dict:
    data = {
        "presence": Presence.FULL,
        "would_hire": WouldHire.YES,
        "feedback": "Ponctuelle et appliquée.",
        "ratings": [{"skill_id": running.skill_ids[0], "level": level, "comment": "Bien."}],
    }
    data.update(overrides)
    return data


# --- Generation from the rhythm --------------------------------------------------------------


def test_generation_creates_one_immersion_per_matched_trainee_and_company_period(running, alice):
    bob = make_trainee(running, "Bob", "Petit", employer=running.market.employer2)
    make_trainee(running, "Chloé", "Sans", employer=None)  # retained without a promise
    make_trainee(running, "Dan", "Cand", employer=None, status=TraineeStatus.CANDIDATE)

    result = generate(running)

    assert (result.created, result.periods, result.unmatched) == (4, 2, 1)
    first, second = immersions_of(alice)
    assert (first.starts_on, first.ends_on) == PAST and (second.starts_on, second.ends_on) == NEXT
    assert first.employer_id == running.market.employer.id
    # Entreprise E has two tutors: none is suggested for her; its two skills are the
    # objectives. The employer designates (tests/immersions/test_tutoring.py).
    assert (first.tutor_id, first.suggested_tutor_id) == (None, None)
    assert first.objectives == running.skill_ids[:2]
    # Entreprise F has one tutor: he is suggested, not designated; F asked for no skill.
    assert {(i.tutor_id, i.suggested_tutor_id) for i in immersions_of(bob)} == {
        (None, running.tutor_f.id)
    }
    assert immersions_of(bob)[0].objectives == []
    kinds = db.session.scalars(select(OperationEvent.kind)).all()
    assert "immersions_generated" in kinds
    # Each host employer's admins are asked once to designate the tutors.
    asked = db.session.scalars(
        select(Notification.user_id).where(Notification.kind == "tutors_to_designate")
    ).all()
    assert sorted(asked) == sorted(
        [running.market.employer_user.id, running.market.employer2_user.id]
    )


def test_a_period_with_an_employer_chosen_is_spent_there(running, alice):
    """Issue #15: the second immersion period names Entreprise F: every trainee spends it
    there (even one without a promise), with F's skills as objectives; the first period,
    with no employer chosen, is at the promise's employer."""
    e, f = running.market.employer.id, running.market.employer2.id
    skills = [dict(s) for s in running.skills]
    skills[0]["also_asked_by"] = [f]  # the prefill merged F's « autolaveuse » into E's
    running.design.section(SectionKey.SKILLS).content = {"items": skills}
    spend_second_period_at(running, running.market.employer2)
    chloe = make_trainee(running, "Chloé", "Sans", employer=None)

    result = generate(running)

    assert (result.created, result.unmatched) == (3, 1)
    first, second = immersions_of(alice)
    assert (first.employer_id, second.employer_id) == (e, f)
    assert first.objectives == running.skill_ids[:2]
    assert second.objectives == running.skill_ids[:1]
    # Entreprise F's only tutor is suggested there.
    assert second.suggested_tutor_id == running.tutor_f.id
    [only] = immersions_of(chloe)
    assert (only.employer_id, only.starts_on) == (f, NEXT[0])


@pytest.mark.parametrize(
    ("chosen", "promise", "host"),
    [(None, 1, 1), (2, 1, 2), (2, None, 2), (3, 1, 1), (None, None, None), (3, None, None)],
)
def test_the_host_of_a_period_is_the_one_chosen_else_the_promises(chosen, promise, host):
    """Employers 1 and 2 sign the convention, 3 does not (withdrawn)."""
    period = SimpleNamespace(employer_id=chosen)
    assert services.host_for(period, promise, {1, 2}) == host


def test_generation_is_idempotent_and_adds_only_what_is_missing(running, alice):
    assert generate(running).created == 2
    first = immersions_of(alice)[0]
    first.tutor_id = running.tutor_e.id  # an adjustment made since
    assert generate(running).created == 0
    assert immersions_of(alice)[0].tutor_id == running.tutor_e.id
    make_trainee(running, "Bob", "Petit", employer=running.market.employer)
    assert generate(running).created == 2
    assert db.session.scalar(select(func.count(Immersion.id))) == 4


def test_generation_needs_immersion_periods_the_carrier_and_a_running_step(ctx):
    running = Running(status=Status.CONVENTION)
    make_trainee(running, employer=running.market.employer)
    with pytest.raises(RuleError, match="une fois la convention validée"):
        generate(running)
    running.operation.status = Status.TRAINING
    with pytest.raises(RuleError, match="Seul l'organisme de formation porteur"):
        services.generate_from_rhythm(
            running.operation, by=running.market.employer_user, org=running.market.employer
        )
    running.design.section(running.design.sections[0].key)  # the design is there…
    rhythm = next(s for s in running.design.sections if s.key.value == "rhythm")
    rhythm.content = {"items": [p for p in running.periods if p["kind"] == "centre"]}
    with pytest.raises(RuleError, match="aucune période d'immersion"):
        generate(running)


# --- Adjusting ----------------------------------------------------------------------------------


def edit_data(running, **overrides) -> dict:
    data = {
        "employer": running.market.employer,
        "tutor": running.tutor_e,
        "starts_on": PAST[0],
        "ends_on": PAST[1],
        "objectives": running.skill_ids[:1],
    }
    data.update(overrides)
    return data


def test_update_checks_host_tutor_dates_and_objectives(running, alice):
    generate(running)
    immersion = immersions_of(alice)[0]
    carrier = running.carrier
    with pytest.raises(RuleError, match="employeur signataire") as exc:
        services.update_immersion(
            immersion, edit_data(running, employer=running.outsider_org), **carrier
        )
    assert exc.value.field == "employer_id"
    with pytest.raises(RuleError, match="n'est pas tuteur·rice d'Entreprise E"):
        services.update_immersion(immersion, edit_data(running, tutor=running.tutor_f), **carrier)
    with pytest.raises(RuleError, match="finir après"):
        services.update_immersion(
            immersion, edit_data(running, ends_on=PAST[0] - timedelta(days=1)), **carrier
        )
    with pytest.raises(RuleError, match="compétences visées"):
        services.update_immersion(immersion, edit_data(running, objectives=["inconnu"]), **carrier)

    services.update_immersion(
        immersion, edit_data(running, employer=running.market.employer2, tutor=None), **carrier
    )
    assert immersion.employer_id == running.market.employer2.id


def test_the_organisme_suggests_and_another_host_drops_the_designated_tutor(running, alice):
    generate(running)
    immersion = immersions_of(alice)[1]
    services.update_immersion(
        immersion, edit_data(running, starts_on=NEXT[0], ends_on=NEXT[1]), **running.carrier
    )
    assert (immersion.tutor_id, immersion.suggested_tutor_id) == (None, running.tutor_e.id)
    immersion.tutor_id, immersion.suggested_tutor_id = running.tutor_e.id, None  # designated
    services.save_checklist(immersion, CHECKLIST, **running.carrier)
    assert immersion.is_ready and immersion.prepared_at is not None
    # The form shows the designated tutor: saving it again suggests nobody.
    services.update_immersion(
        immersion, edit_data(running, starts_on=NEXT[0], ends_on=NEXT[1]), **running.carrier
    )
    assert (immersion.tutor_id, immersion.suggested_tutor_id) == (running.tutor_e.id, None)
    assert immersion.is_ready
    services.update_immersion(
        immersion,
        edit_data(
            running,
            employer=running.market.employer2,
            tutor=running.tutor_f,
            starts_on=NEXT[0],
            ends_on=NEXT[1],
        ),
        **running.carrier,
    )
    assert (immersion.tutor_id, immersion.suggested_tutor_id) == (None, running.tutor_f.id)
    assert not immersion.tutor_briefed
    assert not immersion.is_ready and immersion.prepared_at is None


# --- Checklist ---------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", list(CHECKLIST))
def test_the_immersion_is_ready_only_when_the_checklist_is_complete(running, alice, missing):
    generate(running)
    immersion = immersions_of(alice)[1]
    immersion.tutor_id = running.tutor_e.id
    data = dict(CHECKLIST, **{missing: "  " if isinstance(CHECKLIST[missing], str) else False})
    assert services.save_checklist(immersion, data, **running.carrier) is False
    assert not immersion.is_ready
    assert immersion_state(immersion, today=TODAY, debriefed=False) == ImmersionState.TO_PREPARE
    assert services.save_checklist(immersion, CHECKLIST, **running.carrier) is True
    assert immersion.is_ready and immersion.prepared_by_id == running.market.a_user.id
    assert immersion_state(immersion, today=TODAY, debriefed=False) == ImmersionState.READY
    # Saved again complete: not "newly ready" a second time.
    assert services.save_checklist(immersion, CHECKLIST, **running.carrier) is False


def test_a_tutor_cannot_be_briefed_before_being_named(running, alice):
    generate(running)
    immersion = immersions_of(alice)[1]
    with pytest.raises(RuleError, match="Désignez d'abord") as exc:
        services.save_checklist(immersion, CHECKLIST, **running.carrier)
    assert exc.value.field == "tutor_briefed"


def test_states_follow_dates_and_debriefs(running, alice):
    generate(running)
    past, coming = immersions_of(alice)
    assert immersion_state(past, today=TODAY, debriefed=False) == ImmersionState.TO_DEBRIEF
    assert immersion_state(past, today=TODAY, debriefed=True) == ImmersionState.DEBRIEFED
    assert immersion_state(coming, today=NEXT[0], debriefed=False) == ImmersionState.ONGOING


def test_an_assessed_immersion_cannot_be_removed_nor_change_host(running, alice):
    generate(running)
    past, coming = immersions_of(alice)
    past.tutor_id = running.tutor_e.id
    assessments.record_assessment(
        past, assessment_data(running), by=running.tutor_e, org=running.market.employer
    )
    with pytest.raises(RuleError, match="reste au parcours"):
        services.delete_immersion(past, **running.carrier)
    with pytest.raises(RuleError, match="ne changent plus"):
        services.update_immersion(
            past, edit_data(running, tutor=running.tutor_e2), **running.carrier
        )
    services.delete_immersion(coming, **running.carrier)
    assert len(immersions_of(alice)) == 1


# --- The tutor's assessment ---------------------------------------------------------------------


def test_only_the_tutor_or_an_admin_of_the_host_assesses(running, alice):
    generate(running)
    immersion = immersions_of(alice)[0]
    immersion.tutor_id = running.tutor_e.id
    market = running.market
    refused = [
        (running.tutor_e2, market.employer),  # another tutor of the same company
        (running.employer_member, market.employer),
        (running.tutor_f, market.employer2),  # a tutor of another company
        (market.employer2_user, market.employer2),
        (market.a_user, market.of_a),  # the organisme records debriefs, not this
        (running.tutor_e, market.employer2),  # the right person acting for another org
    ]
    for user, org in refused:
        assert not assessments.can_assess(immersion, user, org)
        with pytest.raises(RuleError, match="Seul·e le ou la tuteur·rice"):
            assessments.record_assessment(immersion, assessment_data(running), by=user, org=org)
    assert immersion.assessment is None
    assert assessments.can_assess(immersion, running.tutor_e, market.employer)
    assert assessments.can_assess(immersion, market.employer_user, market.employer)  # admin


def test_the_assessment_is_recorded_editable_and_the_organisme_is_told(running, alice):
    generate(running)
    immersion = immersions_of(alice)[0]
    immersion.tutor_id = running.tutor_e.id
    tutor, employer = running.tutor_e, running.market.employer
    assessment = assessments.record_assessment(
        immersion, assessment_data(running), by=tutor, org=employer
    )
    assert (assessment.presence, assessment.would_hire) == (Presence.FULL, WouldHire.YES)
    assert [(r.skill_label, r.level) for r in assessment.ratings] == [
        ("Utiliser une autolaveuse", SkillLevel.ACQUIRED)
    ]
    rating_id = assessment.ratings[0].id
    notes = db.session.scalars(
        select(Notification).where(Notification.kind == "immersion_assessed")
    )
    assert {n.user_id for n in notes} == {running.market.a_user.id, running.of_staff.id}

    second = {"skill_id": running.skill_ids[1], "level": SkillLevel.IN_PROGRESS, "comment": ""}
    assessments.record_assessment(
        immersion,
        assessment_data(
            running,
            level=SkillLevel.IN_PROGRESS,
            would_hire=WouldHire.MAYBE,
            ratings=[
                {"skill_id": running.skill_ids[0], "level": SkillLevel.IN_PROGRESS, "comment": ""},
                second,
            ],
        ),
        by=tutor,
        org=employer,
    )
    assert immersion.assessment is assessment and assessment.would_hire == WouldHire.MAYBE
    assert [r.level for r in assessment.ratings] == [SkillLevel.IN_PROGRESS] * 2
    assert assessment.ratings[0].id == rating_id  # updated in place: debrief links hold


def test_an_assessment_rates_only_objectives_and_waits_for_the_start(running, alice):
    generate(running)
    past, coming = immersions_of(alice)
    past.tutor_id = coming.tutor_id = running.tutor_e.id
    who = {"by": running.tutor_e, "org": running.market.employer}
    with pytest.raises(RuleError, match="pas encore commencé"):
        assessments.record_assessment(coming, assessment_data(running), **who)
    other = {"skill_id": running.skill_ids[2], "level": SkillLevel.ACQUIRED, "comment": ""}
    with pytest.raises(RuleError, match="ne fait pas partie des objectifs"):
        assessments.record_assessment(past, assessment_data(running, ratings=[other]), **who)
    unrated = {"skill_id": running.skill_ids[0], "level": None, "comment": "Pas vu"}
    with pytest.raises(RuleError, match="Indiquez le niveau"):
        assessments.record_assessment(past, assessment_data(running, ratings=[unrated]), **who)
    # Without objectives, every skill of the design is rated.
    past.objectives = []
    assessments.record_assessment(past, assessment_data(running, ratings=[other]), **who)
    assert past.assessment.ratings[0].skill_label == "Trier les déchets"


# --- Reminders ------------------------------------------------------------------------------------


def test_reminders_go_once_for_unprepared_immersions_starting_soon(running, alice):
    generate(running)
    past, coming = immersions_of(alice)
    coming.tutor_id = running.tutor_e.id
    bob = make_trainee(running, "Bob", "Prêt", employer=running.market.employer)
    generate(running)
    ready = immersions_of(bob)[1]
    ready.tutor_id = running.tutor_e2.id
    services.save_checklist(ready, CHECKLIST, **running.carrier)
    now = utcnow()

    assert reminders.send_due_reminders(now - timedelta(days=10)) == 0  # too early
    assert reminders.send_due_reminders(now) == 1
    assert coming.reminder_sent_at == now and past.reminder_sent_at is None
    notes = db.session.scalars(
        select(Notification).where(Notification.kind == "immersion_reminder")
    )
    assert {n.user_id for n in notes} == {
        running.market.a_user.id,
        running.of_staff.id,
        running.tutor_e.id,
    }
    mails = db.session.scalars(select(OutboxMessage.subject)).all()
    assert any(s.startswith("Immersion à préparer avant le") for s in mails)
    assert reminders.send_due_reminders(now) == 0  # once


def test_reminder_horizon_follows_the_configuration(running, alice, app):
    generate(running)
    app.config["IMMERSION_REMINDER_DAYS"] = 2
    try:
        assert reminders.send_due_reminders() == 0  # starts in 3 days
    finally:
        app.config["IMMERSION_REMINDER_DAYS"] = 5
    assert reminders.send_due_reminders() == 1


# --- Figures and path -------------------------------------------------------------------------


def test_figures_count_immersions_and_due_debriefs(running, alice, app):
    generate(running)
    figures = queries.figures(running.operation)
    assert (figures.immersions, figures.ready, figures.debriefs_due) == (2, 0, 1)
    assert figures.debriefs_overdue == 1  # ended 21 days ago, 7 days allowed
    app.config["DEBRIEF_OVERDUE_DAYS"] = 30
    try:
        assert queries.figures(running.operation).debriefs_overdue == 0
    finally:
        app.config["DEBRIEF_OVERDUE_DAYS"] = 7


def test_the_path_gathers_immersions_assessments_and_skills_progress(running, alice):
    generate(running)
    past, coming = immersions_of(alice)
    past.tutor_id = running.tutor_e.id
    assessments.record_assessment(
        past, assessment_data(running), by=running.tutor_e, org=running.market.employer
    )
    result = path.trainee_path(alice)
    assert [row.state for row in result.immersions] == [
        ImmersionState.TO_DEBRIEF,
        ImmersionState.TO_PREPARE,
    ]
    progress = {p.label: p.cells for p in result.progress}
    assert list(progress) == [s["label"] for s in running.skills]
    assert progress["Utiliser une autolaveuse"][0].level == SkillLevel.ACQUIRED
    assert progress["Utiliser une autolaveuse"][1].level is None
    assert result.has_progress
    # The chart: one stack per period, the first with one acquired skill out of three.
    assert [len(stack) for stack in result.bars] == [1, 0]
    bar = result.bars[0][0]
    assert (bar.level, bar.count, bar.height) == (SkillLevel.ACQUIRED, 1, round(160 / 3))
