"""How long personal data is kept (the rules; ``purge.py`` applies them).

A trainee's data is kept until the follow-up in employment at 6 months (the milestone's
due date; without one, six months after the exit date), plus ``RETENTION_TRAINEE_MONTHS``
(default 24: the Région's control of the operation's funding). A candidate who never
entered training is kept ``RETENTION_TRAINEE_MONTHS`` after the last change of their
candidacy. While a trainee is in training without an exit date, nothing expires.

Access logs (trainees' access log, sessions, failed logins), sent e-mails and the audit
log's IP and user agent are kept ``ACCESS_LOG_RETENTION_MONTHS`` (default 12; the CNIL
recommends 6 months to 1 year for such logs).
"""

import calendar
from datetime import date, datetime

from flask import current_app
from sqlalchemy import select

from portal.extensions import db
from portal.followup.models import Milestone, MilestoneKind
from portal.recruitment.models import Trainee, TraineeStatus

ENTERED_TRAINING = frozenset(
    {TraineeStatus.IN_TRAINING, TraineeStatus.EXITED, TraineeStatus.CERTIFIED}
)


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` (negative: back), on the month's last day if shorter."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def six_month_due(trainee: Trainee) -> date | None:
    """The due date of ``trainee``'s follow-up at 6 months, when one was planned."""
    return db.session.scalar(
        select(Milestone.due_on).where(
            Milestone.trainee_id == trainee.id, Milestone.kind == MilestoneKind.M6
        )
    )


def six_month_dues() -> dict[int, date]:
    """Every trainee's 6-month follow-up due date, by trainee id (one query)."""
    rows = db.session.execute(
        select(Milestone.trainee_id, Milestone.due_on).where(Milestone.kind == MilestoneKind.M6)
    )
    return {trainee_id: due for trainee_id, due in rows}


def kept_until(trainee: Trainee, m6_due: date | None) -> date | None:
    """The last day ``trainee``'s data must be kept; None while nothing ends it yet (in
    training, or exited without an exit date nor a 6-month follow-up)."""
    months = current_app.config["RETENTION_TRAINEE_MONTHS"]
    if trainee.status not in ENTERED_TRAINING:
        return add_months(trainee.status_changed_at.date(), months)
    if m6_due is None and trainee.exit_date is not None:
        m6_due = add_months(trainee.exit_date, 6)
    if m6_due is None:
        return None
    return add_months(m6_due, months)


def access_log_cutoff(now: datetime) -> datetime:
    """Access log rows and audit IPs older than this are past their retention."""
    months = current_app.config["ACCESS_LOG_RETENTION_MONTHS"]
    return datetime.combine(add_months(now.date(), -months), now.time())
