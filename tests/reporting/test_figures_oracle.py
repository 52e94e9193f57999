"""The dashboard's figures (``queries.figures``: a few aggregates added up in Python) against
a straightforward computation here, row by row in Python, over the demo — operations at
every step, trainees in training and gone, signatures, juries, follow-ups answered and
awaited — for each filter the dashboard offers."""

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Organisation, OrgKind
from portal.conventions.models import Convention, ConventionVersion, Signature
from portal.core.employment import SALARIED, contract_is_lasting, is_lasting
from portal.extensions import db
from portal.followup.models import (
    Answer,
    Milestone,
    MilestoneKind,
    MilestoneStatus,
    PromiseOutcome,
    RetainedAnswer,
)
from portal.followup.rules import Progress, progress
from portal.immersions.models import Evaluation, EvaluationKind, EvaluationResult, Outcome
from portal.lots.models import Category, MarketLot
from portal.operations.models import Operation, Status
from portal.recruitment.models import ExitReason, JobPromise, Trainee, TraineeStatus
from portal.recruitment.rules import holds_place
from portal.reporting import queries
from portal.reporting.models import DashboardGroup
from portal.reporting.scope import Filters
from tests.support import load_demo_copy

# Late enough that the demo's awaited follow-ups are overdue.
TODAY = date.today() + timedelta(days=400)
WINDOW = 15


def _all(model) -> list:
    return list(db.session.scalars(select(model)))


def _year(operation: Operation) -> int:
    return (operation.session_start or operation.reported_at).year


def expected(operations: list[Operation], names: dict) -> dict:
    """Every figure of the dashboard for ``operations``, from their rows one by one."""
    ids = {o.id for o in operations}
    trainees = [t for t in _all(Trainee) if t.operation_id in ids]
    promises = [p for p in _all(JobPromise) if p.operation_id in ids]
    promise_of = {p.id: p for p in _all(JobPromise)}
    kept = {o.promise_id: o.kept for o in _all(PromiseOutcome)}
    juries = {e.id for e in _all(Evaluation) if e.kind == EvaluationKind.JURY}
    outcomes = defaultdict(set)
    for result in _all(EvaluationResult):
        if result.evaluation_id in juries:
            outcomes[result.trainee_id].add(result.outcome)
    answers = {a.id: a for a in _all(Answer)}
    retained = {r.milestone_id: answers[r.answer_id] for r in _all(RetainedAnswer)}
    trainee_of = {t.id: t for t in _all(Trainee)}
    milestones = [m for m in _all(Milestone) if m.operation_id in ids]

    def employment(rows) -> tuple:
        found = [0, 0, 0, 0, 0]
        for m in rows:
            answer = retained.get(m.id)
            promise = promise_of.get(trainee_of[m.trainee_id].promise_id)
            found[0] += 1
            if answer is None:
                continue
            found[1] += 1
            found[2] += answer.situation.is_employment
            found[3] += is_lasting(answer.situation, answer.duration_months)
            found[4] += bool(
                answer.situation in SALARIED
                and promise is not None
                and answer.employer_id == promise.organisation_id
            )
        return tuple(found)

    def m6(trainee) -> Answer | None:
        for m in milestones:
            if m.trainee_id == trainee.id and m.kind == MilestoneKind.M6:
                return retained.get(m.id)
        return None

    def groups(key, label_of) -> list:
        found = []
        for value in {key(o) for o in operations}:
            chosen = [t for t in trainees if key(operation_of[t.operation_id]) == value]
            answers_m6 = [a for a in map(m6, chosen) if a is not None]
            found.append(
                (
                    label_of(value),
                    sum(key(o) == value for o in operations),
                    sum(holds_place(t.status, t.exit_reason) for t in chosen),
                    sum(a.situation.is_employment for a in answers_m6),
                    sum(is_lasting(a.situation, a.duration_months) for a in answers_m6),
                )
            )
        return sorted(found)

    operation_of = {o.id: o for o in operations}
    versions = {v.id: v.convention_id for v in _all(ConventionVersion)}
    conventions = {c.id: c.operation_id for c in _all(Convention)}
    employers = {o.id for o in _all(Organisation) if o.kind == OrgKind.EMPLOYER}
    exit_years = sorted({t.exit_date.year for t in trainees if t.exit_date})
    full = {t.id for t in trainees if Outcome.FULL in outcomes[t.id]}
    return {
        "operations": len(operations),
        "by_status": {s: sum(o.status == s for o in operations) for s in Status},
        "target_headcount": sum(o.target_headcount or 0 for o in operations),
        "promises": len(promises),
        "promises_lasting": sum(
            contract_is_lasting(p.contract_type, p.duration_months) for p in promises
        ),  # fmt: skip
        "promises_kept": sum(kept.get(p.id) is True for p in promises),
        "promises_not_kept": sum(kept.get(p.id) is False for p in promises),
        "recruited": sum(holds_place(t.status, t.exit_reason) for t in trainees),
        "in_training": sum(t.status == TraineeStatus.IN_TRAINING for t in trainees),
        "exited": sum(t.exit_date is not None for t in trainees),
        "completed": sum(t.exit_reason == ExitReason.END_OF_TRAINING for t in trainees),
        "certified_full": len(full),
        "certified_partial": sum(
            t.id not in full and Outcome.PARTIAL in outcomes[t.id] for t in trainees
        ),
        "employment": {
            kind: employment([m for m in milestones if m.kind == kind]) for kind in MilestoneKind
        },
        "signatory_employers": len(
            {
                s.organisation_id
                for s in _all(Signature)
                if conventions[versions[s.version_id]] in ids
                and s.voided_at is None
                and s.organisation_id in employers
            }
        ),
        "overdue_followups": sum(
            progress(m.status, m.due_on, today=TODAY, window=WINDOW) == Progress.OVERDUE
            for m in milestones
        ),
        "by_territory": groups(lambda o: o.territory_id, lambda v: names.get(v, "—")),
        "by_category": groups(lambda o: o.category, lambda v: Category(v).title),
        "by_exit_year": [
            (
                year,
                {
                    kind: employment(
                        [
                            m
                            for m in milestones
                            if m.kind == kind
                            and (trainee_of[m.trainee_id].exit_date or date.min).year == year
                        ]
                    )
                    for kind in MilestoneKind
                },
            )
            for year in exit_years
        ],
    }


