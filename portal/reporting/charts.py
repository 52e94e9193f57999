"""Server-rendered SVG charts: the geometry, computed here from the aggregates, drawn by
``templates/reporting/_charts.html``. No JavaScript chart library: the page works without
JavaScript, under the strict CSP, and in print.

Accessibility (issue #14, WCAG 1.1.1, 1.4.1): each chart is an ``<svg role="img">`` named
by its ``<title>`` and described by its ``<desc>`` (a sentence with every figure), and is
followed by « Voir les données », a table with the same figures. Colour is never the only
cue: every bar carries its value as text, the two series of the bar charts differ by a
pattern (plain / hatched) as well as by colour, the lines of the rate chart by their
dashes and their marker shapes, and every legend repeats pattern and shape.

Pure functions: no database access, no request.
"""

from dataclasses import dataclass, field

from flask_babel import gettext as _

from portal.followup.models import MilestoneKind
from portal.reporting.queries import Group, YearRates

WIDTH = 640
LABEL_WIDTH = 190
BAR_AREA = 360
BAR_HEIGHT = 18
GROUP_GAP = 14
LEGEND_HEIGHT = 30


def percent(part: int, whole: int) -> int | None:
    """``part`` of ``whole`` in whole percent, None without a whole."""
    return round(100 * part / whole) if whole else None


def percent_label(value: int | None) -> str:
    return "—" if value is None else f"{value} %"


@dataclass(frozen=True)
class Table:
    """The figures of a chart as a table: column headers, rows (first cell: row header)."""

    headers: list[str]
    rows: list[list[str]]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    series: int  # index of the series: its pattern and colour class


@dataclass(frozen=True)
class BarGroup:
    label: str
    label_y: float
    bars: list[Bar]


@dataclass(frozen=True)
class BarChart:
    """Horizontal grouped bars, one group per bassin or category, one bar per series."""

    id: str
    title: str
    desc: str
    width: int
    height: int
    series: list[str]
    groups: list[BarGroup]
    table: Table
    label_x: int = LABEL_WIDTH - 8
    legend_y: int = 18


def _scale(values: list[int], area: float) -> float:
    top = max(values, default=0)
    return area / top if top else 0.0


def bar_chart(chart_id: str, title: str, groups: list[Group]) -> BarChart:
    """Recruits and lasting jobs at +6 months per group, with its table."""
    series = [_("Stagiaires recruté·es"), _("En emploi durable à 6 mois")]
    values = [(g.recruited, g.lasting_m6) for g in groups]
    scale = _scale([v for pair in values for v in pair], BAR_AREA)
    built, y = [], LEGEND_HEIGHT + 8
    for group, pair in zip(groups, values, strict=True):
        bars = []
        for index, value in enumerate(pair):
            top = y + index * BAR_HEIGHT
            bars.append(Bar(LABEL_WIDTH, top, max(value * scale, 0), BAR_HEIGHT - 3, value, index))
        built.append(BarGroup(group.label, y + BAR_HEIGHT, bars))
        y += len(pair) * BAR_HEIGHT + GROUP_GAP
    table = Table(
        [_("Groupe"), _("Opérations"), series[0], _("En emploi à 6 mois"), series[1]],
        [
            [g.label, str(g.operations), str(g.recruited), str(g.employed_m6), str(g.lasting_m6)]
            for g in groups
        ],
    )
    desc = "; ".join(
        _(
            "%(label)s : %(r)d recruté·es, %(l)d en emploi durable à 6 mois",
            label=g.label,
            r=g.recruited,
            l=g.lasting_m6,
        )
        for g in groups
    )
    return BarChart(
        chart_id,
        title,
        desc or _("Aucune opération dans cette sélection."),
        WIDTH,
        max(y, LEGEND_HEIGHT + 40),
        series,
        built,
        table,
    )


@dataclass(frozen=True)
class Step:
    label: str
    value: int
    share: int | None  # of the first step, in percent
    x: float
    y: float
    width: float


@dataclass(frozen=True)
class Funnel:
    id: str
    title: str
    desc: str
    width: int
    height: int
    steps: list[Step]
    table: Table
    step_height: int = 34


def funnel(chart_id: str, title: str, steps: list[tuple[str, int]]) -> Funnel:
    """Centred bars narrowing from the first step; each says its value and its share."""
    height = 34
    scale = _scale([value for _label, value in steps], WIDTH - 40)
    first = steps[0][1] if steps else 0
    built = []
    for index, (label, value) in enumerate(steps):
        width = value * scale
        built.append(
            Step(
                label,
                value,
                percent(value, first),
                (WIDTH - width) / 2,
                index * (height + 22) + 22,
                width,
            )
        )
    table = Table(
        [_("Étape"), _("Effectif"), _("Part des promesses")],
        [[s.label, str(s.value), percent_label(s.share)] for s in built],
    )
    desc = " → ".join(f"{s.label} : {s.value}" for s in built)
    return Funnel(chart_id, title, desc, WIDTH, len(steps) * (height + 22) + 10, built, table)


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    year: int
    rate: int


@dataclass(frozen=True)
class Line:
    label: str
    series: int  # dash pattern, marker shape and colour class
    points: list[Point] = field(default_factory=list)

    @property
    def path(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass(frozen=True)
class LineChart:
    id: str
    title: str
    desc: str
    width: int
    height: int
    lines: list[Line]
    years: list[tuple[int, float]]  # label and x
    grid: list[tuple[int, float]]  # percent and y
    table: Table
    left: int = 56
    right: int = WIDTH - 24


def rate_chart(chart_id: str, title: str, years: list[YearRates]) -> LineChart:
    """Lasting employment rate (of the retained answers) at exit, +3 and +6 months, per
    year of exit."""
    top, bottom, left, right = LEGEND_HEIGHT + 20, 250, 56, WIDTH - 24
    height = bottom + 40
    span = right - left
    xs = {
        y.year: left + (span / 2 if len(years) == 1 else i * span / (len(years) - 1))
        for i, y in enumerate(years)
    }

    def y_of(rate: int) -> float:
        return bottom - (bottom - top) * rate / 100

    lines = []
    for index, kind in enumerate(MilestoneKind):
        points = []
        for row in years:
            e = row.employment[kind]
            rate = percent(e.lasting, e.retained)
            if rate is not None:
                points.append(Point(xs[row.year], y_of(rate), row.year, rate))
        lines.append(Line(kind.title, index, points))
    table = Table(
        [_("Année de sortie")]
        + [_("%(suivi)s : emploi durable", suivi=kind.title) for kind in MilestoneKind],
        [
            [str(row.year)]
            + [
                _(
                    "%(rate)s (%(l)d sur %(r)d)",
                    rate=percent_label(
                        percent(row.employment[k].lasting, row.employment[k].retained)
                    ),
                    l=row.employment[k].lasting,
                    r=row.employment[k].retained,
                )
                for k in MilestoneKind
            ]
            for row in years
        ],
    )

    def rate_of(row: YearRates, kind: MilestoneKind) -> str:
        e = row.employment[kind]
        return percent_label(percent(e.lasting, e.retained))

    desc = "; ".join(
        f"{row.year} : " + ", ".join(f"{k.title.lower()} {rate_of(row, k)}" for k in MilestoneKind)
        for row in years
    )
    return LineChart(
        chart_id,
        title,
        desc or _("Aucune sortie de formation dans cette sélection."),
        WIDTH,
        height,
        lines,
        [(y, x) for y, x in xs.items()],
        [(p, y_of(p)) for p in (0, 25, 50, 75, 100)],
        table,
        left,
        right,
    )
