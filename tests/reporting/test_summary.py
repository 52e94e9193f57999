"""The kept counts of the dashboard (``reporting.summary``) stay equal to a recount after
writes made through the session, committed with the write, and the migration's backfill
gives the same rows."""

from datetime import date

from sqlalchemy import delete, select

from portal.conventions.models import Signature
from portal.core.time import utcnow
from portal.extensions import db
from portal.followup.models import Milestone, MilestoneStatus, PromiseOutcome, RetainedAnswer
from portal.immersions.models import Evaluation, EvaluationKind, EvaluationResult, Outcome
from portal.operations.models import Operation
from portal.recruitment.models import JobPromise, Trainee, TraineeStatus
from portal.reporting import groups
from portal.reporting.models import (
    EMPLOYMENT_COLUMNS,
    DashboardGroup,
    DashboardGroupAwaiting,
    DashboardGroupYear,
    OperationFigures,
    OperationYearFigures,
)
from portal.reporting.summary import refresh, refresh_all
from tests.design.concurrency_helpers import while_held
from tests.support import load_demo_copy


def kept() -> dict:
    """The stored rows, comparable whatever their ids (a group by its key)."""
    key_of = {g.id: tuple(getattr(g, name) for name in groups.KEY) for g in _all(DashboardGroup)}
    figures = {
        row.operation_id: {
            c.name: getattr(row, c.name)
            for c in OperationFigures.__table__.c
            if c.name != "group_id"
        }
        | {"group": key_of[row.group_id]}
        for row in db.session.scalars(select(OperationFigures))
    }
    sums = {
        key_of[g.id]: tuple(getattr(g, name) for name in groups.GROUPED)
        for g in _all(DashboardGroup)
        if g.operations
    }
    group_years = {
        (key_of[y.group_id], y.exit_year, y.kind): tuple(
            getattr(y, name) for name in EMPLOYMENT_COLUMNS
        )
        for y in _all(DashboardGroupYear)
        if any(getattr(y, name) for name in EMPLOYMENT_COLUMNS)
    }
    years = sorted(
        (r.operation_id, r.exit_year or 0, r.kind.value, r.followed, r.retained, r.employed,
         r.lasting, r.with_promiser)
        for r in db.session.scalars(select(OperationYearFigures))
    )  # fmt: skip
    tallies = {
        tally.kept.__tablename__: sorted(
            (row.operation_id, getattr(row, tally.value), getattr(row, tally.count))
            for row in _all(tally.kept)
        )
        for tally in groups.TALLIES
    }
    group_tallies = {
        tally.summed.__tablename__: sorted(
            (key_of[row.group_id], getattr(row, tally.value), getattr(row, tally.count))
            for row in _all(tally.summed)
            if getattr(row, tally.count)
        )
        for tally in groups.TALLIES
    }
    return {"figures": figures, "years": years, "groups": sums, "group_years": group_years,
            "tallies": tallies, "group_tallies": group_tallies}  # fmt: skip


def _all(model) -> list:
    return list(db.session.scalars(select(model)))


def recounted() -> dict:
    """The rows a recount from scratch gives (then rolled back to what was kept)."""
    nested = db.session.begin_nested()
    refresh_all(db.session.connection())
    found = kept()
    nested.rollback()
    return found


def test_the_demo_loaded_through_the_services_is_counted(app, ctx):
    load_demo_copy(app)
    found = kept()
    assert len(found["figures"]) >= 5 and found["years"]
    assert found == recounted()