def actual(found: queries.Figures) -> dict:
    totals = found.totals
    figures = {key: getattr(totals, key) for key in expected([], {}) if hasattr(totals, key)}
    figures["employment"] = {
        kind: (e.followed, e.retained, e.employed, e.lasting, e.with_promiser)
        for kind, e in totals.employment.items()
    }

    def groups(rows) -> list:
        return sorted((g.label, g.operations, g.recruited, g.employed_m6, g.lasting_m6)
                      for g in rows)  # fmt: skip

    figures["by_territory"] = groups(found.by_territory)
    figures["by_category"] = groups(found.by_category)
    figures["by_exit_year"] = [
        (
            r.year,
            {
                kind: (e.followed, e.retained, e.employed, e.lasting, e.with_promiser)
                for kind, e in r.employment.items()
            },
        )
        for r in found.by_exit_year
    ]
    return figures


def _filters(operations: list[Operation]) -> list[Filters]:
    """No filter, then each value of each filter that the demo holds."""
    found = [Filters()]
    found += [Filters(status=s) for s in sorted({o.status for o in operations})]
    found += [Filters(territory_id=t) for t in sorted({o.territory_id for o in operations})]
    found += [Filters(category=c) for c in sorted({o.category for o in operations})]
    found += [Filters(provider_id=p) for p in sorted({o.provider_id for o in operations} - {None})]
    found += [Filters(lot_id=lot) for lot in sorted({o.lot_id for o in operations} - {None})]
    found += [Filters(year=y) for y in sorted({_year(o) for o in operations})]
    return found


@pytest.fixture
def demo(app, ctx):
    load_demo_copy(app)


