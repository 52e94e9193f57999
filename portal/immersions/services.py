"""Business verbs of immersion periods: generate them from the rhythm, adjust, prepare,
remove. They check rules, write the timeline and the audit log, notify; they flush and
never commit.

The tutor's assessment is in ``assessments.py``, debriefs in ``debriefs.py``, evaluations
in ``evaluations.py``.
"""

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import Organisation, User
from portal.core.errors import RuleError
from portal.core.locking import lock
from portal.core.memo import Read
from portal.core.time import utcnow
from portal.design import rhythm
from portal.design.content import skill_askers
from portal.design.models import Design, DesignSection, SectionKey
from portal.design.services import design_for
from portal.extensions import db
from portal.immersions import rules
from portal.immersions.models import (
    DebriefTrainee,
    Immersion,
)
from portal.immersions.tutoring import (  # noqa: F401  (``tutors_by_employer`` for callers)
    check_tutor,
    suggest_tutor,
    tutors_by_employer,
)
from portal.notifications.services import notify, organisation_members
from portal.operations.events import log_event
from portal.operations.models import Operation, Participant, ParticipantRole
from portal.recruitment import rules as recruitment_rules
from portal.recruitment.models import JobPromise, Trainee

# --- What an immersion may point to ---------------------------------------------------------


def signatory_employers(operation: Operation) -> list[Organisation]:
    """Employers that may host immersions: those taking part in (signing) the convention."""
    return list(
        db.session.scalars(
            select(Organisation)
            .join(Participant, Participant.organisation_id == Organisation.id)
            .where(
                Participant.operation_id == operation.id,
                Participant.role == ParticipantRole.EMPLOYER,
                Participant.withdrawn_at.is_(None),
            )
            .order_by(Organisation.name)
        )
    )


def skills_read(operation: Operation) -> Read:
    """The read of ``design_skills`` as data (``memo.Read``), for a page that runs it with
    its others in one statement (``memo.prefetch``, the trainee's record) or once a request
    (``memo.remember_read``)."""
    statement = (
        select(DesignSection.content, Design.in_force)
        .join(Design, Design.id == DesignSection.design_id)
        .where(Design.operation_id == operation.id, DesignSection.key == SectionKey.SKILLS)
        .limit(1)
    )
    return Read(("immersions.design_skills", operation.id), statement, _skills)


def _skills(rows: list[tuple]) -> list[dict]:
    content, in_force = rows[0] if rows else ({}, None)
    if in_force is not None:
        content = in_force.get(SectionKey.SKILLS.value, content)
    items = (content or {}).get("items", [])
    return [
        {
            "id": i["id"],
            "label": i.get("label", ""),
            "employer_id": i.get("employer_id"),
            "asked_by": skill_askers(i),
        }
        for i in items
        if i.get("id")
    ]


def design_skills(operation: Operation) -> list[dict]:
    """The skills of the design in force ``[{"id", "label", "employer_id", "asked_by"}]``
    (empty without a design; ``asked_by``: every employer that asked for it): an
    amendment's draft counts once the Région validated it."""
    read = skills_read(operation)
    return read.build([tuple(row) for row in db.session.execute(read.select())])


def skills_to_assess(immersion: Immersion, skills: list[dict] | None = None) -> list[dict]:
    """The skills a tutor rates: the immersion's objectives, or every skill of the design."""
    skills = skills if skills is not None else design_skills(immersion.operation)
    chosen = [s for s in skills if s["id"] in (immersion.objectives or [])]
    return chosen or skills


# --- Generation from the rhythm -------------------------------------------------------------


@dataclass
class Generation:
    """What « Générer depuis le rythme » did."""

    created: int
    periods: int
    unmatched: int  # trainees without a promise, for a period with no employer chosen


def host_for(period, promise_employer_id: int | None, employers: set[int]) -> int | None:
    """The employer hosting a trainee during a company ``period`` of the rhythm: the one
    chosen on the period when it is a signatory employer, else the employer of the
    trainee's promise when it is one; None when no host is known."""
    for employer_id in (period.employer_id, promise_employer_id):
        if employer_id is not None and employer_id in employers:
            return employer_id
    return None


