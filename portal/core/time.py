"""Time helpers: the database stores naive UTC datetimes everywhere."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Current UTC time, naive, as stored in the database."""
    return datetime.now(UTC).replace(tzinfo=None)
