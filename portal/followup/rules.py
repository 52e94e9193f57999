"""Rules of the employment follow-up, as data and pure functions: when a milestone is due,
how its state reads on a given day, and which answer counts when several parties answer.

No database access here: the services and queries apply these rules (``progress_sql`` is
the SQL twin of ``progress``, and the tests hold them to the same answers).
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_

from portal.core.employment import Situation
from portal.core.enums import TitledEnum, titled
from portal.core.errors import RuleError
from portal.core.time import paris_today
from portal.followup.models import (
    Answer,
    Milestone,
    MilestoneKind,
    MilestoneStatus,
    RetainedAnswer,
    RetainedBasis,
)
from portal.operations.models import Status
from portal.recruitment.models import ExitReason

# Exits, promise outcomes and follow-ups are recorded during the training and the follow-up.
RECORDING_STEPS = (Status.TRAINING, Status.FOLLOW_UP)
# Exit reasons that need a word of explanation (the reason of an abandon, an exclusion…).
DETAILED_REASONS = frozenset({ExitReason.DROPOUT, ExitReason.EXCLUSION, ExitReason.OTHER})
MONTHS_MAX = 120  # a contract's duration in months, as the database accepts it


def contract_months(situation: Situation, months: int | None) -> int | None:
    """A contract's duration: required (1 to 120 months) for a CDD, an intérim or an
    alternance, whose lasting depends on it; dropped for the other situations."""
    if not situation.needs_duration:
        return None
    if not months:
        raise RuleError(_("Indiquez la durée du contrat en mois."), "duration_months")
    if not 1 <= months <= MONTHS_MAX:
        raise RuleError(_("Durée attendue entre 1 et %(n)d mois.", n=MONTHS_MAX), "duration_months")
    return months


def today() -> date:
    """Today on the French calendar: due dates are Paris days."""
    return paris_today()


def window_days() -> int:
    """Days before and after a due date during which a follow-up is « à faire »."""
    return int(current_app.config.get("FOLLOWUP_WINDOW_DAYS", 15))


def attempts_before_no_news() -> int:
    """Contact attempts an organisation records before it may answer « sans nouvelles »."""
    return int(current_app.config.get("FOLLOWUP_ATTEMPTS_BEFORE_NO_NEWS", 3))


def cooldown_days() -> int:
    """Days between two reminders of the same overdue follow-up."""
    return int(current_app.config.get("FOLLOWUP_REMINDER_COOLDOWN_DAYS", 7))


def escalation_days() -> int:
    """Days after its due date a missing +6 months follow-up goes to the referent."""
    return int(current_app.config.get("FOLLOWUP_ESCALATION_DAYS", 30))


# --- Due dates -------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, on the month's last day when it is shorter
    (31 August + 6 months = 28 or 29 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_on(exit_date: date, kind: MilestoneKind) -> date:
    """When the follow-up ``kind`` of a trainee who left on ``exit_date`` is due."""
    return add_months(exit_date, kind.months)


def opens_on(due: date, window: int) -> date:
    """The first day a follow-up due on ``due`` may be answered (« à faire »)."""
    return due - timedelta(days=window)


def late_from(due: date, window: int) -> date:
    """The first day a follow-up due on ``due`` is « en retard »."""
    return due + timedelta(days=window + 1)


@titled(
    {
        "upcoming": _l("À venir"),
        "due": _l("À faire"),
        "overdue": _l("En retard"),
        "to_reconcile": _l("À rapprocher"),
        "done": _l("Renseigné"),
    }
)
class Progress(TitledEnum):
    """Where a milestone stands on a given day, as lists and reminders show it."""

    UPCOMING = "upcoming"
    DUE = "due"
    OVERDUE = "overdue"
    TO_RECONCILE = "to_reconcile"
    DONE = "done"

    @property
    def pending(self) -> bool:
        """Something is expected now (an answer or a reconciliation)."""
        return self in (Progress.DUE, Progress.OVERDUE, Progress.TO_RECONCILE)


def progress(status: MilestoneStatus, due: date, *, today: date, window: int) -> Progress:
    """The state of a milestone of ``status`` due on ``due``, on ``today``."""
    if status == MilestoneStatus.RETAINED:
        return Progress.DONE
    if status == MilestoneStatus.TO_RECONCILE:
        return Progress.TO_RECONCILE
    if today < opens_on(due, window):
        return Progress.UPCOMING
    if today >= late_from(due, window):
        return Progress.OVERDUE
    return Progress.DUE


def overdue_before(*, today: date, window: int) -> date:
    """An awaited follow-up due before this day is overdue on ``today``."""
    return today - timedelta(days=window)


def progress_sql(state: Progress, *, today: date, window: int):
    """SQL condition on ``Milestone``: the milestone is in ``state`` on ``today``."""
    awaiting = Milestone.status == MilestoneStatus.AWAITING
    # today < due - window  <=>  due > today + window; today > due + window <=> due < today - window
    conditions = {
        Progress.UPCOMING: and_(awaiting, Milestone.due_on > today + timedelta(days=window)),
        Progress.DUE: and_(
            awaiting,
            Milestone.due_on <= today + timedelta(days=window),
            Milestone.due_on >= today - timedelta(days=window),
        ),
        Progress.OVERDUE: and_(
            awaiting, Milestone.due_on < overdue_before(today=today, window=window)
        ),
        Progress.TO_RECONCILE: Milestone.status == MilestoneStatus.TO_RECONCILE,
        Progress.DONE: Milestone.status == MilestoneStatus.RETAINED,
    }
    return conditions[state]


# --- Which answer counts ---------------------------------------------------------------


def answer_key(answer: Answer) -> tuple:
    """What two answers must share to agree: the situation, the employer (for a salaried
    job) and whether the job is lasting."""
    employer = None
    if answer.situation.is_salaried:
        employer = answer.employer_id or (answer.employer_name or "").strip().casefold()
    return (answer.situation, employer, answer.lasting)


def considered(answers: list[Answer]) -> list[Answer]:
    """The answers that count: each organisation's latest (a new answer replaces its own
    previous one, which stays in the history). « Sans nouvelles » says nothing of the
    situation: it counts only when no organisation knows more."""
    latest: dict[int, Answer] = {}
    for answer in sorted(answers, key=lambda a: a.id):
        if not answer.reconciliation:
            latest[answer.organisation_id] = answer
    informative = [a for a in latest.values() if a.situation != Situation.NO_NEWS]
    return informative or list(latest.values())


def disagree(answers: list[Answer]) -> bool:
    """True when the answers that count differ in situation, employer or lasting."""
    return len({answer_key(a) for a in considered(answers)}) > 1


@dataclass(frozen=True)
class Decision:
    """What a milestone's answers amount to: its status and, when the answers agree, the
    answer retained automatically (None keeps the reconciliation, if any)."""

    status: MilestoneStatus
    answer: Answer | None = None
    basis: RetainedBasis | None = None


def decide(answers: list[Answer], retained: RetainedAnswer | None) -> Decision:
    """Apply the rules to a milestone's answers and its current retained answer.

    - no answer: awaiting;
    - a reconciliation stands while the answers given since agree with it; one that
      differs asks for a new reconciliation (the previous one still shows meanwhile);
    - otherwise agreeing answers retain the latest of them, disagreeing ones wait for the
      organisme porteur to reconcile them.
    """
    counted = considered(answers)
    if not counted:
        return Decision(MilestoneStatus.AWAITING)
    if retained is not None and retained.basis.reconciled:
        kept = answer_key(retained.answer)
        newer = [a for a in counted if a.created_at > retained.decided_at]
        if all(answer_key(a) == kept for a in newer):
            return Decision(MilestoneStatus.RETAINED)
        return Decision(MilestoneStatus.TO_RECONCILE)
    if disagree(answers):
        return Decision(MilestoneStatus.TO_RECONCILE)
    latest = max(counted, key=lambda a: a.id)
    basis = RetainedBasis.SINGLE if len(counted) == 1 else RetainedBasis.AGREED
    return Decision(MilestoneStatus.RETAINED, latest, basis)
