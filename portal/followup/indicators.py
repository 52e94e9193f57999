"""The operation's indicators, from the target to lasting employment six months after:
what the Région reports and what evaluating the operation starts from.

Each figure is a SQL aggregate (five queries whatever the number of trainees; the promises
come from the ledger of ``outcomes.py``); employment
at each milestone counts the retained answers (``followup_retained_answers``).
"""

from dataclasses import dataclass

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import aliased

from portal.core.employment import SALARIED, employment_sql, lasting_sql
from portal.extensions import db
from portal.followup.models import Answer, Milestone, MilestoneKind, RetainedAnswer
from portal.followup.outcomes import ledger
from portal.immersions.models import Evaluation, EvaluationKind, EvaluationResult, Outcome
from portal.operations.models import Operation
from portal.recruitment.models import ExitReason, JobPromise, Trainee
from portal.recruitment.rules import holds_place_sql


@dataclass(frozen=True)
class Employment:
    """Employment at one milestone: of the trainees followed, how many answers are retained,
    how many are in employment, in a lasting job, with the employer that promised the job."""

    followed: int
    retained: int
    employed: int
    lasting: int
    with_promiser: int


@dataclass(frozen=True)
class Indicators:
    """From the target headcount to lasting employment at +6 months."""

    target_headcount: int | None
    promises: int
    promises_lasting: int
    promises_kept: int
    promises_not_kept: int
    recruited: int
    exited: int
    completed: int  # left at the end of the training
    certified_full: int
    certified_partial: int
    employment: dict[MilestoneKind, Employment]

    @property
    def promises_not_lasting(self) -> int:
        return self.promises - self.promises_lasting


def _trainees(operation: Operation) -> tuple[int, int, int, int, int]:
    """Recruited, exited, completed, fully certified and partly certified trainees of the
    operation (one query)."""
    return db.session.execute(
        select(
            func.count(case((holds_place_sql(), 1))),
            func.count(case((Trainee.exit_date.is_not(None), 1))),
            func.count(case((Trainee.exit_reason == ExitReason.END_OF_TRAINING, 1))),
            *certified_columns(),
        ).where(Trainee.operation_id == operation.id)
    ).one()


def jury_sql(outcome: Outcome, trainee_id=Trainee.id):
    """SQL condition: the trainee got ``outcome`` at a certification jury."""
    result = aliased(EvaluationResult)
    jury = aliased(Evaluation)
    return exists().where(
        result.trainee_id == trainee_id,
        result.outcome == outcome,
        jury.id == result.evaluation_id,
        jury.kind == EvaluationKind.JURY,
    )


def certified_columns() -> tuple:
    """Aggregates over ``Trainee`` rows: trainees with a full certification at a jury, and
    those with only a partial one."""
    full = jury_sql(Outcome.FULL)
    partial = jury_sql(Outcome.PARTIAL)
    return func.count(case((full, 1))), func.count(case((and_(partial, ~full), 1)))


def employment_columns(
    milestone=Milestone, retained=RetainedAnswer, answer=Answer, promise=JobPromise
):
    """Aggregates over milestone rows joined (outer) to their retained answer and to the
    trainee's promise: followed, retained, in employment, in a lasting job, with the
    employer that promised the job — the fields of ``Employment``, in order."""
    promiser = and_(
        answer.situation.in_(sorted(SALARIED)),
        answer.employer_id == promise.organisation_id,
    )
    return (
        func.count(milestone.id),
        func.count(retained.id),
        func.count(case((employment_sql(answer.situation), 1))),
        func.count(case((lasting_sql(answer.situation, answer.duration_months), 1))),
        func.count(case((promiser, 1))),
    )


def employment_query(*keys, where):
    """``select(*keys, *employment_columns())`` of the milestones matching ``where``, with
    their trainee's promise and retained answer joined (the caller groups by ``keys``)."""
    return (
        select(*keys, *employment_columns())
        .select_from(Milestone)
        .join(Trainee, Trainee.id == Milestone.trainee_id)
        .outerjoin(JobPromise, JobPromise.id == Trainee.promise_id)
        .outerjoin(RetainedAnswer, RetainedAnswer.milestone_id == Milestone.id)
        .outerjoin(Answer, Answer.id == RetainedAnswer.answer_id)
        .where(where)
        .group_by(*keys)
    )


def _employment(operation: Operation) -> dict[MilestoneKind, Employment]:
    query = employment_query(Milestone.kind, where=Milestone.operation_id == operation.id)
    return employment_by_kind(db.session.execute(query).all())


def employment_by_kind(rows) -> dict[MilestoneKind, Employment]:
    """``Employment`` per milestone from (kind, *``employment_columns``) rows; zeros for a
    milestone without rows."""
    found = {row[0]: Employment(*row[1:]) for row in rows}
    return {kind: found.get(kind, Employment(0, 0, 0, 0, 0)) for kind in MilestoneKind}


def indicators(operation: Operation) -> Indicators:
    """The operation's figures: target, promises (lasting or not, kept or not), recruited,
    exits and completions, certifications, employment at exit, +3 and +6 months."""
    rows = ledger(operation)
    recruited, exited, completed, full, partial = _trainees(operation)
    return Indicators(
        target_headcount=operation.target_headcount,
        promises=sum(row.promised for row in rows),
        promises_lasting=sum(row.lasting for row in rows),
        promises_kept=sum(row.kept for row in rows),
        promises_not_kept=sum(row.not_kept for row in rows),
        recruited=recruited,
        exited=exited,
        completed=completed,
        certified_full=full,
        certified_partial=partial,
        employment=_employment(operation),
    )