def generate_from_rhythm(operation: Operation, *, by: User, org: Organisation) -> Generation:
    """One immersion per matched trainee and per company period of the rhythm in force
    (an amendment's draft rhythm counts once the Région validated it).

    The host is the employer chosen on the rhythm's period when there is one (a signatory
    employer), else the employer of the trainee's promise (``host_for``); objectives are
    the skills that host asked for; when the host has only one tutor, that tutor is
    suggested (the employer designates: ``tutoring.py``), and each employer is asked once to
    designate the tutors. Running it again only adds what is missing (a trainee matched
    since, a period added). Two runs at once (a double click) take turns on the operation's
    lock: the second adds nothing.
    """
    lock(operation)
    rules.check_carrier(operation, org)
    rules.check_running(operation)
    design = design_for(operation)
    periods = [
        p
        for p in (rhythm.periods(design, in_force=True) if design else [])
        if p.kind == rules.IMMERSION_PERIOD_KIND and p.id
    ]
    if not periods:
        raise RuleError(
            _("Le rythme de l'alternance ne prévoit aucune période d'immersion en entreprise.")
        )
    trainees = db.session.execute(
        select(Trainee, JobPromise.organisation_id)
        .outerjoin(JobPromise, JobPromise.id == Trainee.promise_id)
        .where(
            Trainee.operation_id == operation.id,
            Trainee.status.in_(recruitment_rules.MATCHABLE),
        )
        .order_by(Trainee.id)
    ).all()
    existing = set(
        db.session.execute(
            select(Immersion.trainee_id, Immersion.period_id).where(
                Immersion.operation_id == operation.id
            )
        ).all()
    )
    employers = {e.id for e in signatory_employers(operation)}
    tutors = tutors_by_employer(employers)
    skills = design_skills(operation)
    created = unmatched = 0
    per_employer: dict[int, int] = {}
    for trainee, promise_employer_id in trainees:
        hosts = {p.id: host_for(p, promise_employer_id, employers) for p in periods}
        if None in hosts.values():
            unmatched += 1
        for period in periods:
            employer_id = hosts[period.id]
            if employer_id is None or (trainee.id, period.id) in existing:
                continue
            only_tutor = tutors[employer_id][0] if len(tutors[employer_id]) == 1 else None
            db.session.add(
                Immersion(
                    operation_id=operation.id,
                    trainee_id=trainee.id,
                    employer_id=employer_id,
                    suggested_tutor_id=getattr(only_tutor, "id", None),
                    starts_on=period.start,
                    ends_on=period.end,
                    period_id=period.id,
                    objectives=[s["id"] for s in skills if employer_id in s["asked_by"]],
                )
            )
            created += 1
            per_employer[employer_id] = per_employer.get(employer_id, 0) + 1
    db.session.flush()
    if created:
        log_event(operation, "immersions_generated", by=by, org=org, count=created)
    for employer_id, count in per_employer.items():
        notify(
            organisation_members(employer_id, admins_only=True),
            kind="tutors_to_designate",
            message=_(
                "%(org)s prévoit %(n)d immersion(s) dans votre entreprise pour « %(title)s » : "
                "désignez le ou la tuteur·rice de chaque stagiaire.",
                org=org.name,
                n=count,
                title=operation.title,
            ),
            endpoint="tutoring.tutor_home",
            operation=operation,
            email_subject=_("Tutorat : des stagiaires arrivent en immersion"),
        )
    return Generation(created=created, periods=len(periods), unmatched=unmatched)


# --- Adjusting one immersion ----------------------------------------------------------------


def _check_fields(operation: Operation, data: dict) -> None:
    """Employer among the signatories, suggested tutor among its tutors, dates, known
    objectives."""
    employer = data["employer"]
    if employer is None or employer.id not in {e.id for e in signatory_employers(operation)}:
        raise RuleError(
            _("L'entreprise d'accueil doit être un employeur signataire de la convention."),
            "employer_id",
        )
    check_tutor(data.get("tutor"), employer)
    if data["ends_on"] < data["starts_on"]:
        raise RuleError(_("L'immersion doit finir après avoir commencé."), "ends_on")
    known = {s["id"] for s in design_skills(operation)}
    if any(skill_id not in known for skill_id in data.get("objectives", [])):
        raise RuleError(_("Un objectif ne fait pas partie des compétences visées."), "objectives")


