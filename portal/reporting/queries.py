"""The dashboard's figures, each one SQL aggregate (GROUP BY) over the operations in scope.

``scope`` is always ``select(Operation.id)`` (``reporting.scope.scope_ids``): every query
below counts rows of operations, of their kept counts (``reporting.summary``: one row per
operation, and per exit year and milestone), of signatures or of follow-ups whose
operation is in it, so the number of queries is the same at 100 and at 10,000 operations
and no operation is ever loaded into Python (tests/reporting/test_query_counts.py holds it
to that). For the Région (``scope.group_scope``) the counts come from their sums per group
of operations (``reporting.groups``): rows bounded by the groups, not the operations — the
signatory employers and the overdue follow-ups too, from the groups' tallies (standing
signatures per organisation, awaited follow-ups per due date).
The definitions are the operation page's (``followup.indicators``), applied by
``reporting.summary``: « recruited » is ``holds_place_sql``, employment counts the retained
answers, « emploi durable » is ``lasting_sql`` (``contract_lasting_sql`` for a promise).
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, case, distinct, func, select

from portal.accounts.models import Organisation, OrgKind, Territory
from portal.conventions.models import Convention, ConventionVersion, Signature
from portal.extensions import db
from portal.followup.indicators import Employment, employment_by_kind
from portal.followup.models import Milestone, MilestoneKind
from portal.followup.rules import Progress, overdue_before, progress_sql
from portal.lots.models import Category, MarketLot
from portal.operations.models import Operation, Status
from portal.reporting.models import (
    EMPLOYMENT_COLUMNS,
    PROMISE_COLUMNS,
    TRAINEE_COLUMNS,
    DashboardGroup,
    DashboardGroupAwaiting,
    DashboardGroupSignatory,
    DashboardGroupYear,
    OperationFigures,
    OperationYearFigures,
)


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
    """(status, bassin, category, operations, target headcount, *``COUNTS``) of the scope:
    one pass over its operations and their kept counts (``summary``), per value of the
    three keys the cards and both bar charts add up."""
    return db.session.execute(
        select(
            Operation.status,
            Operation.territory_id,
            Operation.category,
            func.count(Operation.id),
            func.coalesce(func.sum(Operation.target_headcount), 0),
            *(func.coalesce(func.sum(getattr(OperationFigures, c)), 0) for c in COUNTS),
        )
        .outerjoin(OperationFigures, OperationFigures.operation_id == Operation.id)
        .where(Operation.id.in_(scope))
        .group_by(Operation.status, Operation.territory_id, Operation.category)
    ).all()


def _employment_rows(scope: Select) -> list:
    """(exit year, milestone, *``employment_columns``) of the follow-ups of the scope, from
    the kept counts: the employment cards add the years up, the rate chart keeps them
    apart."""
    return db.session.execute(
        select(
            OperationYearFigures.exit_year,
            OperationYearFigures.kind,
            *(func.sum(getattr(OperationYearFigures, c)) for c in EMPLOYMENT_COLUMNS),
        )
        .where(OperationYearFigures.operation_id.in_(scope))
        .group_by(OperationYearFigures.exit_year, OperationYearFigures.kind)
    ).all()


def _group_rows(groups: list) -> list:
    """``_operation_rows`` read from the groups (``reporting.groups``) that ``groups``
    (conditions on ``DashboardGroup``) select: as many rows as groups, whatever the
    number of operations."""
    return db.session.execute(
        select(
            DashboardGroup.status,
            DashboardGroup.territory_id,
            DashboardGroup.category,
            func.sum(DashboardGroup.operations),
            func.sum(DashboardGroup.target_headcount),
            *(func.sum(getattr(DashboardGroup, c)) for c in COUNTS),
        )
        .where(*groups)
        .group_by(DashboardGroup.status, DashboardGroup.territory_id, DashboardGroup.category)
        .having(func.sum(DashboardGroup.operations) > 0)
    ).all()


def _group_employment_rows(groups: list) -> list:
    """``_employment_rows`` read from the groups that ``groups`` select."""
    return db.session.execute(
        select(
            func.nullif(DashboardGroupYear.exit_year, 0),
            DashboardGroupYear.kind,
            *(func.sum(getattr(DashboardGroupYear, c)) for c in EMPLOYMENT_COLUMNS),
        )
        .join(DashboardGroup, DashboardGroup.id == DashboardGroupYear.group_id)
        .where(*groups)
        .group_by(DashboardGroupYear.exit_year, DashboardGroupYear.kind)
        .having(func.sum(DashboardGroupYear.followed) > 0)
    ).all()


def _signatory_employers(scope: Select) -> int:
    """Employers holding a standing signature on a convention of the scope: each employer
    asked once (EXISTS stops at its first such signature), rather than every signature of
    the scope gathered and made distinct."""
    signed = (
        select(Signature.id)
        .join(ConventionVersion, ConventionVersion.id == Signature.version_id)
        .join(Convention, Convention.id == ConventionVersion.convention_id)
        .where(
            Signature.organisation_id == Organisation.id,
            Signature.voided_at.is_(None),
            Convention.operation_id.in_(scope),
        )
    )
    return db.session.scalar(
        select(func.count(Organisation.id)).where(
            Organisation.kind == OrgKind.EMPLOYER, signed.exists()
        )
    )


def _overdue(scope: Select, *, today: date, window: int) -> int:
    """Overdue follow-ups: read from the awaited ones by due date
    (``ix_followup_milestones_status_due``); ``operation_id + 0`` keeps SQLite's planner
    from walking every follow-up of the scope by operation instead."""
    return db.session.scalar(
        select(func.count(Milestone.id)).where(
            progress_sql(Progress.OVERDUE, today=today, window=window),
            (Milestone.operation_id + 0).in_(scope),
        )
    )


def _group_signatory_employers(groups: list) -> int:
    """``_signatory_employers`` read from the groups that ``groups`` select: the employers
    holding a standing signature in one of them, over rows bounded by the groups and the
    signatories, whatever the number of operations and signatures."""
    return db.session.scalar(
        select(func.count(distinct(DashboardGroupSignatory.organisation_id)))
        .join(DashboardGroup, DashboardGroup.id == DashboardGroupSignatory.group_id)
        .join(Organisation, Organisation.id == DashboardGroupSignatory.organisation_id)
        .where(*groups, DashboardGroupSignatory.signatures > 0)
        .where(Organisation.kind == OrgKind.EMPLOYER)
    )


def _group_overdue(groups: list, *, today: date, window: int) -> int:
    """``_overdue`` read from the groups that ``groups`` select: their awaited follow-ups
    per due date, those due before the overdue day (``followup.rules.overdue_before``)."""
    return db.session.scalar(
        select(func.coalesce(func.sum(DashboardGroupAwaiting.milestones), 0))
        .join(DashboardGroup, DashboardGroup.id == DashboardGroupAwaiting.group_id)
        .where(
            *groups,
            DashboardGroupAwaiting.due_on < overdue_before(today=today, window=window),
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


# The kept counts of ``_operation_rows`` (from its sixth column), and their places there.
COUNTS = PROMISE_COLUMNS + TRAINEE_COLUMNS
AT = {name: 5 + index for index, name in enumerate(COUNTS)}
GROUP_PEOPLE = (AT["recruited"], AT["employed_m6"], AT["lasting_m6"])
EMPLOYMENT = range(2, 7)  # the ``Employment`` fields in ``_employment_rows``


def figures(
    scope: Select,
    territories: dict[int, str],
    *,
    today: date,
    window: int,
    groups: list | None = None,
) -> Figures:
    """Every figure of the dashboard over ``scope`` (``territories``: id → name, the
    filter's options): four queries whatever the scope — the operations with their kept
    counts (``summary``), the kept employment counts, the signatory employers and the
    overdue follow-ups; the totals, the bar groups and the years are added up here.
    ``groups`` (``scope.group_scope``: the same operations as conditions on their groups,
    when the scope can say it so) reads all four from the groups' counts instead."""
    if groups is None:
        operation_rows, employment_rows = _operation_rows(scope), _employment_rows(scope)
        signatory_employers = _signatory_employers(scope)
        overdue = _overdue(scope, today=today, window=window)
    else:
        operation_rows, employment_rows = _group_rows(groups), _group_employment_rows(groups)
        signatory_employers = _group_signatory_employers(groups)
        overdue = _group_overdue(groups, today=today, window=window)
    statuses = _sums(operation_rows, lambda r: r[0], (3, 4))
    counts = dict(zip(COUNTS, _sums(operation_rows, lambda r: None, AT.values()).get(
        None, (0,) * len(COUNTS)), strict=True))  # fmt: skip
    per_kind = _sums(employment_rows, lambda r: r[1], EMPLOYMENT)
    per_year = _sums(employment_rows, lambda r: (r[0], r[1]), EMPLOYMENT)
    totals = Totals(
        operations=sum(count for count, _target in statuses.values()),
        by_status={s: statuses.get(s, (0, 0))[0] for s in Status},
        target_headcount=sum(target for _count, target in statuses.values()),
        **{name: counts[name] for name in COUNTS if name not in ("employed_m6", "lasting_m6")},
        employment=employment_by_kind([(kind, *c) for kind, c in per_kind.items()]),
        signatory_employers=signatory_employers,
        overdue_followups=overdue,
    )
    years = sorted({year for year, _kind in per_year if year is not None})
    return Figures(
        totals=totals,
        by_territory=_groups(
            _sums(operation_rows, lambda r: r[1], (3,)),
            _sums(operation_rows, lambda r: r[1], GROUP_PEOPLE),
            lambda value: territories.get(value, "—"),
        ),
        by_category=_groups(
            _sums(operation_rows, lambda r: r[2], (3,)),
            _sums(operation_rows, lambda r: r[2], GROUP_PEOPLE),
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
    referents: dict[int, int | None]  # bassin id -> its referent's user id

    def bassins_of(self, user_id: int) -> list[str]:
        """The names of the bassins ``user_id`` is referent for, sorted."""
        return [name for key, name in self.territories if self.referents[key] == user_id]


def _found_values(scope: Select, groups: list | None) -> list:
    """(year, lot id, lot number, organisme id, organisme name) of the operations in
    ``scope``, each once: from their groups when ``groups`` says the same scope."""
    if groups is None:
        year = case(
            (Operation.session_start.is_not(None), func.extract("year", Operation.session_start)),
            else_=func.extract("year", Operation.reported_at),
        )
        source, lot, provider = Operation, Operation.lot_id, Operation.provider_id
        where = [Operation.id.in_(scope)]
    else:
        year, lot, provider = DashboardGroup.year, DashboardGroup.lot_id, DashboardGroup.provider_id
        source, where = DashboardGroup, [*groups, DashboardGroup.operations > 0]
    return db.session.execute(
        select(year, MarketLot.id, MarketLot.number, Organisation.id, Organisation.name)
        .select_from(source)
        .outerjoin(MarketLot, MarketLot.id == lot)
        .outerjoin(Organisation, Organisation.id == provider)
        .where(*where)
        .distinct()
    ).all()


def options(scope: Select, groups: list | None = None) -> Options:
    """The filters' choices (two queries: the bassins with their referents, then the years,
    lots and organismes
    found in one pass over the operations, or their groups: see ``figures``); ``scope``
    is the unfiltered one. An operation's year is the year its session starts, else the
    year its need was reported (``scope.year_sql``)."""
    territories = db.session.execute(
        select(Territory.id, Territory.name, Territory.referent_id).order_by(Territory.name)
    ).all()
    found = _found_values(scope, groups)
    lots = {(lot_id, number) for _y, lot_id, number, _p, _n in found if lot_id is not None}
    providers = {(org_id, name) for *_rest, org_id, name in found if org_id is not None}
    return Options(
        sorted({int(row[0]) for row in found if row[0] is not None}, reverse=True),
        [(key, name) for key, name, _referent in territories],
        sorted(lots, key=lambda lot: (lot[1], lot[0])),
        sorted(providers, key=lambda org: (org[1], org[0])),
        {key: referent for key, _name, referent in territories},
    )
