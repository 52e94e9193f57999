"""The tutor's assessment of an immersion: who may record it (the tutor, or an admin of
the host employer acting for it) and recording it (presence, skills observed, overall
feedback, would they hire), which the organisme porteur is told of. It flushes and never
commits."""

from datetime import date

from flask_babel import gettext as _

from portal.accounts.models import Organisation, User
from portal.core.errors import RuleError
from portal.core.locking import lock
from portal.extensions import db
from portal.immersions import rules
from portal.immersions.models import (
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
    """The immersion's tutor, or an admin of the host employer, acting for that employer."""
    if org is None or org.id != immersion.employer_id:
        return False
    if immersion.tutor_id == user.id:
        return True
    return any(m.organisation_id == org.id and m.is_admin for m in user.active_memberships())


def record_assessment(
    immersion: Immersion, data: dict, *, by: User, org: Organisation, today: date | None = None
) -> TutorAssessment:
    """Record (or update) the tutor's assessment; the organisme porteur is told.

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
    if created:
        assessment = TutorAssessment(immersion=immersion, tutor_id=by.id)
        db.session.add(assessment)
    assessment.presence = Presence(data["presence"])
    assessment.would_hire = WouldHire(data["would_hire"])
    assessment.feedback = (data.get("feedback") or "").strip()
    # Updated in place, so that debriefs linked to a rating keep their link.
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
            "%(who)s (%(org)s) a %(verb)s l'évaluation de l'immersion de %(trainee)s.",
            who=by.full_name,
            org=org.name,
            verb=_("enregistré") if created else _("mis à jour"),
            trainee=immersion.trainee.full_name,
        ),
        endpoint="immersions.show_trainee_path",
        operation=operation,
        operation_id=operation.id,
        trainee_id=immersion.trainee_id,
    )
    return assessment