def test_each_write_commits_its_counts(app, ctx):
    load_demo_copy(app)
    before = kept()
    trainee = db.session.scalars(
        select(Trainee).where(Trainee.status == TraineeStatus.IN_TRAINING).order_by(Trainee.id)
    ).first()
    trainee.status = TraineeStatus.CANDIDATE
    db.session.commit()
    after = kept()
    assert after != before
    assert after["figures"][trainee.operation_id]["in_training"] == (
        before["figures"][trainee.operation_id]["in_training"] - 1
    )
    assert after == recounted()

    outcome = db.session.scalars(select(PromiseOutcome).order_by(PromiseOutcome.id)).first()
    operation_id = db.session.get(JobPromise, outcome.promise_id).operation_id
    was = kept()["figures"][operation_id]["promises_kept"]
    db.session.delete(outcome)
    db.session.commit()
    assert kept()["figures"][operation_id]["promises_kept"] == was - (1 if outcome.kept else 0)
    assert kept() == recounted()

    retained = db.session.scalars(select(RetainedAnswer).order_by(RetainedAnswer.id)).first()
    db.session.delete(retained)
    db.session.commit()
    assert kept() == recounted()

    jury = db.session.scalars(
        select(Evaluation)
        .join(EvaluationResult, EvaluationResult.evaluation_id == Evaluation.id)
        .where(Evaluation.kind == EvaluationKind.JURY, EvaluationResult.outcome == Outcome.FULL)
        .order_by(Evaluation.id)
    ).first()
    jury.kind = EvaluationKind.FINAL
    db.session.commit()
    assert (
        kept()["figures"][jury.operation_id]["certified_full"]
        < (before["figures"][jury.operation_id]["certified_full"])
    )
    assert kept() == recounted()


def test_voided_signatures_and_moved_followups_commit_their_tallies(app, ctx):
    """The signatures and the awaited follow-ups the dashboard counts per group
    (``groups.TALLIES``) follow a voided signature and a follow-up due on another day."""
    load_demo_copy(app)
    signature = db.session.scalars(
        select(Signature).where(Signature.voided_at.is_(None)).order_by(Signature.id)
    ).first()
    was = kept()["tallies"]["operation_signatories"]
    signature.voided_at = utcnow()
    db.session.commit()
    assert kept()["tallies"]["operation_signatories"] != was
    assert kept() == recounted()

    milestone = _awaited()[0]
    milestone.due_on = date(2020, 1, 2)
    db.session.commit()
    assert (milestone.operation_id, date(2020, 1, 2), 1) in kept()["tallies"]["operation_awaiting"]
    assert kept() == recounted()


def _awaited() -> list:
    return list(
        db.session.scalars(
            select(Milestone)
            .where(Milestone.status == MilestoneStatus.AWAITING)
            .order_by(Milestone.operation_id, Milestone.id)
        )
    )


def test_a_savepoint_inside_a_write_neither_loses_nor_hastens_its_recount(app, ctx):
    """Savepoints (``first_or_add``, the audit chain's first row) fire the session's commit
    and rollback events too: one rolled back made the transaction forget the operations it
    had touched (stale figures after its commit), one released recounted — and locked the
    figures' row — in the middle of the transaction instead of at its end."""
    load_demo_copy(app)
    trainee = db.session.scalars(
        select(Trainee).where(Trainee.status == TraineeStatus.IN_TRAINING).order_by(Trainee.id)
    ).first()
    before = kept()["figures"][trainee.operation_id]["in_training"]
    trainee.status = TraineeStatus.CANDIDATE
    db.session.flush()
    with db.session.begin_nested():
        pass  # released: no recount yet
    assert kept()["figures"][trainee.operation_id]["in_training"] == before
    db.session.begin_nested().rollback()
    db.session.commit()
    assert kept()["figures"][trainee.operation_id]["in_training"] == before - 1
    assert kept() == recounted()


def test_the_backfill_fills_empty_tables(app, ctx):
    load_demo_copy(app)
    expected = kept()
    db.session.execute(delete(OperationFigures))
    db.session.execute(delete(OperationYearFigures))
    for tally in groups.TALLIES:
        db.session.execute(delete(tally.kept))
    refresh_all(db.session.connection())
    assert kept() == expected


