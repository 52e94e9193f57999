"""The dashboard's figures per operation, kept up to date in the same transaction as the
rows they count (issue #16).

Counting the Région's figures from the trainees, promises and follow-ups costs one pass
over each table: 1.5–2 s at 10,000 operations (71,000 trainees, 153,000 follow-ups, SQLite).
Kept instead: ``operation_figures`` (one row per operation: promises, trainees,
certifications, employment at +6) and ``operation_year_figures`` (one row per operation,
exit year and milestone: the ``Employment`` counts); and, moved by the same recount, their
sums per group of operations (``reporting.groups``), which the Région's dashboard adds up
per status, bassin and category (the per-operation rows serve the partners' dashboards,
whose scope no group can say).

Who keeps them: every flush that adds, changes or deletes a row the figures count (a
trainee, a promise or its outcome, a follow-up, an answer or the retained one, a jury or
its results), or an operation's group or target headcount, notes the operations
concerned (``after_flush``; a deleted operation's rows are kept aside in ``before_flush``,
the database deleting them with it); just before the
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

from portal.conventions.models import Convention, ConventionVersion, Signature
from portal.core.employment import contract_lasting_sql, employment_sql, lasting_sql
from portal.followup.indicators import certified_columns, employment_query
from portal.followup.models import (
    Answer,
    Milestone,
    MilestoneKind,
    MilestoneStatus,
    PromiseOutcome,
    RetainedAnswer,
)
from portal.immersions.models import Evaluation, EvaluationResult
from portal.operations.models import Operation
from portal.recruitment.models import ExitReason, JobPromise, Trainee, TraineeStatus
from portal.recruitment.rules import holds_place_sql
from portal.reporting import groups
from portal.reporting.models import (
    COUNTED,
    EMPLOYMENT_COLUMNS,
    PROMISE_COLUMNS,
    TRAINEE_COLUMNS,
    OperationFigures,
    OperationSignatory,
    OperationYearFigures,
)


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


def _tally_rows(tally: groups.Tally, where):
    """Per operation and value, the count of ``tally``: the standing signatures of each
    organisation on its convention, or its awaited follow-ups per due date."""
    if tally.kept is OperationSignatory:
        return (
            select(Convention.operation_id, Signature.organisation_id, func.count(Signature.id))
            .join(ConventionVersion, ConventionVersion.id == Signature.version_id)
            .join(Convention, Convention.id == ConventionVersion.convention_id)
            .where(Signature.voided_at.is_(None), where(Convention.operation_id))
            .group_by(Convention.operation_id, Signature.organisation_id)
        )
    return (
        select(Milestone.operation_id, Milestone.due_on, func.count(Milestone.id))
        .where(Milestone.status == MilestoneStatus.AWAITING, where(Milestone.operation_id))
        .group_by(Milestone.operation_id, Milestone.due_on)
    )


def _tallies(connection, where) -> dict:
    """operation id -> {``Tally`` -> its rows} of the operations ``where(column)`` selects."""
    found: dict = {}
    for tally in groups.TALLIES:
        for operation_id, value, count in connection.execute(_tally_rows(tally, where)):
            row = {"operation_id": operation_id, tally.value: value, tally.count: count}
            found.setdefault(operation_id, {}).setdefault(tally, []).append(row)
    return found


def _insert_tallies(connection, tallies: dict) -> None:
    """Write the ``_tallies`` rows."""
    for tally in groups.TALLIES:
        rows = [row for own in tallies.values() for row in own.get(tally, ())]
        for start in range(0, len(rows), 5000):
            connection.execute(insert(tally.kept), rows[start : start + 5000])


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


KEY_COLUMNS = (
    Operation.session_start,
    Operation.reported_at,
    Operation.territory_id,
    Operation.category,
    Operation.lot_id,
    Operation.provider_id,
    Operation.status,
)


def _kept_tallies(connection, ids: list[int], into: dict) -> None:
    """Add the kept ``TALLIES`` rows of ``ids`` to ``into`` (id -> {tally -> rows})."""
    for tally in groups.TALLIES:
        kept = select(tally.kept).where(tally.kept.operation_id.in_(ids))
        for row in connection.execute(kept).mappings():
            into.setdefault(row["operation_id"], {}).setdefault(tally, []).append(row)


def _locked(connection, ids: list[int]) -> tuple[dict, dict, dict, dict]:
    """Lock the ``operation_figures`` rows of ``ids`` (in id order) and read what they and
    the operations hold: (id -> kept row, id -> its kept year rows, id -> its kept tallies,
    id -> (group key, target headcount) of the operation as it is now)."""
    held, years, tallies, now = {}, {}, {}, {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        column = OperationFigures.operation_id
        locked = select(OperationFigures).where(column.in_(chunk)).order_by(column)
        for row in connection.execute(locked.with_for_update()).mappings():
            held[row["operation_id"]] = row
        kept = select(OperationYearFigures).where(OperationYearFigures.operation_id.in_(chunk))
        for row in connection.execute(kept).mappings():
            years.setdefault(row["operation_id"], []).append(row)
        _kept_tallies(connection, chunk, tallies)
        found = select(Operation.id, Operation.target_headcount, *KEY_COLUMNS)
        for operation_id, target, *key in connection.execute(found.where(Operation.id.in_(chunk))):
            now[operation_id] = (groups.group_key(*key), target)
    return held, years, tallies, now


def refresh(connection, operation_ids, departed=()) -> None:
    """Recount the rows of ``operation_ids`` on ``connection``, in its transaction, and move
    the difference into their groups (``reporting.groups``); ``departed``: the kept rows
    of operations deleted in the transaction, (row, year rows, tallies), taken out of their
    group.

    Each operation's ``operation_figures`` row is locked first (``FOR UPDATE``; SQLite
    serialises writers anyway): two transactions changing the same operation recount one
    after the other, the second from the first's commit (READ COMMITTED reads it once the
    lock is granted), so neither undoes the other. The row is the lock: every operation
    has one (zeros), created with the operation. No other verb locks these rows and this
    runs last, at the commit, in id order, every operation's row before any group's: it
    cannot deadlock with the verbs' own locks nor with another commit.
    """
    ids = sorted(set(operation_ids))
    held, kept_years, kept_tallies, now = _locked(connection, ids)
    missing = set(now) - set(held)  # operations created in this transaction
    if missing:
        connection.execute(
            insert(OperationFigures),
            [{"operation_id": i, **dict.fromkeys(COUNTED, 0)} for i in sorted(missing)],
        )
    rows, years, tallies = {}, [], {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found, found_years = _counts(connection, lambda c, chunk=chunk: c.in_(chunk))
        rows.update(found)
        years += found_years
        tallies.update(_tallies(connection, lambda c, chunk=chunk: c.in_(chunk)))
    new_years: dict = {}
    for row in years:
        new_years.setdefault(row["operation_id"], []).append(row)
    was = [row for row in held.values() if row["group_id"] is not None]
    was += [row for row, *_kept in departed if row["group_id"] is not None]
    old_keys = groups.keys_of(connection, {row["group_id"] for row in was}) if was else {}
    deltas = groups.Deltas()
    for row, row_years, row_tallies in departed:
        if row["group_id"] is not None:
            old_key = old_keys[row["group_id"]]
            deltas.add(old_key, row["target_headcount"], row, row_years, -1, row_tallies)
    for operation_id in sorted(now):
        old = held.get(operation_id)
        if old is not None and old["group_id"] is not None:
            old_years = kept_years.get(operation_id, ())
            old_key, old_tallies = old_keys[old["group_id"]], kept_tallies.get(operation_id)
            deltas.add(old_key, old["target_headcount"], old, old_years, -1, old_tallies)
        key, target = now[operation_id]
        values = rows.get(operation_id, dict.fromkeys(COUNTED, 0))
        own = tallies.get(operation_id)
        deltas.add(key, target, values, new_years.get(operation_id, ()), tallies=own)
    ids_of = groups.apply(connection, deltas, {key: i for i, key in old_keys.items()})
    for operation_id in sorted(now):
        key, target = now[operation_id]
        values = rows.get(operation_id, dict.fromkeys(COUNTED, 0))
        connection.execute(
            update(OperationFigures)
            .where(OperationFigures.operation_id == operation_id)
            .values(**values, group_id=ids_of[key], target_headcount=target)
        )
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        connection.execute(
            delete(OperationYearFigures).where(OperationYearFigures.operation_id.in_(chunk))
        )
        for tally in groups.TALLIES:
            connection.execute(delete(tally.kept).where(tally.kept.operation_id.in_(chunk)))
    if years:
        connection.execute(insert(OperationYearFigures), years)
    _insert_tallies(connection, tallies)


def refresh_operations(connection) -> None:
    """Recount every operation's ``operation_figures`` and ``operation_year_figures`` (and
    nothing else: migration 6b95348b1598's backfill, before the groups and the tallies
    exist): no lock, for a database no one else writes to at that moment."""
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


def refresh_all(connection) -> None:
    """Recount every operation's rows, then every group (bulk seeding, the tests' copies):
    no lock, for a database no one else writes to at that moment."""
    refresh_operations(connection)
    for tally in groups.TALLIES:
        connection.execute(delete(tally.kept))
    _insert_tallies(connection, _tallies(connection, lambda column: column.is_not(None)))
    found = select(Operation.id, Operation.target_headcount, *KEY_COLUMNS)
    keys = {
        operation_id: (groups.group_key(*key), target)
        for operation_id, target, *key in connection.execute(found)
    }
    groups.rebuild(connection, keys)


# --- Which operations a flush concerns -------------------------------------------------

# Models carrying their operation, and those reached through a parent: (column, parent).
DIRECT = (Trainee, JobPromise, Milestone, Evaluation)
THROUGH = {
    PromiseOutcome: ("promise_id", JobPromise),
    Answer: ("milestone_id", Milestone),
    RetainedAnswer: ("milestone_id", Milestone),
    EvaluationResult: ("trainee_id", Trainee),
    Signature: ("version_id", ConventionVersion),
}


def _operations_of(parent, ids: list):
    """The operations of the ``parent`` rows ``ids`` (a convention version's: its
    convention's)."""
    if parent is ConventionVersion:
        return (
            select(Convention.operation_id)
            .join(ConventionVersion, ConventionVersion.convention_id == Convention.id)
            .where(ConventionVersion.id.in_(ids))
        )
    return select(parent.operation_id).where(parent.id.in_(ids))


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
        found |= set(connection.scalars(_operations_of(parent, sorted(ids))))
    return found


_WATCHED = DIRECT + tuple(THROUGH)
_TOUCHED = "reporting.touched_operations"
_DEPARTED = "reporting.departed_operations"
# The operation's values that place it in a dashboard group, or that the group adds up.
GROUPED_BY = (*(column.key for column in KEY_COLUMNS), "target_headcount")


def _regrouped(obj) -> bool:
    """An operation whose group (or target headcount) this flush changes."""
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in GROUPED_BY)


