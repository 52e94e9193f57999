"""Time helpers: the database stores naive UTC datetimes everywhere."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """Current UTC time, naive, as stored in the database."""
    return datetime.now(UTC).replace(tzinfo=None)


PARIS = ZoneInfo("Europe/Paris")  # the portal's calendar: every area's « today »


def paris_today() -> date:
    """Today on the French calendar (due dates, meetings, immersions are Paris days)."""
    return datetime.now(PARIS).date()


def paris_day(moment: datetime) -> date:
    """The Paris calendar day of a stored (naive UTC) moment: due dates, meetings and
    immersions are French days, and between 22:00/23:00 and midnight UTC the UTC date is
    the day before."""
    return moment.replace(tzinfo=UTC).astimezone(PARIS).date()