def create_immersion(
    operation: Operation, trainee: Trainee, data: dict, *, by: User, org: Organisation
) -> Immersion:
    """Add an immersion by hand (a trainee without a promise, an extra period).

    ``data``: employer, tutor (the organisme's suggestion, or None), starts_on, ends_on,
    objectives (skill ids).
    """
    rules.check_carrier(operation, org)
    rules.check_running(operation)
    if trainee.operation_id != operation.id:
        raise RuleError(_("Ce·tte stagiaire ne suit pas cette opération."))
    _check_fields(operation, data)
    immersion = Immersion(
        operation_id=operation.id,
        trainee_id=trainee.id,
        employer_id=data["employer"].id,
        starts_on=data["starts_on"],
        ends_on=data["ends_on"],
        objectives=list(data.get("objectives", [])),
    )
    db.session.add(immersion)
    db.session.flush()
    log_event(operation, "immersion_added", by=by, org=org, employer=data["employer"].name)
    suggest_tutor(immersion, data.get("tutor"), by=by, org=org)
    return immersion


def update_immersion(immersion: Immersion, data: dict, *, by: User, org: Organisation) -> None:
    """Adjust host, suggested tutor, dates and objectives. Another host drops the tutor its
    predecessor designated (to be briefed again); once the tutor has assessed the immersion,
    the host stays (the assessment is theirs). The immersion is locked first: an
    assessment committed meanwhile is seen."""
    lock(immersion)
    operation = immersion.operation
    rules.check_carrier(operation, org)
    rules.check_running(operation)
    _check_fields(operation, data)
    moved = data["employer"].id != immersion.employer_id
    if immersion.assessment is not None and moved:
        raise RuleError(
            _(
                "Le ou la tuteur·rice a déjà évalué cette immersion : l'entreprise et le tutorat "
                "ne changent plus."
            ),
            "employer_id",
        )
    if moved:
        immersion.tutor = None
        immersion.suggested_tutor_id = None
        immersion.tutor_briefed = False
    immersion.employer = data["employer"]
    immersion.starts_on, immersion.ends_on = data["starts_on"], data["ends_on"]
    immersion.objectives = list(data.get("objectives", []))
    _sync_prepared(immersion, by)
    db.session.flush()
    log_event(operation, "immersion_updated", by=by, org=org, employer=data["employer"].name)
    suggest_tutor(immersion, data.get("tutor"), by=by, org=org)


def delete_immersion(immersion: Immersion, *, by: User, org: Organisation) -> None:
    """Remove an immersion added by mistake, unless it was assessed or debriefed (locked
    first: an assessment committed meanwhile is seen, not deleted from under)."""
    lock(immersion)
    operation = immersion.operation
    rules.check_carrier(operation, org)
    debriefed = db.session.scalar(
        select(DebriefTrainee.id).where(DebriefTrainee.immersion_id == immersion.id).limit(1)
    )
    if immersion.assessment is not None or debriefed is not None:
        raise RuleError(
            _("Une immersion évaluée ou débriefée reste au parcours du ou de la stagiaire.")
        )
    employer = immersion.employer.name
    db.session.delete(immersion)
    db.session.flush()
    log_event(operation, "immersion_removed", by=by, org=org, employer=employer)


def _sync_prepared(immersion: Immersion, by: User) -> bool:
    """Keep ``prepared_at`` in step with the checklist; True when it just became ready."""
    if immersion.is_ready and immersion.prepared_at is None:
        immersion.prepared_at, immersion.prepared_by_id = utcnow(), by.id
        return True
    if not immersion.is_ready:
        immersion.prepared_at = immersion.prepared_by_id = None
    return False


def save_checklist(immersion: Immersion, data: dict, *, by: User, org: Organisation) -> bool:
    """Record the preparation checklist; True when the immersion just became « prête ».

    ``data``: objectives_agreed, tutor_briefed, safety_ppe (bools), practical_details,
    agreement_reference (texts).
    """
    lock(immersion)
    operation = immersion.operation
    rules.check_carrier(operation, org)
    rules.check_running(operation)
    if data.get("tutor_briefed") and immersion.tutor_id is None:
        raise RuleError(_("Désignez d'abord le ou la tuteur·rice de l'immersion."), "tutor_briefed")
    immersion.objectives_agreed = bool(data.get("objectives_agreed"))
    immersion.tutor_briefed = bool(data.get("tutor_briefed"))
    immersion.safety_ppe = bool(data.get("safety_ppe"))
    immersion.practical_details = (data.get("practical_details") or "").strip()
    immersion.agreement_reference = (data.get("agreement_reference") or "").strip()
    ready = _sync_prepared(immersion, by)
    db.session.flush()
    if ready:
        log_event(operation, "immersion_prepared", by=by, org=org, employer=immersion.employer.name)
    return ready
