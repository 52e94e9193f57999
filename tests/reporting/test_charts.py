"""The charts' geometry and words: pure functions of the aggregates, no database."""

from portal.followup.indicators import Employment
from portal.followup.models import MilestoneKind
from portal.reporting import charts
from portal.reporting.exports import neutralise
from portal.reporting.queries import Group, YearRates

GROUPS = [
    Group("1", "Blois", 1, 7, 6, 5),
    Group("2", "Tours", 2, 14, 9, 0),
]


def test_bars_scale_to_the_largest_value(ctx):
    chart = charts.bar_chart("c", "Par bassin", GROUPS)
    widths = {(g.label, b.series): b.width for g in chart.groups for b in g.bars}
    assert widths[("Tours", 0)] == charts.BAR_AREA
    assert widths[("Blois", 0)] == charts.BAR_AREA / 2
    assert widths[("Tours", 1)] == 0  # a zero is drawn as nothing, its value still written
    assert [b.value for g in chart.groups for b in g.bars] == [7, 5, 14, 0]


def test_every_figure_is_in_the_description_and_the_table(ctx):
    chart = charts.bar_chart("c", "Par bassin", GROUPS)
    assert "Blois : 7 recruté·es, 5 en emploi durable à 6 mois" in chart.desc
    assert chart.table.rows == [["Blois", "1", "7", "6", "5"], ["Tours", "2", "14", "9", "0"]]
    assert len(chart.series) == 2  # two series: plain and hatched


def test_an_empty_selection_says_so(ctx):
    chart = charts.bar_chart("c", "Par bassin", [])
    assert chart.groups == [] and chart.desc == "Aucune opération dans cette sélection."
    rates = charts.rate_chart("r", "Taux", [])
    assert rates.years == [] and "Aucune sortie" in rates.desc


def test_the_funnel_gives_each_step_its_share_of_the_promises(ctx):
    funnel = charts.funnel("f", "Entonnoir", [("Promesses", 20), ("Recrutés", 15), ("Emploi", 5)])
    assert [s.share for s in funnel.steps] == [100, 75, 25]
    assert funnel.steps[0].width > funnel.steps[1].width > funnel.steps[2].width
    # Centred: each bar's middle is the chart's.
    assert {round(s.x + s.width / 2) for s in funnel.steps} == {charts.WIDTH // 2}
    assert funnel.table.rows[1] == ["Recrutés", "15", "75 %"]


def test_the_funnel_of_nothing(ctx):
    funnel = charts.funnel("f", "Entonnoir", [("Promesses", 0), ("Recrutés", 0)])
    assert [s.width for s in funnel.steps] == [0, 0]
    assert funnel.table.rows[0][2] == "—"


def employment(retained: int, lasting: int) -> dict:
    e = Employment(retained, retained, lasting, lasting, 0)
    return {kind: e for kind in MilestoneKind}


def test_rates_are_of_the_retained_answers_and_placed_by_year(ctx):
    years = [YearRates(2024, employment(4, 1)), YearRates(2025, employment(10, 8))]
    chart = charts.rate_chart("r", "Taux", years)
    assert [line.label for line in chart.lines] == [k.title for k in MilestoneKind]
    first = chart.lines[0]
    assert [p.rate for p in first.points] == [25, 80]
    assert first.points[0].x == chart.left and first.points[1].x == chart.right
    assert first.points[1].y < first.points[0].y  # higher rate, higher on the chart
    assert chart.table.rows[0][1] == "25 % (1 sur 4)"


def test_a_year_without_answers_has_no_point(ctx):
    chart = charts.rate_chart("r", "Taux", [YearRates(2025, employment(0, 0))])
    assert all(line.points == [] for line in chart.lines)
    assert "—" in chart.desc


def test_formula_starts_are_neutralised():
    for dangerous in ("=1+1", "+33 6", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(dangerous) == "'" + dangerous
    assert neutralise("Orléans = ville") == "Orléans = ville"
