"""Reminders of the committee's action items (run by ``flask reminders send``).

The owner — the named person, else the owner organisation's members — is reminded by
e-mail and in the portal once when the due date comes near (``STEERING_ACTION_REMINDER_DAYS``
before it), then, once it is past, again every ``STEERING_ACTION_REMINDER_COOLDOWN_DAYS``
until the item is marked done. Running the command more often sends nothing twice.
"""

from datetime import datetime, timedelta

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from portal.core.time import paris_day, utcnow
from portal.extensions import db
from portal.notifications.services import notify, organisation_members
from portal.operations.models import Operation, Status
from portal.steering import rules
from portal.steering.models import (
    MeetingStatus,
    SteeringAction,
    SteeringCommittee,
    SteeringMeeting,
)


def _candidates(condition) -> list[SteeringAction]:
    return list(
        db.session.scalars(
            select(SteeringAction)
            .join(SteeringMeeting, SteeringMeeting.id == SteeringAction.meeting_id)
            .join(SteeringCommittee, SteeringCommittee.id == SteeringMeeting.committee_id)
            .join(Operation, Operation.id == SteeringCommittee.operation_id)
            .where(
                condition,
                SteeringAction.done_at.is_(None),
                SteeringMeeting.status == MeetingStatus.PLANNED,
                Operation.status.not_in((Status.CLOSED, Status.CANCELLED)),
            )
            .options(
                selectinload(SteeringAction.meeting)
                .selectinload(SteeringMeeting.committee)
                .selectinload(SteeringCommittee.operation),
                selectinload(SteeringAction.owner_user),
            )
            .order_by(SteeringAction.due_on, SteeringAction.id)
        )
    )


def _remind(action: SteeringAction, *, late: bool) -> None:
    operation = action.meeting.committee.operation
    values = {"t": action.title, "o": operation.title, "d": format_date(action.due_on, "d MMMM y")}
    if late:
        subject = _("Action en retard — comité de pilotage — %(o)s", **values)
        message = _(
            "L'action « %(t)s » décidée par le comité de pilotage de l'opération « %(o)s » "
            "devait être faite le %(d)s. Une fois faite, marquez-la comme telle dans le portail.",
            **values,
        )
    else:
        subject = _("Action à faire — comité de pilotage — %(o)s", **values)
        message = _(
            "L'action « %(t)s » décidée par le comité de pilotage de l'opération « %(o)s » "
            "est à faire d'ici le %(d)s.",
            **values,
        )
    people = [action.owner_user] if action.owner_user else organisation_members(action.owner_org_id)
    notify(
        people,
        kind="steering_action_late" if late else "steering_action_due",
        message=message,
        endpoint="steering.show_meeting",
        operation=operation,
        email_subject=subject,
        operation_id=operation.id,
        meeting_id=action.meeting_id,
    )


def send_due_reminders(now: datetime | None = None) -> int:
    """Send the action items' reminders that are due; returns how many items were reminded.
    Flushes; the caller commits."""
    today = rules.today() if now is None else paris_day(now)
    now = now or utcnow()
    due = _candidates(
        and_(
            SteeringAction.reminded_at.is_(None),
            SteeringAction.due_on >= today,
            SteeringAction.due_on <= today + timedelta(days=rules.reminder_days()),
        )
    )
    cooled = now - timedelta(days=rules.cooldown_days())
    late = _candidates(
        and_(
            SteeringAction.due_on < today,
            or_(
                SteeringAction.overdue_reminded_at.is_(None),
                SteeringAction.overdue_reminded_at <= cooled,
            ),
        )
    )
    for action in due:
        _remind(action, late=False)
        action.reminded_at = now
    for action in late:
        _remind(action, late=True)
        action.overdue_reminded_at = now
    db.session.flush()
    return len(due) + len(late)
