"""Read-side queries of recruitment: the figures, the promises, the trainees list and a
record's history — each in a fixed number of queries, whatever the number of trainees."""

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import joinedload, selectinload

from portal.accounts.models import Organisation, OrgKind
from portal.core.memo import remember
from portal.extensions import db
from portal.operations.models import Operation, OperationEvent, Participant
from portal.recruitment import lasting, rules
from portal.recruitment.access import visible_trainees
from portal.recruitment.models import JobPromise, Trainee, TraineeStatus, TraineeStatusChange

EARLY_START = "training_start_decided"


def figures(operation: Operation) -> rules.Figures:
    """Promises, matched promises, target and recruits of ``operation`` (two queries)."""
    return figures_by_operation([operation])[operation.id]


def _by_operation(query) -> dict[int, tuple]:
    """The rows of ``query`` (operation id first) by operation id."""
    return {row[0]: tuple(row[1:]) for row in db.session.execute(query)}


def figures_by_operation(operations: list[Operation]) -> dict[int, rules.Figures]:
    """The figures of each operation (operation id → ``Figures``), in two queries whatever
    their number.

    Only the promises that count toward « 1 stagiaire pour 1 promesse » are the rule's
    promises (``lasting.counts_sql``); the others are counted ``apart``. Read once per
    request for the same operations (the operation page's card and its « À faire »)."""
    key = ("recruitment.figures", tuple((o.id, o.target_headcount) for o in operations))
    return remember(key, lambda: _figures_by_operation(operations))


def _figures_by_operation(operations: list[Operation]) -> dict[int, rules.Figures]:
    ids = [o.id for o in operations]
    counted = lasting.counts_sql()
    promised = _by_operation(
        select(
            JobPromise.operation_id,
            func.count(case((counted, 1))),
            func.count(case((and_(counted, Trainee.id.is_not(None)), 1))),
            func.count(case((~counted, 1))),
        )
        .outerjoin(Trainee, Trainee.promise_id == JobPromise.id)
        .where(JobPromise.operation_id.in_(ids))
        .group_by(JobPromise.operation_id)
    )
    place = rules.holds_place_sql()
    recruits = _by_operation(
        select(
            Trainee.operation_id,
            func.count(case((place, 1))),
            func.count(
                case(
                    (
                        Trainee.status.in_(rules.MATCHABLE) & Trainee.promise_id.is_(None),
                        1,
                    )
                )
            ),
            func.count(case((Trainee.status == TraineeStatus.IN_TRAINING, 1))),
        )
        .where(Trainee.operation_id.in_(ids))
        .group_by(Trainee.operation_id)
    )
    found = {}
    for operation in operations:
        promises, matched, apart = promised.get(operation.id, (0, 0, 0))
        recruited, unmatched, in_training = recruits.get(operation.id, (0, 0, 0))
        found[operation.id] = rules.Figures(
            promises=promises,
            matched=matched,
            target=operation.target_headcount,
            recruited=recruited,
            unmatched_recruits=unmatched,
            in_training=in_training,
            apart=apart,
        )
    return found


def promises(operation: Operation) -> list[JobPromise]:
    """The operation's promises with their employer and trainee, by employer and post."""
    return list(
        db.session.scalars(
            select(JobPromise)
            .join(Organisation, Organisation.id == JobPromise.organisation_id)
            .where(JobPromise.operation_id == operation.id)
            .options(selectinload(JobPromise.organisation), joinedload(JobPromise.trainee))
            .order_by(Organisation.name, JobPromise.position_id, JobPromise.rank, JobPromise.id)
        )
    )


def by_employer(promise_list: list[JobPromise]) -> list[tuple[Organisation, list[JobPromise]]]:
    """Group promises (already ordered by employer) per employer."""
    groups: list[tuple[Organisation, list[JobPromise]]] = []
    for promise in promise_list:
        if not groups or groups[-1][0].id != promise.organisation_id:
            groups.append((promise.organisation, []))
        groups[-1][1].append(promise)
    return groups


def visible_ids(operation: Operation, ids) -> set[int]:
    """Which of the trainee ``ids`` the current user may see (one query)."""
    ids = [i for i in ids if i is not None]
    if not ids:
        return set()
    query = visible_trainees(operation, select(Trainee.id)).where(Trainee.id.in_(ids))
    return set(db.session.scalars(query))


def trainees_query(operation: Operation, status: TraineeStatus | None = None):
    """The trainees the current user may see, with what a row of the list shows."""
    query = visible_trainees(operation).options(
        selectinload(Trainee.prescriber),
        selectinload(Trainee.promise).selectinload(JobPromise.organisation),
    )
    if status is not None:
        query = query.where(Trainee.status == status)
    return query.order_by(Trainee.last_name, Trainee.first_name, Trainee.id)


def status_counts(operation: Operation) -> dict[TraineeStatus, int]:
    """How many trainees the current user may see stand at each status."""
    query = visible_trainees(operation, select(Trainee.status, func.count(Trainee.id))).group_by(
        Trainee.status
    )
    counts = dict(db.session.execute(query).all())
    return {status: counts.get(status, 0) for status in TraineeStatus}


def history(trainee: Trainee) -> list[TraineeStatusChange]:
    """The trainee's status changes, oldest first, with who made them."""
    return list(
        db.session.scalars(
            select(TraineeStatusChange)
            .where(TraineeStatusChange.trainee_id == trainee.id)
            .options(selectinload(TraineeStatusChange.by))
            .order_by(TraineeStatusChange.at, TraineeStatusChange.id)
        )
    )


def early_start_decisions(operation: Operation) -> list[OperationEvent]:
    """Decisions to start the training before the session's start date."""
    return list(
        db.session.scalars(
            select(OperationEvent)
            .where(OperationEvent.operation_id == operation.id, OperationEvent.kind == EARLY_START)
            .options(selectinload(OperationEvent.actor), selectinload(OperationEvent.organisation))
            .order_by(OperationEvent.at, OperationEvent.id)
        )
    )


def has_early_start_decision(operation: Operation) -> bool:
    return (
        db.session.scalar(
            select(OperationEvent.id)
            .where(OperationEvent.operation_id == operation.id, OperationEvent.kind == EARLY_START)
            .limit(1)
        )
        is not None
    )


def open_promises(operation: Operation, trainee: Trainee | None = None) -> list[JobPromise]:
    """Promises without a trainee (and ``trainee``'s own), for the match form."""
    return [p for p in promises(operation) if p.trainee is None or p.trainee is trainee]


def prescribers(operation: Operation) -> tuple[list[Organisation], list[Organisation]]:
    """Partner organisations: (those taking part in ``operation``, the others)."""
    partners = db.session.scalars(
        select(Organisation).where(Organisation.kind == OrgKind.PARTNER).order_by(Organisation.name)
    ).all()
    taking_part = set(
        db.session.scalars(
            select(Participant.organisation_id).where(
                Participant.operation_id == operation.id, Participant.withdrawn_at.is_(None)
            )
        )
    )
    return (
        [p for p in partners if p.id in taking_part],
        [p for p in partners if p.id not in taking_part],
    )
