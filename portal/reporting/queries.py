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


def _status_rows(scope: Select) -> dict[Status, tuple[int, int]]:
    rows = db.session.execute(
        select(
            Operation.status,
            func.count(Operation.id),
            func.coalesce(func.sum(Operation.target_headcount), 0),
        )
        .where(Operation.id.in_(scope))
        .group_by(Operation.status)
    ).all()
    return {status: (count, target) for status, count, target in rows}


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


def _trainees(scope: Select) -> tuple[int, ...]:
    return db.session.execute(
        select(
            func.count(case((holds_place_sql(), 1))),
            func.count(case((Trainee.status == TraineeStatus.IN_TRAINING, 1))),
            func.count(case((Trainee.exit_date.is_not(None), 1))),
            func.count(case((Trainee.exit_reason == ExitReason.END_OF_TRAINING, 1))),
            *certified_columns(),
        ).where(Trainee.operation_id.in_(scope))
    ).one()


def _employment(scope: Select) -> dict[MilestoneKind, Employment]:
    query = employment_query(Milestone.kind, where=Milestone.operation_id.in_(scope))
    return employment_by_kind(db.session.execute(query).all())


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


def totals(scope: Select, *, today: date, window: int) -> Totals:
    """Every figure of the dashboard's first cards: seven queries whatever the scope."""
    status_rows = _status_rows(scope)
    promises, lasting, kept, not_kept = _promises(scope)
    recruited, in_training, exited, completed, full, partial = _trainees(scope)
    return Totals(
        operations=sum(count for count, _target in status_rows.values()),
        by_status={s: status_rows.get(s, (0, 0))[0] for s in Status},
        target_headcount=sum(target for _count, target in status_rows.values()),
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
        employment=_employment(scope),
        signatory_employers=_signatory_employers(scope),
        overdue_followups=_overdue(scope, today=today, window=window),
    )


def _m6_outcomes():
    """The trainee's +6 months follow-up and its retained answer (outer joins)."""
    m6 = aliased(Milestone)
    retained = aliased(RetainedAnswer)
    answer = aliased(Answer)
    return m6, retained, answer


def _groups(scope: Select, key, label_of) -> list[Group]:
    """Operations, recruits and employment at +6 months per value of ``key`` (a column of
    ``Operation``): two queries."""
    operations = dict(
        db.session.execute(
            select(key, func.count(Operation.id)).where(Operation.id.in_(scope)).group_by(key)
        ).all()
    )
    m6, retained, answer = _m6_outcomes()
    rows = db.session.execute(
        select(
            key,
            func.count(case((holds_place_sql(), 1))),
            func.count(case((employment_sql(answer.situation), 1))),
            func.count(case((lasting_sql(answer.situation, answer.duration_months), 1))),
        )
        .select_from(Trainee)
        .join(Operation, Operation.id == Trainee.operation_id)
        .outerjoin(m6, and_(m6.trainee_id == Trainee.id, m6.kind == MilestoneKind.M6))
        .outerjoin(retained, retained.milestone_id == m6.id)
        .outerjoin(answer, answer.id == retained.answer_id)
        .where(Trainee.operation_id.in_(scope))
        .group_by(key)
    ).all()
    people = {row[0]: row[1:] for row in rows}
    groups = []
    for value, count in operations.items():
        recruited, employed, lasting = people.get(value, (0, 0, 0))
        label = label_of(value)
        groups.append(
            Group(str(getattr(value, "value", value)), label, count, recruited, employed, lasting)
        )
    return sorted(groups, key=lambda g: g.label)


def by_territory(scope: Select, territories: dict[int, str]) -> list[Group]:
    """Per bassin (``territories``: id → name, the filter's options)."""
    return _groups(scope, Operation.territory_id, lambda value: territories.get(value, "—"))


def by_category(scope: Select) -> list[Group]:
    """Per category of the Parcours Métiers."""
    return _groups(scope, Operation.category, lambda value: Category(value).title)


def by_exit_year(scope: Select) -> list[YearRates]:
    """Employment at each follow-up of the trainees who left each year (one query)."""
    year = func.extract("year", Trainee.exit_date)
    query = employment_query(year, Milestone.kind, where=Milestone.operation_id.in_(scope))
    rows = db.session.execute(query).all()
    years: dict[int, list] = {}
    for row in rows:
        years.setdefault(int(row[0]), []).append(row[1:])
    return [YearRates(y, employment_by_kind(years[y])) for y in sorted(years)]


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