def _check_every_filter(operations: list[Operation], names: dict) -> Counter:
    """Each filter's figures, counted over the operations and over their groups
    (``reporting.groups``, the Région's dashboard), equal to the row-by-row count; and a
    referent's bassin, on the groups."""
    checked = Counter()
    for filters in _filters(operations):
        scope = filters.apply(select(Operation.id))
        chosen = [o for o in operations if o.id in set(db.session.scalars(scope))]
        wanted = expected(chosen, names)
        found = queries.figures(scope, names, today=TODAY, window=WINDOW)
        assert actual(found) == wanted, filters
        grouped = queries.figures(
            scope, names, today=TODAY, window=WINDOW, groups=filters.on_groups()
        )
        assert actual(grouped) == wanted, ("groups", filters)
        checked["filters"] += 1
        checked["operations"] += len(chosen)
    for territory_id in sorted({o.territory_id for o in operations}):
        scope = select(Operation.id).where(Operation.territory_id == territory_id)
        chosen = [o for o in operations if o.territory_id == territory_id]
        bassin = [DashboardGroup.territory_id.in_([territory_id])]
        grouped = queries.figures(scope, names, today=TODAY, window=WINDOW, groups=bassin)
        assert actual(grouped) == expected(chosen, names), ("bassin", territory_id)
    assert db.session.scalar(select(func.min(DashboardGroup.operations))) >= 0
    return checked


def test_the_figures_are_those_counted_row_by_row(demo):
    operations = _all(Operation)
    names = dict(queries.options(select(Operation.id)).territories)
    checked = _check_every_filter(operations, names)
    whole = expected(operations, names)
    # The data set is not trivial: every kind of figure is there to be counted.
    assert len({o.status for o in operations}) >= 5
    for key in ("in_training", "promises_kept", "promises_not_kept", "certified_full",
                "signatory_employers", "overdue_followups", "completed"):  # fmt: skip
        assert whole[key] > 0, key
    assert whole["employment"][MilestoneKind.M6][4] > 0
    assert len(whole["by_exit_year"]) >= 1
    assert checked["filters"] > 10


def test_the_groups_follow_operations_that_move_appear_and_go(demo):
    """Operations moved to another bassin, lot, organisme, status, year or headcount, counts
    deleted, an operation created then deleted, each committed: the groups' figures stay
    those counted row by row, and the filters' options those of the operations."""
    names = dict(queries.options(select(Operation.id)).territories)
    operations = _all(Operation)
    counted = sorted(
        (o for o in operations if o.status in (Status.TRAINING, Status.FOLLOW_UP, Status.CLOSED)),
        key=lambda o: o.id,
    )
    first, second = counted[0], counted[-1]
    other_territory = next(t for t in sorted(names) if t != first.territory_id)
    first.territory_id = other_territory
    first.target_headcount = (first.target_headcount or 0) + 7
    db.session.commit()
    second.status = Status.CANCELLED
    if second.lot_id is not None:  # a lot-funded operation keeps a lot: another one
        lots = db.session.scalars(select(MarketLot.id).where(MarketLot.id != second.lot_id))
        second.lot_id = lots.first()
    second.session_start = date(2019, 3, 1)  # before its end
    db.session.commit()
    first.provider_id, second.provider_id = second.provider_id, first.provider_id
    db.session.delete(
        db.session.scalars(select(RetainedAnswer).order_by(RetainedAnswer.id)).first()
    )
    db.session.delete(
        db.session.scalars(select(PromiseOutcome).order_by(PromiseOutcome.id)).first()
    )
    # The groups' tallies: a signature voided, an awaited follow-up due on another day.
    standing = select(Signature).where(Signature.voided_at.is_(None)).order_by(Signature.id)
    db.session.scalars(standing).first().voided_at = datetime(2026, 1, 5)
    awaited = select(Milestone).where(Milestone.status == MilestoneStatus.AWAITING)
    db.session.scalars(awaited.order_by(Milestone.id)).first().due_on = date(2019, 4, 1)
    db.session.commit()
    _check_every_filter(_all(Operation), names)

    added = Operation(
        title="Opération éphémère",
        category=Category.OTHER,
        territory_id=first.territory_id,
        rome_code=first.rome_code,
        funding=first.funding,
        lot_id=first.lot_id,
        status=Status.ANALYSIS,
        reported_by_id=first.reported_by_id,
        reported_by_org_id=first.reported_by_org_id,
        target_headcount=12,
    )
    db.session.add(added)
    db.session.commit()
    _check_every_filter(_all(Operation), names)
    assert Category.OTHER in {g.category for g in _all(DashboardGroup) if g.operations}
    db.session.delete(added)
    db.session.commit()
    _check_every_filter(_all(Operation), names)
    unfiltered = queries.options(select(Operation.id))
    assert queries.options(select(Operation.id), groups=[]) == unfiltered
    assert 2019 in unfiltered.years
