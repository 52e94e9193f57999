"""The dashboard's figures per operation, kept up to date in the same transaction as the
rows they count (issue #16).

Counting the Région's figures from the trainees, promises and follow-ups costs one pass
over each table: 1.5–2 s at 10,000 operations (71,000 trainees, 153,000 follow-ups, SQLite).
The dashboard reads instead ``operation_figures`` (one row per operation: promises,
trainees, certifications, employment at +6) and ``operation_year_figures`` (one row per
operation, exit year and milestone: the ``Employment`` counts), then adds them up per
status, bassin and category.

Who keeps them: every flush that adds, changes or deletes a row the figures count (a
trainee, a promise or its outcome, a follow-up, an answer or the retained one, a jury or
its results) notes the operations concerned (``after_flush``); just before the
transaction commits (``before_commit``) their rows are recounted, locked, from the same
SQL definitions as the operation page (``followup.indicators``, ``recruitment.rules``).
Listening to the session rather than calling a refresh from each service means no service
can forget it; a statement that bypasses the ORM (bulk ``insert()`` of the benchmarks' and
the tests' copies) calls ``refresh_all`` itself.
tests/reporting/test_summary.py holds the rows equal to a recount after the services'
writes; tests/reporting/test_figures_oracle.py the dashboard equal to a row-by-row count.
"""

from sqlalchemy import and_, case, delete, event, func, insert, inspect, select, update
from sqlalchemy.orm import Session, aliased

from portal.core.employment import contract_lasting_sql, employment_sql, lasting_sql
from portal.followup.indicators import certified_columns, employment_query
from portal.followup.models import Answer, Milestone, MilestoneKind, PromiseOutcome, RetainedAnswer
from portal.immersions.models import Evaluation, EvaluationResult
from portal.operations.models import Operation
from portal.recruitment.models import ExitReason, JobPromise, Trainee, TraineeStatus
from portal.recruitment.rules import holds_place_sql
from portal.reporting.models import OperationFigures, OperationYearFigures

PROMISE_COLUMNS = ("promises", "promises_lasting", "promises_kept", "promises_not_kept")
TRAINEE_COLUMNS = (
    "recruited",
    "in_training",
    "exited",
    "completed",
    "certified_full",
    "certified_partial",
    "employed_m6",
    "lasting_m6",
)
COUNTED = PROMISE_COLUMNS + TRAINEE_COLUMNS
EMPLOYMENT_COLUMNS = ("followed", "retained", "employed", "lasting", "with_promiser")


def _promise_rows(where):
    return (
        select(
            JobPromise.operation_id,
            func.count(JobPromise.id),
            func.count(
                case(
                    (contract_lasting_sql(JobPromise.contract_type, JobPromise.duration_months), 1)
                )
            ),  # fmt: skip
            func.count(case((PromiseOutcome.kept.is_(True), 1))),
            func.count(case((PromiseOutcome.kept.is_(False), 1))),
        )
        .outerjoin(PromiseOutcome, PromiseOutcome.promise_id == JobPromise.id)
        .where(where(JobPromise.operation_id))
        .group_by(JobPromise.operation_id)
    )


def _trainee_rows(where):
    """Per operation, over its trainees each joined (outer) to their +6 months follow-up
    and its retained answer (at most one each: trainee × kind and the retained answer of a
    milestone are unique)."""
    m6 = aliased(Milestone)
    retained = aliased(RetainedAnswer)
    answer = aliased(Answer)
    return (
        select(
            Trainee.operation_id,
            func.count(case((holds_place_sql(), 1))),
            func.count(case((Trainee.status == TraineeStatus.IN_TRAINING, 1))),
            func.count(case((Trainee.exit_date.is_not(None), 1))),
            func.count(case((Trainee.exit_reason == ExitReason.END_OF_TRAINING, 1))),
            *certified_columns(),
            func.count(case((employment_sql(answer.situation), 1))),
            func.count(case((lasting_sql(answer.situation, answer.duration_months), 1))),
        )
        .outerjoin(m6, and_(m6.trainee_id == Trainee.id, m6.kind == MilestoneKind.M6))
        .outerjoin(retained, retained.milestone_id == m6.id)
        .outerjoin(answer, answer.id == retained.answer_id)
        .where(where(Trainee.operation_id))
        .group_by(Trainee.operation_id)
    )


def _counts(connection, where) -> tuple[dict, list]:
    """(operation id -> its ``operation_figures`` values, its ``operation_year_figures``
    rows) of the operations ``where(column)`` selects, counted from their rows."""
    rows: dict[int, dict] = {}
    for names, query in ((PROMISE_COLUMNS, _promise_rows), (TRAINEE_COLUMNS, _trainee_rows)):
        for operation_id, *counts in connection.execute(query(where)):
            row = rows.setdefault(operation_id, dict.fromkeys(COUNTED, 0))
            row.update(zip(names, counts, strict=True))
    year = func.extract("year", Trainee.exit_date)
    employment = employment_query(
        Milestone.operation_id, year, Milestone.kind, where=where(Milestone.operation_id)
    )
    years = [
        {
            "operation_id": operation_id,
            "exit_year": None if exit_year is None else int(exit_year),
            "kind": kind,
            **dict(zip(EMPLOYMENT_COLUMNS, counts, strict=True)),
        }
        for operation_id, exit_year, kind, *counts in connection.execute(employment)
    ]
    return rows, years


