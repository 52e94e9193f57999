"""Read-side queries of recruitment: the figures, the promises, the trainees list and a
record's history — each in a fixed number of queries, whatever the number of trainees."""

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import contains_eager, joinedload

from portal.accounts.models import Organisation, OrgKind
from portal.core.memo import Read, remember_read
from portal.extensions import db
from portal.operations.models import Operation, OperationEvent, Participant, Status
from portal.recruitment import lasting, rules
from portal.recruitment.access import visible_trainees
from portal.recruitment.models import JobPromise, Trainee, TraineeStatus, TraineeStatusChange

EARLY_START = "training_start_decided"


# The operation page shows the recruitment card from this step on.
CARD_STEPS = (Status.RECRUITMENT, Status.TRAINING, Status.FOLLOW_UP, Status.CLOSED)


def card_reads(operation: Operation) -> list[Read]:
    """The operation page card's read of ``operation`` (none where it shows no card)."""
    return [figures_read([operation])] if operation.status in CARD_STEPS else []


def figures(operation: Operation) -> rules.Figures:
    """Promises, matched promises, target and recruits of ``operation`` (one query)."""
    return figures_by_operation([operation])[operation.id]


def figures_by_operation(operations: list[Operation]) -> dict[int, rules.Figures]:
    """The figures of each operation (operation id → ``Figures``), in one query whatever
    their number.

    Only the promises that count toward « 1 stagiaire pour 1 promesse » are the rule's
    promises (``lasting.counts_sql``); the others are counted ``apart``. Read once per
    request for the same operations (the operation page's card and its « À faire »)."""
    return remember_read(figures_read(operations))


def figures_read(operations: list[Operation]) -> Read:
    """``figures_by_operation``'s read (``memo.prefetch`` runs it with other cards')."""
    key = ("recruitment.figures", tuple((o.id, o.target_headcount) for o in operations))

    def statement():
        ids = [o.id for o in operations]
        counted = lasting.counts_sql()
        promised = (
            select(
                JobPromise.operation_id,
                func.count(case((counted, 1))).label("promises"),
                func.count(case((and_(counted, Trainee.id.is_not(None)), 1))).label("matched"),
                func.count(case((~counted, 1))).label("apart"),
            )
            .outerjoin(Trainee, Trainee.promise_id == JobPromise.id)
            .where(JobPromise.operation_id.in_(ids))
            .group_by(JobPromise.operation_id)
            .subquery()
        )
        place = rules.holds_place_sql()
        unmatched = Trainee.status.in_(rules.MATCHABLE) & Trainee.promise_id.is_(None)
        training = Trainee.status == TraineeStatus.IN_TRAINING
        recruits = (
            select(
                Trainee.operation_id,
                func.count(case((place, 1))).label("recruited"),
                func.count(case((unmatched, 1))).label("unmatched"),
                func.count(case((training, 1))).label("training"),
            )
            .where(Trainee.operation_id.in_(ids))
            .group_by(Trainee.operation_id)
            .subquery()
        )
        # One statement: both counts per operation, side by side on the operation's id.
        return (
            select(
                Operation.id,
                func.coalesce(promised.c.promises, 0),
                func.coalesce(promised.c.matched, 0),
                func.coalesce(promised.c.apart, 0),
                func.coalesce(recruits.c.recruited, 0),
                func.coalesce(recruits.c.unmatched, 0),
                func.coalesce(recruits.c.training, 0),
            )
            .outerjoin(promised, promised.c.operation_id == Operation.id)
            .outerjoin(recruits, recruits.c.operation_id == Operation.id)
            .where(Operation.id.in_(ids))
        )

    return Read(key, statement, lambda rows: _figures(operations, rows))


def _figures(operations: list[Operation], rows: list[tuple]) -> dict[int, rules.Figures]:
    counts = {row[0]: tuple(row[1:]) for row in rows}
    found = {}
    for operation in operations:
        promises, matched, apart, recruited, unmatched, in_training = counts.get(
            operation.id, (0,) * 6
        )
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
            .options(contains_eager(JobPromise.organisation), joinedload(JobPromise.trainee))
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


def trainees_query(operation: Operation, status: TraineeStatus | None = None):
    """The trainees the current user may see, with what a row of the list shows."""
    query = visible_trainees(operation).options(
        joinedload(Trainee.prescriber),
        joinedload(Trainee.promise).joinedload(JobPromise.organisation),
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
            .options(joinedload(TraineeStatusChange.by))
            .order_by(TraineeStatusChange.at, TraineeStatusChange.id)
        )
    )


def early_start_decisions(operation: Operation) -> list[OperationEvent]:
    """Decisions to start the training before the session's start date."""
    return list(
        db.session.scalars(
            select(OperationEvent)
            .where(OperationEvent.operation_id == operation.id, OperationEvent.kind == EARLY_START)
            .options(joinedload(OperationEvent.actor), joinedload(OperationEvent.organisation))
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
