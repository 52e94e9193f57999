"""Who may see a trainee's record: the minimum of people, each view logged.

A trainee's record is open to the operation's organisme porteur, to the Région (for the
operations it sees), to the prescriber that oriented the trainee, and to the employer
the trainee is placed with (their promise or an immersion) — which covers that
employer's tutors. Another employer of the same operation is refused.
"""

from flask import abort, has_request_context, request
from sqlalchemy import exists, or_, select

from portal.accounts.access import acting_for_region, current_org
from portal.accounts.models import User
from portal.extensions import db
from portal.immersions.models import Immersion
from portal.operations.access import can_view
from portal.recruitment.models import JobPromise, Trainee, TraineeAccess


def _placing_employer(org_id: int):
    """SQL condition: ``org_id`` hosts the trainee (promise matched or an immersion)."""
    return or_(
        exists().where(JobPromise.id == Trainee.promise_id, JobPromise.organisation_id == org_id),
        exists().where(Immersion.trainee_id == Trainee.id, Immersion.employer_id == org_id),
    )


def trainee_visibility(org_id: int | None, operation, participant=None) -> object:
    """SQL condition restricting ``select(Trainee)`` of ``operation`` to the current user.

    The Région and the organisme porteur see every trainee; ``participant(org_id)`` says
    which trainees another organisation sees (by default, the record's rule: those it
    prescribed or hosts)."""
    if org_id is None:
        return False
    if acting_for_region() and can_view(operation):
        return True
    if operation.provider_id == org_id:
        return True
    if participant is not None:
        return participant(org_id)
    return or_(Trainee.prescriber_id == org_id, _placing_employer(org_id))


def trainees_where(operation, condition, query=None):
    """``select(Trainee)`` (or ``query``) of ``operation`` under ``condition``: True, False or
    an SQL condition on ``Trainee``, as the visibility rules return them."""
    query = query if query is not None else select(Trainee)
    query = query.where(Trainee.operation_id == operation.id)
    if condition is True:
        return query
    if condition is False:
        return query.where(False)
    return query.where(condition)


def visible_trainees(operation, query=None):
    """``select(Trainee)`` of ``operation`` limited to the trainees the user may see."""
    org_id = getattr(current_org(), "id", None)
    return trainees_where(operation, trainee_visibility(org_id, operation), query)


def can_view_trainee(trainee: Trainee) -> bool:
    """True when the current user may open ``trainee``'s record."""
    query = visible_trainees(trainee.operation, select(Trainee.id)).where(Trainee.id == trainee.id)
    return db.session.scalar(query) is not None


def is_provider_of(trainee_or_operation) -> bool:
    """The current organisation is the organisme porteur (who records trainees)."""
    operation = getattr(trainee_or_operation, "operation", trainee_or_operation)
    org = current_org()
    return org is not None and operation.provider_id == org.id


def log_access(trainee: Trainee, user: User, action: str = "view") -> None:
    """Write the access log line for a view (or export) of a trainee's record."""
    org = current_org()
    ip = request.remote_addr or "" if has_request_context() else ""
    db.session.add(
        TraineeAccess(
            trainee_id=trainee.id,
            user_id=user.id,
            organisation_id=getattr(org, "id", None),
            action=action,
            ip=ip,
        )
    )


def load_trainee(operation_id: int, trainee_id: int, user: User) -> Trainee:
    """The trainee, 404 when unknown or when the user cannot see the operation nor the
    record, 403 when they see the operation but not this record; the view is logged."""
    trainee = db.session.get(Trainee, trainee_id)
    if trainee is None or trainee.operation_id != operation_id:
        abort(404)
    if not can_view_trainee(trainee):
        abort(403 if can_view(trainee.operation) else 404)
    log_access(trainee, user)
    return trainee
