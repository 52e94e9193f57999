"""A trainee's path: immersions, tutors' assessments, debriefs, evaluation results, and
skills progress across periods — as a table and a small chart drawn on the server."""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload

from portal.core.memo import remember_read
from portal.extensions import db
from portal.immersions import rules
from portal.immersions.models import (
    Debrief,
    DebriefSkill,
    DebriefTrainee,
    EvaluationResult,
    Immersion,
    SkillLevel,
    TutorAssessment,
)
from portal.immersions.queries import ImmersionRow
from portal.immersions.services import skills_read
from portal.recruitment.models import Trainee

# Chart geometry (SVG user units) and the order levels stack in, best at the bottom.
CHART_BAR, CHART_GAP, CHART_HEIGHT, CHART_TOP, CHART_LEFT = 48, 32, 160, 10, 36
STACK = (SkillLevel.ACQUIRED, SkillLevel.IN_PROGRESS, SkillLevel.NOT_ACQUIRED)
COLOURS = {
    SkillLevel.ACQUIRED: "#18753c",
    SkillLevel.IN_PROGRESS: "#b34000",
    SkillLevel.NOT_ACQUIRED: "#6a6a6a",
}


@dataclass
class Cell:
    """One skill at one period: the tutor's level and the debrief's."""

    tutor: SkillLevel | None = None
    debrief: SkillLevel | None = None

    @property
    def level(self) -> SkillLevel | None:
        """The debrief's level (the organisme's synthesis) or else the tutor's."""
        return self.debrief or self.tutor


@dataclass
class SkillProgress:
    skill_id: str
    label: str
    cells: list[Cell]


@dataclass
class Bar:
    """One stacked segment of the chart."""

    x: int
    y: int
    height: int
    level: SkillLevel
    count: int
    colour: str


@dataclass
class TraineePath:
    trainee: Trainee
    immersions: list  # ImmersionRow, in date order
    debriefs: list[Debrief]
    results: list[EvaluationResult]
    lines: dict[int, DebriefTrainee] = field(default_factory=dict)  # the trainee's, by debrief
    progress: list[SkillProgress] = field(default_factory=list)
    bars: list[list[Bar]] = field(default_factory=list)  # one stack per immersion

    @property
    def chart_width(self) -> int:
        return CHART_LEFT + len(self.immersions) * (CHART_BAR + CHART_GAP)

    @property
    def axis(self) -> list[tuple[int, str]]:
        """The x of each period's label under its bar, and the label (P1, P2…)."""
        return [
            (
                CHART_LEFT + i * (CHART_BAR + CHART_GAP) + CHART_GAP // 2 + CHART_BAR // 2 - 8,
                f"P{i + 1}",
            )
            for i in range(len(self.immersions))
        ]

    @property
    def legend(self) -> list[tuple[str, SkillLevel]]:
        """(colour, level) of each kind of segment."""
        return [(COLOURS[level], level) for level in STACK]

    @property
    def has_progress(self) -> bool:
        return any(c.level for p in self.progress for c in p.cells)


def _chart(progress: list[SkillProgress], periods: int) -> list[list[Bar]]:
    """Stacked bars: per period, how many skills are at each level."""
    total = max(len(progress), 1)
    stacks = []
    for index in range(periods):
        x = CHART_LEFT + index * (CHART_BAR + CHART_GAP) + CHART_GAP // 2
        bottom = CHART_TOP + CHART_HEIGHT
        stack = []
        for level in STACK:
            count = sum(1 for p in progress if p.cells[index].level == level)
            if count:
                height = round(CHART_HEIGHT * count / total)
                bottom -= height
                stack.append(Bar(x, bottom, height, level, count, COLOURS[level]))
        stacks.append(stack)
    return stacks


def trainee_path(trainee: Trainee, *, today: date | None = None) -> TraineePath:
    """Everything of ``trainee``'s path, in five queries whatever its length: the immersions
    with their employer, tutor, assessment and its ratings; the trainee's debrief lines with
    their debrief; the skills noted for the trainee at debriefs; the evaluation results with
    their evaluation; the design's skills (``skills_read``, which a page may prefetch)."""
    today = today or rules.today()
    immersions = list(
        db.session.scalars(
            select(Immersion)
            .where(Immersion.trainee_id == trainee.id)
            .options(
                joinedload(Immersion.employer),
                joinedload(Immersion.tutor),
                joinedload(Immersion.assessment).joinedload(TutorAssessment.ratings),
            )
            .order_by(Immersion.starts_on, Immersion.id)
        ).unique()
    )
    lines = list(
        db.session.scalars(
            select(DebriefTrainee)
            .join(Debrief, Debrief.id == DebriefTrainee.debrief_id)
            .where(DebriefTrainee.trainee_id == trainee.id)
            .options(contains_eager(DebriefTrainee.debrief))
            .order_by(Debrief.held_on, Debrief.id)
        )
    )
    noted = list(
        db.session.scalars(
            select(DebriefSkill)
            .where(DebriefSkill.trainee_id == trainee.id)
            .order_by(DebriefSkill.id)
        )
    )
    results = list(
        db.session.scalars(
            select(EvaluationResult)
            .where(EvaluationResult.trainee_id == trainee.id)
            .options(joinedload(EvaluationResult.evaluation))
        )
    )
    results.sort(key=lambda r: r.evaluation.held_at)
    # A debrief line closes its immersion (one line per immersion, of its own trainee).
    debriefed = {line.immersion_id for line in lines if line.immersion_id is not None}
    rows = [
        ImmersionRow(i, rules.immersion_state(i, today=today, debriefed=i.id in debriefed))
        for i in immersions
    ]
    path = TraineePath(
        trainee,
        rows,
        [line.debrief for line in lines],
        results,
        lines={line.debrief_id: line for line in lines},
    )

    # Skills: the design's, then any rated that the design no longer lists.
    labels = {s["id"]: s["label"] for s in remember_read(skills_read(trainee.operation))}
    debrief_of = {line.immersion_id: line.debrief_id for line in lines}
    skills_of: dict[int, list[DebriefSkill]] = {}
    for skill in noted:
        skills_of.setdefault(skill.debrief_id, []).append(skill)
    levels: dict[str, list[Cell]] = {}
    for index, immersion in enumerate(immersions):
        ratings = immersion.assessment.ratings if immersion.assessment else []
        for rating in ratings:
            labels.setdefault(rating.skill_id, rating.skill_label)
            cells = levels.setdefault(rating.skill_id, [Cell() for _ in immersions])
            cells[index].tutor = rating.level
        for skill in skills_of.get(debrief_of.get(immersion.id), []):
            labels.setdefault(skill.skill_id, skill.skill_label)
            cells = levels.setdefault(skill.skill_id, [Cell() for _ in immersions])
            cells[index].debrief = skill.level
    path.progress = [
        SkillProgress(skill_id, label, levels.get(skill_id) or [Cell() for _ in immersions])
        for skill_id, label in labels.items()
    ]
    path.bars = _chart(path.progress, len(immersions))
    return path
