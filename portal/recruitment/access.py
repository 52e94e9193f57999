"""Who may see a trainee's record: the minimum of people, each view logged.

A trainee's record is open to the operation's organisme porteur, to the Région (for the
operations it sees), to the prescriber that oriented the trainee, and to the admins of the
employer the trainee is placed with (their promise or an immersion). The employer's other
members see a trainee only while they are its tutors and designated as the tutor of one
of the trainee's immersions there (issue #12). Another employer of the same operation is
refused.

An employer that takes part in an information session or a job dating sees, by name
only, the candidates presented there (``recruitment/sessions.py``, its own access rule
and log); a prescriber follows the candidates it proposed (``recruitment/prescription.py``).

The host employer sees the trainee's name and what the placement needs; the personal
details (contact, birth year, public category such as « bénéficiaire du RSA ») are for
the organisme porteur, the Région and the prescriber only (``can_see_personal``, a
template global). Every page or export showing trainees writes the access log: a record
through ``load_trainee``, a list through ``log_trainees_shown`` — one row per request.
"""

from flask import abort, has_request_context, request
from flask_login import current_user
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import joinedload

from portal.accounts.access import acting_for_region, current_membership, current_org
from portal.accounts.models import Membership, OrgKind, User
from portal.extensions import db
from portal.immersions.models import Immersion
from portal.immersions.rules import tutored_by
from portal.operations.access import can_view
from portal.recruitment.models import JobPromise, Trainee, TraineeAccess


def _placing_employer(org_id: int):
    """SQL condition: ``org_id`` hosts the trainee (promise matched or an immersion)."""
    return or_(
        exists().where(JobPromise.id == Trainee.promise_id, JobPromise.organisation_id == org_id),
        exists().where(Immersion.trainee_id == Trainee.id, Immersion.employer_id == org_id),
    )


def _designated_tutor(org_id: int, user_id: int):
    """SQL condition: ``user_id`` is the designated tutor of one of the trainee's immersions
    hosted by ``org_id``, and still one of its active tutors (``tutored_by``, as the tutor's
    space and ``can_assess`` require): a member whose tutor role ended sees no more than a
    member who never had it.

    A list (``IN``), not a correlated ``EXISTS``: SQLite ran that once per trainee through
    the tutor's index, reading all the tutor's immersions each time (issue #16: the
    tutor's home took minutes at 10,000 operations); the list is read once."""
    return Trainee.id.in_(
        select(Immersion.trainee_id).where(
            Immersion.employer_id == org_id, tutored_by(user_id, org_id)
        )
    )


def participant_visibility(membership: Membership, participant=None):
    """SQL condition on ``Trainee``: the trainees seen by a member of an organisation that
    neither carries nor pilots the operation. ``participant(org_id)`` is the organisation's
    share (by default the record's: those it prescribed or hosts); an employer's member who
    is not its admin sees only that share's trainees they tutor."""
    org_id = membership.organisation_id
    share = participant(org_id) if participant is not None else None
    if membership.organisation.kind == OrgKind.EMPLOYER and not membership.is_admin:
        tutor = _designated_tutor(org_id, membership.user_id)
        return tutor if share is None else and_(tutor, share)
    if share is not None:
        return share
    return or_(Trainee.prescriber_id == org_id, _placing_employer(org_id))


def trainee_visibility(membership: Membership | None, operation, participant=None) -> object:
    """SQL condition restricting ``select(Trainee)`` of ``operation`` to the member acting
    through ``membership`` (an active membership: the current one). The Région and the
    organisme porteur see every trainee; for the others see ``participant_visibility``."""
    if membership is None:
        return False
    if acting_for_region() and can_view(operation):
        return True
    if operation.provider_id == membership.organisation_id:
        return True
    return participant_visibility(membership, participant)


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
    return trainees_where(operation, trainee_visibility(current_membership(), operation), query)


def can_view_trainee(trainee: Trainee) -> bool:
    """True when the current user may open ``trainee``'s record. Asked of the database only
    when the answer depends on the trainee (a partner's share, a tutor's trainees): the
    Région and the organisme porteur see every trainee of the operation, an outsider none
    (issue #16: a query for an answer known beforehand, twice on the record's page)."""
    operation = trainee.operation
    condition = trainee_visibility(current_membership(), operation)
    if condition is True or condition is False:
        return condition
    query = trainees_where(operation, condition, select(Trainee.id)).where(Trainee.id == trainee.id)
    return db.session.scalar(query) is not None


def visible_among(operation, trainees) -> set[int]:
    """The ids of those of ``trainees`` (of ``operation``; None ignored) the current user may
    see: at most one query, none for the Région, the organisme porteur (every trainee of
    the operation) or an outsider (issue #16)."""
    trainees = [t for t in trainees if t is not None]
    condition = trainee_visibility(current_membership(), operation)
    if not trainees or condition is False:
        return set()
    if condition is True:
        return {t.id for t in trainees if t.operation_id == operation.id}
    query = trainees_where(operation, condition, select(Trainee.id)).where(
        Trainee.id.in_([t.id for t in trainees])
    )
    return set(db.session.scalars(query))


def is_provider_of(trainee_or_operation) -> bool:
    """The current organisation is the organisme porteur (who records trainees)."""
    operation = getattr(trainee_or_operation, "operation", trainee_or_operation)
    org = current_org()
    return org is not None and operation.provider_id == org.id


def can_see_personal(trainee: Trainee) -> bool:
    """The current organisation may read ``trainee``'s personal details: the organisme
    porteur, the Région or the trainee's prescriber — not a host employer nor its tutors."""
    org = current_org()
    if org is None:
        return False
    if org.kind == OrgKind.REGION or trainee.prescriber_id == org.id:
        return True
    return is_provider_of(trainee)


def _access(user: User, action: str, **trainees) -> TraineeAccess:
    org = current_org()
    ip = request.remote_addr or "" if has_request_context() else ""
    row = TraineeAccess(
        user_id=user.id, organisation_id=getattr(org, "id", None), action=action, ip=ip, **trainees
    )
    db.session.add(row)
    return row


def log_access(trainee: Trainee, user: User, action: str = "view") -> None:
    """Write the access log line for a view (or export) of a trainee's record."""
    _access(user, action, trainee_id=trainee.id, trainee_ids=[trainee.id])


def log_trainees_shown(trainees, purpose: str) -> None:
    """Write one access log line for a page (or export) showing these trainees (or their
    ids); ``purpose`` names the page (``immersions``, ``tutor``…). Nothing when it shows
    nobody. The caller commits after rendering (GETs write this log on purpose, see
    ``tests/core/test_routes.py``)."""
    ids = sorted({getattr(trainee, "id", trainee) for trainee in trainees})
    if ids and current_user.is_authenticated:
        _access(current_user, purpose, trainee_ids=ids)


def load_trainee(operation_id: int, trainee_id: int, user: User, options=()) -> Trainee:
    """The trainee, 404 when unknown or when the user cannot see the operation nor the
    record, 403 when they see the operation but not this record; the view is logged.
    ``options``: the loader options of what the page shows of the trainee (read with it)."""
    trainee = db.session.get(Trainee, trainee_id, options=[joinedload(Trainee.operation), *options])
    if trainee is None or trainee.operation_id != operation_id:
        abort(404)
    if not can_view_trainee(trainee):
        abort(403 if can_view(trainee.operation) else 404)
    log_access(trainee, user)
    return trainee
