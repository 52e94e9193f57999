"""The tests' own clock: ``date.today()`` in a test is the portal's "today" (Paris), every
hour of the day. Without tests/conftest.py's time zone, the tests that build a meeting held
"today" or an immersion starting "in three days" failed between 23:00 and midnight UTC."""

from datetime import date, datetime

from portal.core.time import paris_day, utcnow
from portal.immersions import rules as immersions
from portal.steering.rules import paris


def test_the_tests_today_is_the_portals_today(ctx):
    assert date.today() == immersions.today()
    assert datetime.now().date() == paris(utcnow()).date()


def test_a_stored_moment_falls_on_its_paris_day():
    """Reminders take « today » from the moment they are given as the Paris day (they took
    the UTC date: in the last hour(s) before midnight UTC an overdue follow-up was a day less
    late and its reminder waited a day)."""
    assert paris_day(datetime(2026, 12, 6, 22, 59)) == date(2026, 12, 6)
    assert paris_day(datetime(2026, 12, 6, 23, 0)) == date(2026, 12, 7)  # winter: UTC+1
    assert paris_day(datetime(2026, 7, 6, 22, 0)) == date(2026, 7, 7)  # summer: UTC+2
