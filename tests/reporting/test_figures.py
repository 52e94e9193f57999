"""The dashboard's aggregates on a fixed data set — the demo's history, whose facts are the
table ``PAST`` — against figures computed here, in plain Python, from that table."""

from datetime import date

import pytest
from sqlalchemy import select

from portal.core.employment import ContractType, Situation
from portal.demo.history import PAST
from portal.extensions import db
from portal.followup.models import MilestoneKind
from portal.immersions.models import Outcome
from portal.lots.models import Category
from portal.operations.models import Operation, Status
from portal.recruitment.models import ExitReason
from portal.reporting import queries
from portal.reporting.scope import Filters
from tests.reporting.factories import Pilot

TODAY = date.today()
KEEPS = (ExitReason.END_OF_TRAINING, ExitReason.EARLY_HIRE)
EMPLOYED = {Situation.CDI, Situation.CDD, Situation.INTERIM, Situation.ALTERNANCE}
SALARIED = EMPLOYED


def lasting(situation, months) -> bool:
    return situation == Situation.CDI or (situation != Situation.JOB_SEEKING and (months or 0) >= 6)


def expected(pasts) -> dict:
    """The figures of the operations ``pasts``, from the facts alone."""
    paths = [(past, path) for past in pasts for path in past.paths]
    promises = [
        (contract, months)
        for past in pasts
        for _n, _j, contract, months, count in past.employers
        for _ in range(count)
    ]
    employment = {}
    for index, kind in enumerate(MilestoneKind):
        rows = [(path, path.situations[index]) for _past, path in paths]
        employment[kind] = (
            len(rows),
            len(rows),
            sum(s in EMPLOYED for _p, (s, _m, _w) in rows),
            sum(lasting(s, m) for _p, (s, m, _w) in rows),
            sum(s in SALARIED and w and p.exit in KEEPS for p, (s, _m, w) in rows),
        )
    return {
        "operations": len(pasts),
        "target_headcount": sum(p.target for p in pasts),
        "promises": len(promises),
        "promises_lasting": sum(c == ContractType.CDI or (m or 0) >= 6 for c, m in promises),
        "promises_kept": sum(p.exit in KEEPS and p.kept is True for _x, p in paths),
        "promises_not_kept": sum(p.exit in KEEPS and p.kept is False for _x, p in paths),
        "recruited": sum(p.exit in KEEPS for _x, p in paths),
        "in_training": 0,
        "completed": sum(p.exit == ExitReason.END_OF_TRAINING for _x, p in paths),
        "certified_full": sum(p.jury == Outcome.FULL for _x, p in paths),
        "certified_partial": sum(p.jury == Outcome.PARTIAL for _x, p in paths),
        "employment": employment,
        "signatory_employers": 0,  # taken over without their conventions
        "overdue_followups": 0,  # every follow-up answered
    }


def actual(totals: queries.Totals) -> dict:
    found = {key: getattr(totals, key) for key in expected(PAST) if key != "employment"}
    found["employment"] = {
        kind: (e.followed, e.retained, e.employed, e.lasting, e.with_promiser)
        for kind, e in totals.employment.items()
    }
    return found


@pytest.fixture
def pilot(ctx):
    world = Pilot()
    db.session.commit()  # the dashboard's counts are kept at the commit (reporting.summary)
    return world


def figures_of(filters: Filters, territories: dict | None = None) -> queries.Figures:
    scope = filters.apply(select(Operation.id))
    return queries.figures(scope, territories or {}, today=TODAY, window=15)


def totals_of(filters: Filters) -> queries.Totals:
    return figures_of(filters).totals


def test_the_totals_are_the_facts(pilot):
    figures = actual(totals_of(Filters()))
    assert figures == expected(PAST)
    # A sanity check of the oracle itself: the data set is not trivial.
    assert 0 < figures["promises_kept"] < figures["promises"]
    assert figures["employment"][MilestoneKind.M6][3] < figures["employment"][MilestoneKind.M6][1]


def test_status_counts(pilot):
    totals = totals_of(Filters())
    assert totals.by_status[Status.CLOSED] == 3
    assert sum(totals.by_status.values()) == 3
    assert totals_of(Filters(status=Status.TRAINING)).operations == 0


@pytest.mark.parametrize(
    ("filters", "titles"),
    [
        (lambda w: Filters(territory_id=w.territories["TRS"].id), {PAST[0].title}),
        (lambda w: Filters(category=Category.PREPA_METIERS), {PAST[0].title, PAST[2].title}),
        (lambda w: Filters(category=Category.CHANTIER_FORMATION), {PAST[1].title}),
        (lambda w: Filters(provider_id=w.of1.id), {PAST[2].title}),
        (lambda w: Filters(status=Status.CLOSED), {p.title for p in PAST}),
    ],
    ids=["bassin", "prepa", "chantier", "organisme", "statut"],
)
def test_each_filter_counts_its_operations_only(pilot, filters, titles):
    chosen = [past for past in PAST if past.title in titles]
    assert actual(totals_of(filters(pilot))) == expected(chosen)


def test_the_year_is_the_session_start(pilot):
    years = {}
    for past in PAST:
        start = pilot.operation(past.title).session_start
        years.setdefault(start.year, []).append(past)
    for year, pasts in years.items():
        assert actual(totals_of(Filters(year=year))) == expected(pasts)
    assert totals_of(Filters(year=max(years) + 1)).operations == 0


def test_groups_by_category(pilot):
    groups = {g.label: g for g in figures_of(Filters()).by_category}
    for category in (Category.PREPA_METIERS, Category.CHANTIER_FORMATION):
        pasts = [p for p in PAST if p.category == category]
        figures = expected(pasts)
        group = groups[category.title]
        assert group.operations == len(pasts)
        assert group.recruited == figures["recruited"]
        assert group.employed_m6 == figures["employment"][MilestoneKind.M6][2]
        assert group.lasting_m6 == figures["employment"][MilestoneKind.M6][3]
    assert Category.SE_FORMER.title not in groups


def test_groups_by_bassin_name_each_bassin(pilot):
    names = {t.id: t.name for t in pilot.territories.values()}
    groups = {g.label: g for g in figures_of(Filters(), names).by_territory}
    assert set(groups) == {"Tours", "Blois", "Chartres"}
    assert groups["Blois"].recruited == expected([PAST[1]])["recruited"]


def test_employment_per_exit_year(pilot):
    rows = figures_of(Filters()).by_exit_year
    assert [r.year for r in rows] == sorted({r.year for r in rows})
    total = sum(r.employment[MilestoneKind.M6].lasting for r in rows)
    assert total == expected(PAST)["employment"][MilestoneKind.M6][3]


def test_options_offer_what_the_scope_holds(pilot):
    options = queries.options(select(Operation.id))
    assert [name for _id, name in options.providers] == [
        "Forma'Centre Loiret",
        "Touraine Compétences Formation",
    ]
    assert len(options.lots) == 3
    assert options.years == sorted(options.years, reverse=True)