@event.listens_for(Session, "before_flush")
def _note_departed(session: Session, _flush_context, _instances) -> None:
    """Keep the counted rows of the operations about to be deleted (the database deletes
    them with the operation): their group gives them back at the commit."""
    deleted = sorted(obj.id for obj in session.deleted if isinstance(obj, Operation))
    if not deleted:
        return
    connection = session.connection()
    column = OperationFigures.operation_id
    locked = select(OperationFigures).where(column.in_(deleted)).order_by(column)
    rows = connection.execute(locked.with_for_update()).mappings().all()
    years = (
        connection.execute(
            select(OperationYearFigures).where(OperationYearFigures.operation_id.in_(deleted))
        )
        .mappings()
        .all()
    )
    tallies: dict = {}
    _kept_tallies(connection, deleted, tallies)
    departed = session.info.setdefault(_DEPARTED, [])
    for row in rows:
        own = [y for y in years if y["operation_id"] == row["operation_id"]]
        departed.append((row, own, tallies.get(row["operation_id"])))


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
    touched |= {
        obj.id for obj in session.dirty if isinstance(obj, Operation) and _regrouped(obj)
    }  # fmt: skip
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
    touched = session.info.pop(_TOUCHED, None) or set()
    departed = session.info.pop(_DEPARTED, [])
    gone = {row["operation_id"] for row, *_kept in departed}
    if touched - gone or departed:
        refresh(session.connection(), touched - gone, departed)


@event.listens_for(Session, "after_transaction_end")
def _forget_touched(session: Session, transaction) -> None:
    """A transaction that ends without recounting (rolled back) forgets what it touched; a
    savepoint rolled back inside it does not (the outer transaction's own changes must still
    be recounted at its commit, and a recount of an unchanged operation is harmless)."""
    if transaction.parent is None and not transaction.nested:
        session.info.pop(_TOUCHED, None)
        session.info.pop(_DEPARTED, None)