def refresh(connection, operation_ids) -> None:
    """Recount the rows of ``operation_ids`` on ``connection``, in its transaction.

    Each operation's ``operation_figures`` row is locked first (``FOR UPDATE``; SQLite
    serialises writers anyway): two transactions changing the same operation recount one
    after the other, the second from the first's commit (READ COMMITTED reads it once the
    lock is granted), so neither undoes the other. The row is the lock: every operation
    has one (zeros), created with the operation. No other verb locks these rows and this
    runs last, at the commit, in id order: it cannot deadlock with the verbs' own locks.
    """
    ids = sorted(set(operation_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        column = OperationFigures.operation_id
        held = set(
            connection.scalars(
                select(column).where(column.in_(chunk)).order_by(column).with_for_update()
            )
        )
        existing = set(connection.scalars(select(Operation.id).where(Operation.id.in_(chunk))))
        missing = existing - held  # operations created in this transaction
        if missing:
            connection.execute(
                insert(OperationFigures),
                [{"operation_id": i, **dict.fromkeys(COUNTED, 0)} for i in sorted(missing)],
            )
        rows, years = _counts(connection, lambda c, chunk=chunk: c.in_(chunk))
        for operation_id in sorted(existing):
            values = rows.get(operation_id, dict.fromkeys(COUNTED, 0))
            connection.execute(
                update(OperationFigures)
                .where(OperationFigures.operation_id == operation_id)
                .values(**values)
            )
        connection.execute(
            delete(OperationYearFigures).where(OperationYearFigures.operation_id.in_(chunk))
        )
        if years:
            connection.execute(insert(OperationYearFigures), years)


def refresh_all(connection) -> None:
    """Recount every operation's rows, one per operation (the migration's backfill, bulk
    seeding): no lock, for a database no one else writes to at that moment."""
    connection.execute(delete(OperationFigures))
    connection.execute(delete(OperationYearFigures))
    rows, years = _counts(connection, lambda column: column.is_not(None))
    ids = connection.scalars(select(Operation.id)).all()
    for start in range(0, len(ids), 5000):
        connection.execute(
            insert(OperationFigures),
            [
                {"operation_id": i, **rows.get(i, dict.fromkeys(COUNTED, 0))}
                for i in ids[start : start + 5000]
            ],
        )
    for start in range(0, len(years), 5000):
        connection.execute(insert(OperationYearFigures), years[start : start + 5000])


# --- Which operations a flush concerns -------------------------------------------------

# Models carrying their operation, and those reached through a parent: (column, parent).
DIRECT = (Trainee, JobPromise, Milestone, Evaluation)
THROUGH = {
    PromiseOutcome: ("promise_id", JobPromise),
    Answer: ("milestone_id", Milestone),
    RetainedAnswer: ("milestone_id", Milestone),
    EvaluationResult: ("trainee_id", Trainee),
}


def _values(obj, name: str) -> set:
    """The attribute's current value and, when the flush changed it, its previous one."""
    history = inspect(obj).attrs[name].history
    return {v for v in (getattr(obj, name), *history.deleted) if v is not None}


def touched_operations(session: Session, objects) -> set[int]:
    """The operations whose figures ``objects`` (added, changed or deleted) may change."""
    found: set[int] = set()
    parents: dict = {}
    for obj in objects:
        if isinstance(obj, DIRECT):
            found |= _values(obj, "operation_id")
        elif type(obj) in THROUGH:
            name, parent = THROUGH[type(obj)]
            parents.setdefault(parent, set()).update(_values(obj, name))
    connection = session.connection()
    for parent, ids in parents.items():
        found |= set(
            connection.scalars(select(parent.operation_id).where(parent.id.in_(sorted(ids))))
        )
    return found


_WATCHED = DIRECT + tuple(THROUGH)
_TOUCHED = "reporting.touched_operations"


@event.listens_for(Session, "after_flush")
def _note_touched(session: Session, _flush_context) -> None:
    """Remember the operations whose counts this flush may change (and new operations)."""
    changed = [
        obj
        for obj in (*session.new, *session.deleted, *session.dirty)
        if isinstance(obj, _WATCHED)
        and (obj in session.new or obj in session.deleted or session.is_modified(obj))
    ]
    touched = touched_operations(session, changed) if changed else set()
    touched |= {obj.id for obj in session.new if isinstance(obj, Operation)}
    if touched:
        session.info.setdefault(_TOUCHED, set()).update(touched)


@event.listens_for(Session, "before_commit")
def _keep_figures(session: Session) -> None:
    """Recount the operations the transaction touched, last thing before it commits.

    Not when a savepoint is released (``begin_nested``, which also fires this event): the
    recount, and its row locks, belong to the end of the whole transaction."""
    if session.in_nested_transaction():
        return
    session.flush()
    touched = session.info.pop(_TOUCHED, None)
    if touched:
        refresh(session.connection(), touched)


@event.listens_for(Session, "after_transaction_end")
def _forget_touched(session: Session, transaction) -> None:
    """A transaction that ends without recounting (rolled back) forgets what it touched; a
    savepoint rolled back inside it does not (the outer transaction's own changes must still
    be recounted at its commit, and a recount of an unchanged operation is harmless)."""
    if transaction.parent is None and not transaction.nested:
        session.info.pop(_TOUCHED, None)
