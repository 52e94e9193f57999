"""Debriefs (retours d'expérience): which are due, and recording one, individual or
collective, all or nothing. Flushes, never commits."""

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.orm import joinedload

from portal.accounts.models import Organisation, User
from portal.core.errors import RuleError
from portal.core.locking import lock
from portal.extensions import db
from portal.immersions import rules
from portal.immersions.models import (
    Debrief,
    DebriefAttendee,
    DebriefKind,
    DebriefSkill,
    DebriefTrainee,
    Immersion,
    SkillLevel,
    SkillRating,
    TutorAssessment,
)
from portal.immersions.services import design_skills, tutors_by_employer
from portal.notifications.services import organisation_members
from portal.operations.events import log_event
from portal.operations.models import Operation


@dataclass
class DueDebrief:
    """A finished immersion whose debrief is still to hold."""

    immersion: Immersion
    overdue_on: date
    overdue: bool


def not_debriefed():
    """SQL condition on ``Immersion``: no debrief covers it yet."""
    return ~exists().where(DebriefTrainee.immersion_id == Immersion.id)


def due_debriefs(operation: Operation, *, today: date | None = None, trainee_ids=None) -> list:
    """Finished immersions without a debrief, oldest first: « à faire », « en retard » after
    DEBRIEF_OVERDUE_DAYS. ``trainee_ids`` (a select) limits them to the visible trainees."""
    today = today or rules.today()
    query = (
        select(Immersion)
        .where(
            Immersion.operation_id == operation.id,
            Immersion.ends_on < today,
            not_debriefed(),
        )
        .options(
            joinedload(Immersion.trainee),
            joinedload(Immersion.employer),
            joinedload(Immersion.tutor),
        )
        .order_by(Immersion.ends_on, Immersion.id)
    )
    if trainee_ids is not None:
        query = query.where(Immersion.trainee_id.in_(trainee_ids))
    result = []
    for immersion in db.session.scalars(query):
        overdue_on = rules.debrief_overdue_on(immersion)
        result.append(DueDebrief(immersion, overdue_on, today >= overdue_on))
    return result


def allowed_attendees(operation: Operation, immersions: list[Immersion]) -> dict[int, tuple]:
    """Who may be noted present: the organisme's staff and the tutors of the host employers
    (each ``user id -> (user, organisation id)``)."""
    people = {u.id: (u, operation.provider_id) for u in organisation_members(operation.provider_id)}
    tutors = tutors_by_employer({i.employer_id for i in immersions})
    for employer_id, users in tutors.items():
        for user in users:
            people.setdefault(user.id, (user, employer_id))
    for immersion in immersions:
        if immersion.tutor is not None:
            people.setdefault(immersion.tutor_id, (immersion.tutor, immersion.employer_id))
    return people


def tutor_ratings(immersions: list[Immersion]) -> dict[tuple[int, str], SkillRating]:
    """The tutors' ratings of these immersions, by (trainee id, skill id)."""
    ids = [i.id for i in immersions]
    if not ids:
        return {}
    rows = db.session.execute(
        select(Immersion.trainee_id, SkillRating)
        .join(TutorAssessment, TutorAssessment.id == SkillRating.assessment_id)
        .join(Immersion, Immersion.id == TutorAssessment.immersion_id)
        .where(Immersion.id.in_(ids))
    ).all()
    return {(trainee_id, rating.skill_id): rating for trainee_id, rating in rows}


def _check_immersions(operation, kind, immersions, held_on, today) -> None:
    if not immersions:
        raise RuleError(_("Choisissez au moins une immersion."), "immersions")
    if kind == DebriefKind.INDIVIDUAL and len(immersions) != 1:
        raise RuleError(_("Un retour individuel porte sur une seule immersion."), "immersions")
    if kind == DebriefKind.COLLECTIVE and len(immersions) < 2:
        raise RuleError(_("Un retour collectif réunit au moins deux stagiaires."), "immersions")
    if any(i.operation_id != operation.id for i in immersions):
        raise RuleError(_("Une immersion choisie n'appartient pas à l'opération."), "immersions")
    if len({i.trainee_id for i in immersions}) != len(immersions):
        raise RuleError(
            _("Un·e stagiaire ne figure qu'une fois dans un retour d'expérience."), "immersions"
        )
    if max(i.starts_on for i in immersions) > min(i.ends_on for i in immersions):
        raise RuleError(
            _("Un retour collectif porte sur des stagiaires d'une même période."), "immersions"
        )
    done = db.session.scalars(
        select(DebriefTrainee.immersion_id).where(
            DebriefTrainee.immersion_id.in_([i.id for i in immersions])
        )
    ).all()
    if done:
        raise RuleError(
            _("Une immersion choisie a déjà fait l'objet d'un retour d'expérience."), "immersions"
        )
    if held_on > today:
        raise RuleError(_("Le retour d'expérience ne peut pas être daté dans le futur."), "held_on")
    last_end = max(i.ends_on for i in immersions)
    if held_on < last_end:
        raise RuleError(
            _(
                "Le retour d'expérience suit l'immersion : elle finit le %(d)s.",
                d=last_end.strftime("%d/%m/%Y"),
            ),
            "held_on",
        )


