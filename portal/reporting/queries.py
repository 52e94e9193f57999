"""The dashboard's figures, each one SQL aggregate (GROUP BY) over the operations in scope.

``scope`` is always ``select(Operation.id)`` (``reporting.scope.scope_ids``): every query
below counts rows of operations, promises, trainees or follow-ups whose operation is in
it, so the number of queries is the same at 100 and at 10,000 operations and no operation
is ever loaded into Python (tests/reporting/test_query_counts.py holds it to that).
The definitions are the operation page's (``followup.indicators``): « recruited » is
``holds_place_sql``, employment counts the retained answers, « emploi durable » is
``lasting_sql`` (``contract_lasting_sql`` for a promise: its contract and its months).
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, and_, case, distinct, func, select, union
from sqlalchemy.orm import aliased

from portal.accounts.models import Organisation, OrgKind, Territory
from portal.conventions.models import Convention, ConventionVersion, Signature
from portal.core.employment import contract_lasting_sql, employment_sql, lasting_sql
from portal.extensions import db
from portal.followup.indicators import (
    Employment,
    certified_columns,
    employment_by_kind,
    employment_query,
)
from portal.followup.models import (
    Answer,
    Milestone,
    MilestoneKind,
    PromiseOutcome,
    RetainedAnswer,
)
from portal.followup.rules import Progress, progress_sql
from portal.lots.models import Category, MarketLot
from portal.operations.models import Operation, Status
from portal.recruitment.models import ExitReason, JobPromise, Trainee, TraineeStatus
from portal.recruitment.rules import holds_place_sql


@dataclass(frozen=True)
class Totals:
    """The figures of the operations in scope, from the target to employment at +6."""

    operations: int
    by_status: dict[Status, int]
    target_headcount: int
    promises: int
    promises_lasting: int
    promises_kept: int
    promises_not_kept: int
    recruited: int
    in_training: int
    exited: int
    completed: int
    certified_full: int
    certified_partial: int
    employment: dict[MilestoneKind, Employment]
    signatory_employers: int
    overdue_followups: int

    @property
    def promises_not_lasting(self) -> int:
        return self.promises - self.promises_lasting


@dataclass(frozen=True)
class Group:
    """One bar group: a bassin or a category, its operations, recruits and employment."""

    key: str
    label: str
    operations: int
    recruited: int
    employed_m6: int
    lasting_m6: int


@dataclass(frozen=True)
class YearRates:
    """Employment of the trainees who left in ``year``, at each follow-up."""

    year: int
    employment: dict[MilestoneKind, Employment]


@dataclass(frozen=True)
class Figures:
    """Everything the dashboard counts over one scope: the totals, the two bar charts and
    the employment rates per exit year."""

    totals: Totals
    by_territory: list[Group]
    by_category: list[Group]
    by_exit_year: list[YearRates]


def _operation_rows(scope: Select) -> list:
    """(status, bassin, category, operations, target headcount) of the scope: the status
    cards and the operations of both bar charts in one pass over ``operations``."""
    return db.session.execute(
        select(
            Operation.status,
            Operation.territory_id,
            Operation.category,
            func.count(Operation.id),
            func.coalesce(func.sum(Operation.target_headcount), 0),
        )
        .where(Operation.id.in_(scope))
        .group_by(Operation.status, Operation.territory_id, Operation.category)
    ).all()


def _promise_lasting():
    """A promise is « emploi durable » by the shared rule, from its contract and months."""
    return contract_lasting_sql(JobPromise.contract_type, JobPromise.duration_months)


def _promises(scope: Select) -> tuple[int, int, int, int]:
    return db.session.execute(
        select(
            func.count(JobPromise.id),
            func.count(case((_promise_lasting(), 1))),
            func.count(case((PromiseOutcome.kept.is_(True), 1))),
            func.count(case((PromiseOutcome.kept.is_(False), 1))),
        )
        .outerjoin(PromiseOutcome, PromiseOutcome.promise_id == JobPromise.id)
        .where(JobPromise.operation_id.in_(scope))
    ).one()


def _trainee_rows(scope: Select) -> list:
    """Per (bassin, category): recruited, in training, exited, completed, fully and
    partially certified, and in employment / in a lasting job at +6 months — one pass over
    the trainees, each joined (outer) to their +6 months follow-up and its retained answer
    (at most one each: the pair trainee × kind and the retained answer are unique)."""
    m6 = aliased(Milestone)
    retained = aliased(RetainedAnswer)
    answer = aliased(Answer)
    return db.session.execute(
        select(
            Operation.territory_id,
            Operation.category,
            func.count(case((holds_place_sql(), 1))),
            func.count(case((Trainee.status == TraineeStatus.IN_TRAINING, 1))),
            func.count(case((Trainee.exit_date.is_not(None), 1))),
            func.count(case((Trainee.exit_reason == ExitReason.END_OF_TRAINING, 1))),
            *certified_columns(),
            func.count(case((employment_sql(answer.situation), 1))),
            func.count(case((lasting_sql(answer.situation, answer.duration_months), 1))),
        )
        .select_from(Trainee)
        .join(Operation, Operation.id == Trainee.operation_id)
        .outerjoin(m6, and_(m6.trainee_id == Trainee.id, m6.kind == MilestoneKind.M6))
        .outerjoin(retained, retained.milestone_id == m6.id)
        .outerjoin(answer, answer.id == retained.answer_id)
        .where(Trainee.operation_id.in_(scope))
        .group_by(Operation.territory_id, Operation.category)
    ).all()


def _employment_rows(scope: Select) -> list:
    """(exit year, milestone, *``employment_columns``) of the follow-ups of the scope: the
    employment cards add the years up, the rate chart keeps them apart."""
    year = func.extract("year", Trainee.exit_date)
    query = employment_query(year, Milestone.kind, where=Milestone.operation_id.in_(scope))
    return db.session.execute(query).all()


def _signatory_employers(scope: Select) -> int:
    """Distinct employers holding a standing signature on a convention of the scope."""
    return db.session.scalar(
        select(func.count(distinct(Signature.organisation_id)))
        .join(ConventionVersion, ConventionVersion.id == Signature.version_id)
        .join(Convention, Convention.id == ConventionVersion.convention_id)
        .join(Organisation, Organisation.id == Signature.organisation_id)
        .where(
            Convention.operation_id.in_(scope),
            Signature.voided_at.is_(None),
            Organisation.kind == OrgKind.EMPLOYER,
        )
    )


def _overdue(scope: Select, *, today: date, window: int) -> int:
    return db.session.scalar(
        select(func.count(Milestone.id)).where(
            Milestone.operation_id.in_(scope),
            progress_sql(Progress.OVERDUE, today=today, window=window),
        )
    )


def _sums(rows, key, columns) -> dict:
    """``rows`` summed over the ``columns`` (indexes) per value of ``key(row)``."""
    found: dict = {}
    for row in rows:
        counts = [row[i] for i in columns]
        previous = found.get(key(row))
        if previous is not None:
            counts = [a + b for a, b in zip(previous, counts, strict=True)]
        found[key(row)] = counts
    return {value: tuple(counts) for value, counts in found.items()}


def _groups(operations: dict, people: dict, label_of) -> list[Group]:
    """One bar group per value holding operations, sorted by label: ``operations`` maps
    each value to (operations,), ``people`` to (recruited, employed and lasting at +6)."""
    groups = [
        Group(
            str(getattr(value, "value", value)),
            label_of(value),
            count,
            *people.get(value, (0, 0, 0)),
        )
        for value, (count,) in operations.items()
    ]
    return sorted(groups, key=lambda g: g.label)


# Columns of ``_trainee_rows``: the key, the totals, and the people of each bar group.
TRAINEE_TOTALS = range(2, 8)
GROUP_PEOPLE = (2, 8, 9)
EMPLOYMENT = range(2, 7)  # the ``employment_columns`` of ``_employment_rows``


def figures(scope: Select, territories: dict[int, str], *, today: date, window: int) -> Figures:
    """Every figure of the dashboard over ``scope`` (``territories``: id → name, the
    filter's options): six queries whatever the scope, each one pass over its table; the
    totals, the bar groups and the years are added up here from their rows."""
    operation_rows = _operation_rows(scope)
    trainee_rows = _trainee_rows(scope)
    employment_rows = _employment_rows(scope)
    promises, lasting, kept, not_kept = _promises(scope)
    statuses = _sums(operation_rows, lambda r: r[0], (3, 4))
    trainees = _sums(trainee_rows, lambda r: None, TRAINEE_TOTALS).get(None, (0,) * 6)
    recruited, in_training, exited, completed, full, partial = trainees
    per_kind = _sums(employment_rows, lambda r: r[1], EMPLOYMENT)
    per_year = _sums(employment_rows, lambda r: (r[0], r[1]), EMPLOYMENT)
    totals = Totals(
        operations=sum(count for count, _target in statuses.values()),
        by_status={s: statuses.get(s, (0, 0))[0] for s in Status},
        target_headcount=sum(target for _count, target in statuses.values()),
        promises=promises,
        promises_lasting=lasting,
        promises_kept=kept,
        promises_not_kept=not_kept,
        recruited=recruited,
        in_training=in_training,
        exited=exited,
        completed=completed,
        certified_full=full,
        certified_partial=partial,
        employment=employment_by_kind([(kind, *c) for kind, c in per_kind.items()]),
        signatory_employers=_signatory_employers(scope),
        overdue_followups=_overdue(scope, today=today, window=window),
    )
    years = sorted({year for year, _kind in per_year if year is not None})
    return Figures(
        totals=totals,
        by_territory=_groups(
            _sums(operation_rows, lambda r: r[1], (3,)),
            _sums(trainee_rows, lambda r: r[0], GROUP_PEOPLE),
            lambda value: territories.get(value, "—"),
        ),
        by_category=_groups(
            _sums(operation_rows, lambda r: r[2], (3,)),
            _sums(trainee_rows, lambda r: r[1], GROUP_PEOPLE),
            lambda value: Category(value).title,
        ),
        by_exit_year=[
            YearRates(
                int(year),
                employment_by_kind([(kind, *c) for (y, kind), c in per_year.items() if y == year]),
            )
            for year in years
        ],
    )


# --- The filters' options ----------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    """What each filter offers: the values found among the operations the user may count."""

    years: list[int]
    territories: list[tuple[int, str]]
    lots: list[tuple[int, str]]
    providers: list[tuple[int, str]]


def options(scope: Select) -> Options:
    """The filters' choices (four queries); ``scope`` is the unfiltered one."""
    started = select(func.extract("year", Operation.session_start).label("y")).where(
        Operation.id.in_(scope), Operation.session_start.is_not(None)
    )
    reported = select(func.extract("year", Operation.reported_at).label("y")).where(
        Operation.id.in_(scope), Operation.session_start.is_(None)
    )
    years = sorted({int(y) for y in db.session.scalars(union(started, reported))}, reverse=True)
    territories = db.session.execute(
        select(Territory.id, Territory.name).order_by(Territory.name)
    ).all()
    lots = db.session.execute(
        select(MarketLot.id, MarketLot.number)
        .where(MarketLot.id.in_(select(Operation.lot_id).where(Operation.id.in_(scope))))
        .order_by(MarketLot.number)
    ).all()
    providers = db.session.execute(
        select(Organisation.id, Organisation.name)
        .where(Organisation.id.in_(select(Operation.provider_id).where(Operation.id.in_(scope))))
        .order_by(Organisation.name)
    ).all()
    return Options(
        years,
        [tuple(t) for t in territories],
        [tuple(x) for x in lots],
        [tuple(p) for p in providers],
    )
