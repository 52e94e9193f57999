"""The tutor's assessment of an immersion: who may record it (the tutor while still an
active tutor of the host, or an admin of the host employer acting for it) and recording
it (presence, skills observed, overall feedback, would they hire), which the organisme
porteur is told of. It flushes and never commits.

Once a debrief used an assessment, it is frozen: a correction supersedes it with a new,
dated assessment (issue #11 L17)."""

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import exists, select

from portal.accounts.models import Organisation, User
from portal.core.errors import RuleError
from portal.core.french import de
from portal.core.locking import lock
from portal.core.time import utcnow
from portal.extensions import db
from portal.immersions import rules
from portal.immersions.models import (
    DebriefSkill,
    Immersion,
    Presence,
    SkillLevel,
    SkillRating,
    TutorAssessment,
    WouldHire,
)
from portal.immersions.services import skills_to_assess
from portal.notifications.services import notify, organisation_members
from portal.operations.events import log_event


def can_assess(immersion: Immersion, user: User, org: Organisation | None) -> bool:
    """The immersion's tutor while still an active tutor of the host, or an admin of the
    host employer, acting for that employer."""
    if org is None or org.id != immersion.employer_id:
        return False
    host = [m for m in user.active_memberships() if m.organisation_id == org.id]
    if immersion.tutor_id == user.id and any(m.is_tutor for m in host):
        return True
    return any(m.is_admin for m in host)


def _used_by_a_debrief(assessment: TutorAssessment) -> bool:
    """A debrief links one of the assessment's ratings: the assessment is frozen."""
    ids = [rating.id for rating in assessment.ratings]
    return bool(ids) and db.session.scalar(select(exists().where(DebriefSkill.rating_id.in_(ids))))


def record_assessment(
    immersion: Immersion, data: dict, *, by: User, org: Organisation, today: date | None = None
) -> TutorAssessment:
    """Record (or update) the tutor's assessment; the organisme porteur is told.

    Refused once the operation is closed or cancelled. An assessment a debrief used is
    frozen: a later submit supersedes it with a new, dated assessment (issue #11 L17).

    ``data``: presence (Presence), would_hire (WouldHire), feedback, ratings: a list of
    ``{"skill_id", "level": SkillLevel | None, "comment"}`` (None: not observed).
    A second submit waits for the first and updates the assessment it created.
    """
    lock(immersion)
    if not can_assess(immersion, by, org):
        raise RuleError(
            _(
                "Seul·e le ou la tuteur·rice de l'immersion (ou un·e responsable de l'entreprise "
                "d'accueil) l'évalue."
            )
        )
    if not immersion.operation.is_open:
        raise RuleError(_("L'opération est clôturée ou annulée : l'évaluation ne se modifie plus."))
    today = today or rules.today()
    if immersion.starts_on > today:
        raise RuleError(_("L'immersion n'a pas encore commencé : évaluez-la une fois en cours."))
    labels = {s["id"]: s["label"] for s in skills_to_assess(immersion)}
    ratings = []
    for row in data.get("ratings", []):
        if row["skill_id"] not in labels:
            raise RuleError(_("Une compétence évaluée ne fait pas partie des objectifs."))
        if row.get("level") is None:
            if (row.get("comment") or "").strip():
                raise RuleError(
                    _(
                        "Indiquez le niveau de « %(s)s » avant de le commenter.",
                        s=labels[row["skill_id"]],
                    ),
                    f"level-{row['skill_id']}",
                )
            continue
        ratings.append(row)
    assessment = immersion.assessment
    created = assessment is None
    if not created and _used_by_a_debrief(assessment):
        # Frozen: what the debrief relied on stays as it was; the correction is new, dated.
        assessment.superseded_at = utcnow()
        db.session.flush()
        assessment = None
    if assessment is None:
        assessment = TutorAssessment(immersion=immersion, tutor_id=by.id)
        db.session.add(assessment)
    assessment.presence = Presence(data["presence"])
    assessment.would_hire = WouldHire(data["would_hire"])
    assessment.feedback = (data.get("feedback") or "").strip()
    # Not used by a debrief yet: updated in place.
    kept = {rating.skill_id: rating for rating in assessment.ratings}
    rated = {row["skill_id"] for row in ratings}
    for skill_id, rating in kept.items():
        if skill_id not in rated:
            assessment.ratings.remove(rating)
    for row in ratings:
        rating = kept.get(row["skill_id"])
        if rating is None:
            rating = SkillRating(skill_id=row["skill_id"])
            assessment.ratings.append(rating)
        rating.skill_label = labels[row["skill_id"]][:300]
        rating.level = SkillLevel(row["level"])
        rating.comment = (row.get("comment") or "").strip()
    db.session.flush()
    db.session.expire(immersion, ["assessment"])
    operation = immersion.operation
    log_event(
        operation,
        "assessment_recorded" if created else "assessment_updated",
        by=by,
        org=org,
        employer=org.name,
    )
    notify(
        organisation_members(operation.provider_id),
        kind="immersion_assessed",
        message=_(
            "%(who)s (%(org)s) a %(verb)s l'évaluation de l'immersion %(of_trainee)s.",
            who=by.full_name,
            org=org.name,
            verb=_("enregistré") if created else _("mis à jour"),
            of_trainee=de(immersion.trainee.full_name),
        ),
        endpoint="immersions.show_trainee_path",
        operation=operation,
        operation_id=operation.id,
        trainee_id=immersion.trainee_id,
    )
    return assessment
