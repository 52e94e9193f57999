"""The tests' own clock: ``date.today()`` in a test is the portal's "today" (Paris), every
hour of the day. Without tests/conftest.py's time zone, the tests that build a meeting held
"today" or an immersion starting "in three days" failed between 23:00 and midnight UTC."""

from datetime import date, datetime

from portal.core.time import utcnow
from portal.immersions import rules as immersions
from portal.steering.rules import paris


def test_the_tests_today_is_the_portals_today(ctx):
    assert date.today() == immersions.today()
    assert datetime.now().date() == paris(utcnow()).date()
