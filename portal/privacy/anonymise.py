"""Replacing a trainee's identity by a pseudonym, statistics kept (RGPD art. 17).

Anonymising a trainee (past retention, ``retention.py``, or on the person's request when
no retention holds, ``erasure_refusal``) replaces the name by « Stagiaire n° <id> »,
clears the contact details, the birth year and every free text written about them
(reasons, comments, notes, the placement's practical details), and keeps what the
reporting counts: the operation, statuses and their dates, exit reason, public category,
immersions' dates, evaluations' outcomes, follow-up situations and their employers. The
record stays, so every count, rate and indicator is unchanged.
"""

from datetime import date

from flask import current_app
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select, update

from portal.audit.services import record
from portal.core.errors import RuleError
from portal.core.locking import lock
from portal.core.time import utcnow
from portal.extensions import db
from portal.followup.models import Answer, Attempt, Milestone, RetainedAnswer
from portal.immersions.models import (
    DebriefSkill,
    EvaluationResult,
    Immersion,
    SkillRating,
    TutorAssessment,
)
from portal.privacy.retention import kept_until, six_month_due
from portal.recruitment.models import (
    CandidateOpinion,
    Trainee,
    TraineeStatus,
    TraineeStatusChange,
)

PSEUDONYM_FIRST_NAME = "Stagiaire"

# Candidates who never entered training: nothing but the recruitment holds their data, and
# a candidate who withdraws may have it erased at once.
NEVER_TRAINED = frozenset({TraineeStatus.CANDIDATE, TraineeStatus.NOT_RETAINED})


def pseudonym(trainee_id: int) -> tuple[str, str]:
    """The first and last name that replace a trainee's: « Stagiaire » « n° 1234 »."""
    return PSEUDONYM_FIRST_NAME, f"n° {trainee_id}"


def erasure_refusal(trainee: Trainee, today: date) -> str | None:
    """Why ``trainee``'s data may not be erased on request today (French), or None."""
    if trainee.anonymised_at is not None:
        return _("Les données de ce·tte stagiaire sont déjà anonymisées.")
    if trainee.status in NEVER_TRAINED:
        return None
    months = current_app.config["RETENTION_TRAINEE_MONTHS"]
    until = kept_until(trainee, six_month_due(trainee))
    if until is None:
        return _(
            "Effacement refusé : le parcours de ce·tte stagiaire n'est pas terminé ; ses "
            "données sont conservées jusqu'au suivi à 6 mois après sa sortie, puis "
            "%(months)s mois (suivi dû à la Région).",
            months=months,
        )
    if until >= today:
        return _(
            "Effacement refusé : une durée de conservation légale s'applique jusqu'au "
            "%(date)s inclus (suivi dans l'emploi à 6 mois, puis %(months)s mois).",
            date=format_date(until),
            months=months,
        )
    return None


def anonymise_trainee(trainee: Trainee, *, by=None, org=None, basis: str) -> None:
    """Replace ``trainee``'s identity by a pseudonym and clear what was written about them;
    ``basis`` is why (``retention`` or ``request``), kept in the audit event. Flushes."""
    lock(trainee)
    if trainee.anonymised_at is not None:
        raise RuleError(_("Les données de ce·tte stagiaire sont déjà anonymisées."))
    trainee.first_name, trainee.last_name = pseudonym(trainee.id)
    trainee.email = ""
    trainee.phone = ""
    trainee.birth_year = None
    trainee.exit_detail = ""
    trainee.anonymised_at = utcnow()
    _clear_free_texts(trainee.id)
    record("trainee.anonymised", actor=by, organisation=org, obj=trainee, basis=basis)
    db.session.flush()


def erase_on_request(trainee: Trainee, today: date, *, by, org) -> None:
    """The person asked for erasure: anonymise ``trainee`` unless a retention holds their
    data (``RuleError`` saying until when). Checked under the trainee's lock, so a status
    changed meanwhile (entering training) is seen."""
    lock(trainee)
    refusal = erasure_refusal(trainee, today)
    if refusal:
        raise RuleError(refusal)
    anonymise_trainee(trainee, by=by, org=org, basis="request")


def _clear_free_texts(trainee_id: int) -> None:
    immersions = select(Immersion.id).where(Immersion.trainee_id == trainee_id)
    assessments = select(TutorAssessment.id).where(TutorAssessment.immersion_id.in_(immersions))
    milestones = select(Milestone.id).where(Milestone.trainee_id == trainee_id)
    for statement in (
        update(TraineeStatusChange)
        .where(TraineeStatusChange.trainee_id == trainee_id)
        .values(reason=""),
        update(CandidateOpinion)
        .where(CandidateOpinion.trainee_id == trainee_id)
        .values(comment=""),
        update(Immersion).where(Immersion.trainee_id == trainee_id).values(practical_details=""),
        update(TutorAssessment)
        .where(TutorAssessment.id.in_(assessments))
        .values(feedback="", updated_at=TutorAssessment.updated_at),
        update(SkillRating).where(SkillRating.assessment_id.in_(assessments)).values(comment=""),
        update(DebriefSkill).where(DebriefSkill.trainee_id == trainee_id).values(comment=""),
        update(EvaluationResult)
        .where(EvaluationResult.trainee_id == trainee_id)
        .values(comment=""),
        update(Answer).where(Answer.milestone_id.in_(milestones)).values(comment=""),
        update(Attempt).where(Attempt.milestone_id.in_(milestones)).values(note=""),
        update(RetainedAnswer).where(RetainedAnswer.milestone_id.in_(milestones)).values(note=""),
    ):
        db.session.execute(statement.execution_options(synchronize_session=False))