def test_two_transactions_on_one_operation_both_count(app):
    """The second recount waits for the first transaction and counts its change: without
    the row lock it would count from before it and, on PostgreSQL, undo it."""
    load_demo_copy(app)
    with app.app_context():
        operation_id, first_id, second_id = _two_in_training()
        before = kept()["figures"][operation_id]["in_training"]

    def leave(trainee_id: int, recount: bool):
        def work():
            db.session.get(Trainee, trainee_id).status = TraineeStatus.CANDIDATE
            db.session.flush()
            if recount:  # the first holds its recount's lock while the second commits
                refresh(db.session.connection(), [operation_id])

        return work

    outcomes = while_held(app, leave(first_id, True), leave(second_id, False))
    assert outcomes == ["done", "done"]
    with app.app_context():
        assert kept()["figures"][operation_id]["in_training"] == before - 2
        assert kept() == recounted()


PLACE = ("territory_id", "category", "funding", "lot_id", "provider_id", "status",
         "session_start", "session_end", "reported_at")  # fmt: skip


def test_two_transactions_moving_operations_into_one_group_both_count(app):
    """Two operations join a third one's group in two transactions: the second's delta
    waits for the first's (the group's row lock, then READ COMMITTED reads the committed
    sums) and adds to it; neither overwrites the other."""
    load_demo_copy(app)
    with app.app_context():
        ids = db.session.scalars(select(Operation.id).order_by(Operation.id)).all()
        first, second, third = ids[:3]
        place = {name: getattr(db.session.get(Operation, third), name) for name in PLACE}
        group_id = db.session.get(OperationFigures, third).group_id
        before = db.session.get(DashboardGroup, group_id).operations

    def join(operation_id: int, recount: bool):
        def work():
            operation = db.session.get(Operation, operation_id)
            for name, value in place.items():
                setattr(operation, name, value)
            db.session.flush()
            if recount:  # the first holds the group's row while the second commits
                refresh(db.session.connection(), [operation_id])

        return work

    outcomes = while_held(app, join(first, True), join(second, False))
    assert outcomes == ["done", "done"]
    with app.app_context():
        assert db.session.get(DashboardGroup, group_id).operations == before + 2
        assert kept() == recounted()


def _two_in_training() -> tuple[int, int, int]:
    """An operation with two trainees in training, and them."""
    rows = db.session.execute(
        select(Trainee.operation_id, Trainee.id)
        .where(Trainee.status == TraineeStatus.IN_TRAINING)
        .order_by(Trainee.operation_id, Trainee.id)
    ).all()
    for (operation, first), (same, second) in zip(rows, rows[1:], strict=False):
        if operation == same:
            return operation, first, second
    raise AssertionError("the demo has an operation with two trainees in training")


def test_two_transactions_adding_to_one_groups_tally_both_count(app):
    """Two follow-ups are awaited on the same new due day from two transactions, the second
    with its operation moved into the first's group: the second's upsert of the group's
    (due day) row waits for the first's and adds to it (``ON CONFLICT … DO UPDATE SET
    n = n + excluded.n``), it does not overwrite it."""
    load_demo_copy(app)
    with app.app_context():
        first = _awaited()[0]
        second = db.session.scalars(
            select(Milestone)
            .where(Milestone.operation_id != first.operation_id)
            .order_by(Milestone.id)
        ).first()
        place = {
            name: getattr(db.session.get(Operation, first.operation_id), name) for name in PLACE
        }
        group_id = db.session.get(OperationFigures, first.operation_id).group_id
        first, second = first.id, second.id
    day = date(2019, 6, 3)

    def move(milestone_id: int, recount: bool):
        def work():
            milestone = db.session.get(Milestone, milestone_id)
            milestone.status, milestone.due_on = MilestoneStatus.AWAITING, day
            operation = db.session.get(Operation, milestone.operation_id)
            for name, value in place.items():
                setattr(operation, name, value)
            db.session.flush()
            if recount:  # the first holds the group's row while the second commits
                refresh(db.session.connection(), [milestone.operation_id])

        return work

    outcomes = while_held(app, move(first, True), move(second, False))
    assert outcomes == ["done", "done"]
    with app.app_context():
        row = db.session.scalars(
            select(DashboardGroupAwaiting).where(
                DashboardGroupAwaiting.group_id == group_id, DashboardGroupAwaiting.due_on == day
            )
        ).one()
        assert row.milestones == 2
        assert kept() == recounted()
