"""Employers' opinions of candidates (the sheet: recruitment with the companies): after
meeting a candidate at a session, an employer with promises in the operation says
« favorable », « réservé » or « défavorable », with a comment. The organisme porteur sees
every opinion on the candidate's record before it retains and matches (``services``).

One current opinion per employer and candidate, changed in place: the trainee's row lock
serialises two changes, and ``version`` refuses a change made from an older reading (a
colleague's opinion is never overwritten unseen). The audit log keeps every verdict.
"""

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from portal.accounts.models import Organisation, OrgKind, User
from portal.accounts.services import active_membership
from portal.audit.services import record
from portal.core.errors import RuleError
from portal.core.locking import lock
from portal.core.time import utcnow
from portal.extensions import db
from portal.notifications.services import notify, organisation_members
from portal.recruitment import rules, sessions
from portal.recruitment.models import (
    CandidateOpinion,
    JobPromise,
    RecruitmentSession,
    Trainee,
    Verdict,
)

COMMENT_MAX = 2000


def _has_promises(operation_id: int, org_id: int) -> bool:
    query = select(func.count(JobPromise.id)).where(
        JobPromise.operation_id == operation_id, JobPromise.organisation_id == org_id
    )
    return db.session.scalar(query) > 0


def _speaks_for(user: User, org: Organisation) -> bool:
    """An active admin of the employer: who commits it (its promises)."""
    membership = active_membership(user, org)
    return membership is not None and membership.is_admin


def opinion_of(trainee_id: int, org_id: int) -> CandidateOpinion | None:
    return db.session.scalar(
        select(CandidateOpinion).where(
            CandidateOpinion.trainee_id == trainee_id, CandidateOpinion.organisation_id == org_id
        )
    )


def _check(trainee: Trainee, session: RecruitmentSession, org: Organisation, by: User) -> None:
    operation = trainee.operation
    if org is None or org.kind != OrgKind.EMPLOYER or not _speaks_for(by, org):
        raise RuleError(_("Seul·e un·e administrateur·rice de l'entreprise donne son avis."))
    if not _has_promises(operation.id, org.id):
        raise RuleError(
            _("Seuls les employeurs qui ont fait des promesses d'embauche donnent un avis.")
        )
    if session.operation_id != operation.id:
        raise RuleError(_("Cette session relève d'une autre opération."))
    if operation.status not in rules.RECORDING_STEPS:
        raise RuleError(_("Les avis se donnent pendant le recrutement et la formation."))
    if sessions.attends(session, org) is None:
        raise RuleError(_("Votre entreprise n'a pas participé à cette session."))
    if not sessions.presented(session, trainee.id):
        raise RuleError(_("Ce ou cette candidat·e n'a pas été présenté·e à cette session."))
    if not sessions.has_started(session):
        raise RuleError(
            _(
                "Les avis se donnent à partir du début de la session (%(when)s).",
                when=sessions.when(session),
            )  # fmt: skip
        )


def give_opinion(
    trainee: Trainee,
    session: RecruitmentSession,
    verdict: Verdict,
    comment: str,
    seen_version: int,
    *,
    by: User,
    org: Organisation,
) -> CandidateOpinion:
    """The employer's opinion of a candidate it met at ``session`` (``seen_version``: the
    version of its opinion the form showed, 0 for none); the organisme porteur is told."""
    lock(trainee)
    _check(trainee, session, org, by)
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise RuleError(_("%(n)d caractères au plus.", n=COMMENT_MAX), "comment")
    opinion = opinion_of(trainee.id, org.id)
    current = opinion.version if opinion is not None else 0
    if seen_version != current:
        raise RuleError(
            _(
                "%(name)s vient de donner l'avis de votre entreprise sur cette personne : "
                "relisez-le avant de le modifier.",
                name=opinion.given_by.full_name if opinion is not None else _("Quelqu'un"),
            ),
            "verdict",
        )
    if opinion is not None and (opinion.verdict, opinion.comment) == (verdict, comment):
        return opinion
    if opinion is None:
        opinion = CandidateOpinion(trainee_id=trainee.id, organisation_id=org.id, version=0)
        db.session.add(opinion)
    opinion.verdict, opinion.comment = verdict, comment
    opinion.version = current + 1
    opinion.session_id = session.id
    opinion.given_by_id = by.id
    opinion.given_at = utcnow()
    db.session.flush()
    # The verdict only: the comment is about a person, kept in its row.
    record(
        "candidate.opinion",
        actor=by,
        organisation=org,
        obj=trainee,
        verdict=verdict.value,
        version=opinion.version,
        session=session.id,
    )
    operation = trainee.operation
    if operation.provider_id:
        notify(
            organisation_members(operation.provider_id),
            kind="candidate_opinion",
            operation=operation,
            message=_(
                "%(org)s donne un avis « %(verdict)s » sur un·e candidat·e de « %(title)s ».",
                org=org.name,
                verdict=verdict.title,
                title=operation.title,
            ),
            endpoint="recruitment.show_trainee",
            operation_id=operation.id,
            trainee_id=trainee.id,
        )
    return opinion


def opinions_of(trainee: Trainee) -> list[CandidateOpinion]:
    """Every employer's opinion of ``trainee``, by employer (for the organisme porteur)."""
    return list(
        db.session.scalars(
            select(CandidateOpinion)
            .join(Organisation, Organisation.id == CandidateOpinion.organisation_id)
            .where(CandidateOpinion.trainee_id == trainee.id)
            .options(
                contains_eager(CandidateOpinion.organisation),
                joinedload(CandidateOpinion.given_by),
                joinedload(CandidateOpinion.session),
            )
            .order_by(Organisation.name)
        )
    )


def by_trainee(trainee_ids, org_id: int | None = None) -> dict[int, list[CandidateOpinion]]:
    """Opinions of these trainees (of one employer if ``org_id``), by trainee (one query)."""
    ids = [i for i in trainee_ids if i is not None]
    if not ids:
        return {}
    query = (
        select(CandidateOpinion)
        .join(Organisation, Organisation.id == CandidateOpinion.organisation_id)
        .where(CandidateOpinion.trainee_id.in_(ids))
        .options(
            selectinload(CandidateOpinion.organisation), selectinload(CandidateOpinion.given_by)
        )
        .order_by(Organisation.name)
    )
    if org_id is not None:
        query = query.where(CandidateOpinion.organisation_id == org_id)
    found: dict[int, list[CandidateOpinion]] = {}
    for opinion in db.session.scalars(query):
        found.setdefault(opinion.trainee_id, []).append(opinion)
    return found
