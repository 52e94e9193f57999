"""Who sees and answers a trainee's employment follow-up: fewer people than the record.

The follow-up is open to the operation's organisme porteur, to the Région (for the
operations it sees), to the prescriber that oriented the trainee and to the employer that
promised the trainee a job or hired them (an answer names it). An immersion host that
neither promised nor hired does not see it. Others are refused as the trainee's record
refuses them: 404 when they cannot see the operation, 403 when they can. Every view of a
follow-up is written to the trainee access log.
"""

from flask import abort
from sqlalchemy import exists, or_, select

from portal.accounts.access import current_membership
from portal.accounts.models import Membership, Organisation, OrgKind, User
from portal.extensions import db
from portal.followup.models import Answer, Milestone, Party
from portal.operations.models import Operation
from portal.recruitment.access import log_access, trainee_visibility, trainees_where
from portal.recruitment.models import JobPromise, Trainee


def _promiser(org_id: int):
    """SQL condition on ``Trainee``: ``org_id`` promised the trainee their job."""
    return exists().where(JobPromise.id == Trainee.promise_id, JobPromise.organisation_id == org_id)


def _hirer(org_id: int):
    """SQL condition on ``Trainee``: an answer of the trainee's follow-up names ``org_id``
    as the employer.

    An uncorrelated ``IN``: the trainees ``org_id`` hired are read once. The correlated
    ``EXISTS`` it replaces made SQLite read every answer of the employer for each trainee
    (issue #16's benchmark: an employer's home page took 2.1 s at 1,000 operations and
    524 s at 10,000)."""
    hired = (
        select(Milestone.trainee_id)
        .join(Answer, Answer.milestone_id == Milestone.id)
        .where(Answer.employer_id == org_id)
    )
    return Trainee.id.in_(hired)


def follows_sql(org_id: int):
    """SQL condition on ``Trainee``: ``org_id`` prescribed, promised or hired the trainee."""
    return or_(Trainee.prescriber_id == org_id, _promiser(org_id), _hirer(org_id))


def followup_visibility(membership: Membership | None, operation: Operation) -> object:
    """SQL condition restricting ``select(Trainee)`` of ``operation`` to the follow-ups the
    member may see (True or False when it does not depend on the trainee): the record's
    rule with the follow-up's share — never more than the record (an employer's tutor sees
    the follow-up of a trainee it tutors and its employer follows)."""
    return trainee_visibility(membership, operation, follows_sql)


def visible_followups(operation: Operation, query=None):
    """``select(Trainee)`` of ``operation`` limited to the follow-ups the user may see."""
    return trainees_where(operation, followup_visibility(current_membership(), operation), query)


def can_view_followup(trainee: Trainee) -> bool:
    """True when the current user may see ``trainee``'s follow-up."""
    query = visible_followups(trainee.operation, select(Trainee.id)).where(Trainee.id == trainee.id)
    return db.session.scalar(query) is not None


def load_milestone(operation: Operation, milestone_id: int, user: User) -> Milestone:
    """The operation's milestone: 404 when unknown, 403 when its trainee's follow-up is not
    for the user (who sees the operation); the view is logged."""
    milestone = db.session.get(Milestone, milestone_id)
    if milestone is None or milestone.operation_id != operation.id:
        abort(404)
    if not can_view_followup(milestone.trainee):
        abort(403)
    log_access(milestone.trainee, user, "followup")
    return milestone


def is_admin(user: User, organisation: Organisation) -> bool:
    """``user`` is an active admin of ``organisation``."""
    return bool(
        db.session.scalar(
            select(Membership.id).where(
                Membership.user_id == user.id,
                Membership.organisation_id == organisation.id,
                Membership.active.is_(True),
                Membership.is_admin.is_(True),
            )
        )
    )


def answering_party(trainee: Trainee, user: User, org: Organisation | None) -> Party | None:
    """In which capacity ``user`` acting for ``org`` answers ``trainee``'s follow-up: the
    organisme porteur (any member), the prescriber (any member), the employer that promised
    or hired the trainee (its admins); None when they may not answer."""
    if org is None:
        return None
    if trainee.operation.provider_id == org.id:
        return Party.PROVIDER
    if org.kind == OrgKind.PARTNER and trainee.prescriber_id == org.id:
        return Party.PRESCRIBER
    if org.kind == OrgKind.EMPLOYER and is_admin(user, org):
        query = select(Trainee.id).where(
            Trainee.id == trainee.id, or_(_promiser(org.id), _hirer(org.id))
        )
        if db.session.scalar(query) is not None:
            return Party.EMPLOYER
    return None


def can_record_outcome(promise: JobPromise, user: User, org: Organisation | None) -> bool:
    """The organisme porteur, or an admin of the employer that made the promise."""
    if org is None:
        return False
    if promise.operation.provider_id == org.id:
        return True
    return promise.organisation_id == org.id and is_admin(user, org)