def _repeated(operation, kind, immersions, held_on) -> Debrief | None:
    """The debrief these very immersions already have, same kind and day (a repeat)."""
    ids = {i.id for i in immersions}
    lines = db.session.execute(
        select(DebriefTrainee.debrief_id, DebriefTrainee.immersion_id).where(
            DebriefTrainee.debrief_id.in_(
                select(DebriefTrainee.debrief_id).where(DebriefTrainee.immersion_id.in_(ids))
            )
        )
    ).all()
    if len({debrief_id for debrief_id, _immersion in lines}) != 1:
        return None
    debrief = db.session.get(Debrief, lines[0].debrief_id)
    same = {immersion for _debrief, immersion in lines} == ids
    if (
        same
        and debrief.operation_id == operation.id
        and (debrief.kind, debrief.held_on)
        == (
            kind,
            held_on,
        )
    ):
        return debrief
    return None


def record_debrief(
    operation: Operation, data: dict, *, by: User, org: Organisation, today: date | None = None
) -> Debrief:
    """Record a debrief after immersions; everything is checked before anything is written.

    ``data``: kind (DebriefKind), held_on, immersions (list of Immersion), absent (ids of
    the immersions whose trainee did not attend), attendee_ids (staff and tutors present),
    went_well, difficulties, decisions, next_steps, skills: a list of ``{"trainee_id",
    "skill_id", "level": SkillLevel | None, "comment"}`` (None: not discussed).

    Submitting the same debrief again (a double click, two tabs) answers the debrief
    already recorded; the operation's lock makes the second submit wait for the first.
    """
    lock(operation)
    rules.check_carrier(operation, org)
    rules.check_running(operation)
    today = today or rules.today()
    kind = DebriefKind(data["kind"])
    immersions = list(data["immersions"])
    repeated = _repeated(operation, kind, immersions, data["held_on"]) if immersions else None
    if repeated is not None:
        return repeated
    _check_immersions(operation, kind, immersions, data["held_on"], today)
    people = allowed_attendees(operation, immersions)
    attendee_ids = list(dict.fromkeys(data.get("attendee_ids", [])))
    if any(user_id not in people for user_id in attendee_ids):
        raise RuleError(
            _("Les présent·es sont l'équipe de l'organisme et les tuteur·rices des entreprises."),
            "attendee_ids",
        )
    labels = {s["id"]: s["label"] for s in design_skills(operation)}
    trainees = {i.trainee_id: i for i in immersions}
    skills = []
    for row in data.get("skills", []):
        if row["trainee_id"] not in trainees or row["skill_id"] not in labels:
            raise RuleError(_("Une compétence notée ne correspond à aucun·e stagiaire du retour."))
        if row.get("level") is None:
            if (row.get("comment") or "").strip():
                raise RuleError(
                    _(
                        "Indiquez le niveau de « %(s)s » pour %(t)s avant de le commenter.",
                        s=labels[row["skill_id"]],
                        t=trainees[row["trainee_id"]].trainee.full_name,
                    ),
                    f"skill-{row['trainee_id']}-{row['skill_id']}",
                )
            continue
        skills.append(row)

    debrief = Debrief(
        operation_id=operation.id,
        kind=kind,
        held_on=data["held_on"],
        went_well=(data.get("went_well") or "").strip(),
        difficulties=(data.get("difficulties") or "").strip(),
        decisions=(data.get("decisions") or "").strip(),
        next_steps=(data.get("next_steps") or "").strip(),
        created_by_id=by.id,
    )
    db.session.add(debrief)
    absent = set(data.get("absent", ()))
    for immersion in immersions:
        debrief.trainees.append(
            DebriefTrainee(
                trainee_id=immersion.trainee_id,
                immersion_id=immersion.id,
                attended=immersion.id not in absent,
            )
        )
    for user_id in attendee_ids:
        user, organisation_id = people[user_id]
        debrief.attendees.append(DebriefAttendee(user_id=user.id, organisation_id=organisation_id))
    ratings = tutor_ratings(immersions)
    for row in skills:
        rating = ratings.get((row["trainee_id"], row["skill_id"]))
        debrief.skills.append(
            DebriefSkill(
                trainee_id=row["trainee_id"],
                skill_id=row["skill_id"],
                skill_label=labels[row["skill_id"]][:300],
                level=SkillLevel(row["level"]),
                comment=(row.get("comment") or "").strip(),
                rating_id=getattr(rating, "id", None),
            )
        )
    db.session.flush()
    log_event(
        operation,
        "debrief_recorded",
        by=by,
        org=org,
        debrief_kind=kind.value,
        count=len(immersions),
        debrief_id=debrief.id,
    )
    return debrief
