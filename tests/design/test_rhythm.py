"""The alternance rhythm: periods in date order, hours per place, and each inconsistency
flagged in French (overlap, outside the session, hours ≠ planned, platform module without
a platform period)."""

import pytest

from portal.design import rhythm
from portal.design.models import SectionKey
from portal.design.services import design_for
from tests.design.factories import item, period, save, to_co_design
from tests.operations.factories import Market

CENTRE = period("centre", "2027-01-04", "2027-03-26", 420)
IMMERSION = period("immersion", "2027-03-29", "2027-04-23", 105)


def platform_period(employer_id):
    return period("platform", "2027-04-26", "2027-04-30", 35, employer_id=employer_id)


@pytest.fixture
def market(ctx):
    return Market()


@pytest.fixture
def design(market):
    return design_for(to_co_design(market))


def set_periods(market, design, *periods):
    save(market, design.section(SectionKey.RHYTHM), {"items": list(periods)})


def platform_module(employer_id):
    return item(
        title="Conduite sur le quai",
        hours=35,
        place="platform",
        employer_id=employer_id,
        skill_ids=[],
        trainer="",
    )


def test_consistent_rhythm_has_no_issue_and_totals_per_place(market, design):
    set_periods(market, design, IMMERSION, platform_period(market.employer.id), CENTRE)
    save(
        market, design.section(SectionKey.MODULES), {"items": [platform_module(market.employer.id)]}
    )
    assert rhythm.hours_issues(design) == []
    assert rhythm.totals(design) == {"centre": 420, "immersion": 105, "platform": 35}
    assert [p.kind for p in rhythm.periods(design)] == ["centre", "immersion", "platform"]


def test_unreadable_dates_are_skipped(market, design):
    set_periods(market, design, CENTRE, {**IMMERSION, "start": "pas une date"})
    assert [p.kind for p in rhythm.periods(design)] == ["centre"]


def test_overlapping_periods(market, design):
    overlapping = period("immersion", "2027-03-22", "2027-04-16", 105)
    set_periods(market, design, CENTRE, overlapping, platform_period(market.employer.id))
    assert rhythm.hours_issues(design) == [
        "Les périodes du 04/01/2027 et du 22/03/2027 se chevauchent."
    ]


def test_period_ending_before_it_starts(market, design):
    backwards = period("immersion", "2027-04-23", "2027-03-29", 105)
    set_periods(market, design, CENTRE, backwards, platform_period(market.employer.id))
    assert "Une période finit avant de commencer (23/04/2027)." in rhythm.hours_issues(design)


def test_period_outside_the_session(market, design):
    late = period("immersion", "2027-06-21", "2027-07-09", 105)
    set_periods(market, design, CENTRE, platform_period(market.employer.id), late)
    assert rhythm.hours_issues(design) == ["La période du 21/06/2027 sort des dates de la session."]


def test_hours_differ_from_the_planned_ones(market, design):
    set_periods(market, design, {**CENTRE, "hours": 400}, IMMERSION)
    assert rhythm.hours_issues(design) == [
        "Le rythme compte 400 h en centre pour 420 h prévues.",
        "Le rythme compte 105 h en entreprise pour 140 h prévues.",
    ]


def test_planned_hours_not_set(market, design):
    design.operation.hours_company = None
    set_periods(market, design, CENTRE, IMMERSION, platform_period(market.employer.id))
    assert rhythm.hours_issues(design) == [
        "Les heures prévues de l'opération (centre, entreprise) ne sont pas renseignées."
    ]


def test_platform_module_without_a_period_on_that_platform(market, design):
    set_periods(market, design, CENTRE, {**IMMERSION, "hours": 140})
    save(
        market, design.section(SectionKey.MODULES), {"items": [platform_module(market.employer.id)]}
    )
    assert rhythm.hours_issues(design) == [
        "Le module « Conduite sur le quai » a lieu sur un plateau technique d'entreprise sans "
        "période prévue sur ce plateau."
    ]
    # A platform period at another employer does not count.
    other = platform_period(market.employer2.id)
    set_periods(market, design, CENTRE, IMMERSION, other)
    assert len(rhythm.hours_issues(design)) == 1
