"""Rules of the steering committee, without the database: who convenes and who approves,
when a meeting takes attendance and minutes, where an action item stands, and the
reminders' timing. French messages; pure functions of what they are given."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.core.enums import TitledEnum, titled
from portal.core.errors import RuleError
from portal.core.time import PARIS, paris_today, utcnow
from portal.steering.models import SteeringAction, SteeringMeeting

TITLE_MAX = 200
TEXT_MAX = 4000
MEETING_HOURS_MAX = 12  # a committee meets for a morning, an afternoon or a day


def today() -> date:
    """Today on the French calendar: due dates are Paris days."""
    return paris_today()


def reminder_days() -> int:
    """An open action item is reminded once this many days before its due date."""
    return int(current_app.config.get("STEERING_ACTION_REMINDER_DAYS", 3))


def cooldown_days() -> int:
    """A late action item is reminded again at most every this many days."""
    return int(current_app.config.get("STEERING_ACTION_REMINDER_COOLDOWN_DAYS", 7))


def paris(moment: datetime) -> datetime:
    """A stored (naive UTC) moment as Paris wall-clock time, aware."""
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(PARIS)


# --- Meetings -----------------------------------------------------------------------------


def check_schedule(starts_at: datetime, ends_at: datetime, *, now: datetime | None = None):
    """A meeting ends after it starts, within the day's hours, and is convened ahead."""
    now = now or utcnow()
    if ends_at <= starts_at:
        raise RuleError(_("La fin de la réunion doit suivre son début."), "ends_at")
    if ends_at - starts_at > timedelta(hours=MEETING_HOURS_MAX):
        raise RuleError(_("Une réunion dure au plus %(n)d heures.", n=MEETING_HOURS_MAX), "ends_at")
    if starts_at <= now:
        raise RuleError(_("Une réunion se convoque à une date à venir."), "starts_at")


def check_where(place: str, video_url: str) -> None:
    """A meeting is held somewhere: a place, a video link, or both."""
    if not place.strip() and not video_url.strip():
        raise RuleError(_("Indiquez un lieu ou un lien de visioconférence."), "place")


def check_changeable(meeting: SteeringMeeting, *, now: datetime | None = None) -> None:
    """Date, place and agenda change, or the meeting is cancelled, until it begins."""
    if meeting.is_cancelled:
        raise RuleError(_("Cette réunion est annulée."))
    if meeting.has_started(now):
        raise RuleError(_("La réunion a commencé : elle ne se modifie plus ni ne s'annule."))


def check_recording(meeting: SteeringMeeting, *, now: datetime | None = None) -> None:
    """Attendance, decisions and action items are recorded once the meeting began, until
    its minutes are approved."""
    if meeting.is_cancelled:
        raise RuleError(_("Cette réunion est annulée."))
    if not meeting.has_started(now):
        raise RuleError(_("La réunion n'a pas encore eu lieu."))
    if meeting.minutes_approved:
        raise RuleError(_("Le compte rendu est approuvé : la réunion ne se modifie plus."))


# --- Action items -------------------------------------------------------------------------


@titled(
    {
        "open": _l("À faire"),
        "due_soon": _l("Échéance proche"),
        "late": _l("En retard"),
        "done": _l("Faite"),
    }
)
class ActionState(TitledEnum):
    OPEN = "open"
    DUE_SOON = "due_soon"
    LATE = "late"
    DONE = "done"


def action_state(action: SteeringAction, on: date | None = None) -> ActionState:
    """Where an action item stands on ``on`` (today in Paris by default)."""
    if action.is_done:
        return ActionState.DONE
    on = on or today()
    if action.due_on < on:
        return ActionState.LATE
    if action.due_on <= on + timedelta(days=reminder_days()):
        return ActionState.DUE_SOON
    return ActionState.OPEN


def check_due_on(due_on: date, meeting: SteeringMeeting) -> None:
    """An action item falls due after the meeting that decided it, within two years."""
    held_on = paris(meeting.starts_at).date()
    if due_on < held_on:
        raise RuleError(_("L'échéance suit la date de la réunion."), "due_on")
    if due_on > held_on + timedelta(days=730):
        raise RuleError(_("L'échéance tombe dans les deux ans."), "due_on")


def cleaned(value: str, field: str, missing: str, limit: int = TEXT_MAX) -> str:
    """A required text, trimmed, within ``limit`` characters."""
    value = (value or "").strip()
    if not value:
        raise RuleError(missing, field)
    if len(value) > limit:
        raise RuleError(_("%(n)d caractères au plus.", n=limit), field)
    return value
