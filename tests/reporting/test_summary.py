"""The kept counts of the dashboard (``reporting.summary``) stay equal to a recount after
writes made through the session, in the transaction of the write, and the migration's
backfill gives the same rows."""

from sqlalchemy import delete, select

from portal.extensions import db
from portal.followup.models import PromiseOutcome, RetainedAnswer
from portal.immersions.models import Evaluation, EvaluationKind, EvaluationResult, Outcome
from portal.recruitment.models import JobPromise, Trainee, TraineeStatus
from portal.reporting.models import OperationFigures, OperationYearFigures
from portal.reporting.summary import refresh_all
from tests.support import load_demo_copy


def kept() -> dict:
    """The stored rows, comparable whatever their ids."""
    figures = {
        row.operation_id: {c.name: getattr(row, c.name) for c in OperationFigures.__table__.c}
        for row in db.session.scalars(select(OperationFigures))
    }
    years = sorted(
        (r.operation_id, r.exit_year or 0, r.kind.value, r.followed, r.retained, r.employed,
         r.lasting, r.with_promiser)
        for r in db.session.scalars(select(OperationYearFigures))
    )  # fmt: skip
    return {"figures": figures, "years": years}


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


def test_each_write_updates_the_counts_before_the_commit(app, ctx):
    load_demo_copy(app)
    before = kept()
    trainee = db.session.scalars(
        select(Trainee).where(Trainee.status == TraineeStatus.IN_TRAINING).order_by(Trainee.id)
    ).first()
    trainee.status = TraineeStatus.CANDIDATE
    db.session.flush()
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
    db.session.flush()
    assert kept()["figures"][operation_id]["promises_kept"] == was - (1 if outcome.kept else 0)
    assert kept() == recounted()

    retained = db.session.scalars(select(RetainedAnswer).order_by(RetainedAnswer.id)).first()
    db.session.delete(retained)
    db.session.flush()
    assert kept() == recounted()

    jury = db.session.scalars(
        select(Evaluation)
        .join(EvaluationResult, EvaluationResult.evaluation_id == Evaluation.id)
        .where(Evaluation.kind == EvaluationKind.JURY, EvaluationResult.outcome == Outcome.FULL)
        .order_by(Evaluation.id)
    ).first()
    jury.kind = EvaluationKind.FINAL
    db.session.flush()
    assert (
        kept()["figures"][jury.operation_id]["certified_full"]
        < (before["figures"][jury.operation_id]["certified_full"])
    )
    assert kept() == recounted()


def test_the_backfill_fills_empty_tables(app, ctx):
    load_demo_copy(app)
    expected = kept()
    db.session.execute(delete(OperationFigures))
    db.session.execute(delete(OperationYearFigures))
    refresh_all(db.session.connection())
    assert kept() == expected
