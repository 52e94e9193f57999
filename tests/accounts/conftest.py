"""Fixtures of the accounts tests."""

import time

import pytest
from flask import current_app

from portal.accounts import throttle


class StillClock:
    """The login throttle's clock: the real time until the test stops it (``stop``,
    ``at_last_failure``), then standing still at ``now``.

    Stop it once the failures are made: the Redis backend keys each failure by the time,
    so failures made under a clock standing still would count as one.

    The account's slowdown is 1, 2, 4… seconds after its last failure: a test that makes the
    failures and then expects a refusal must not depend on how long the failures took (on a
    slow machine, PostgreSQL in CI, they took longer than the first one-second wait and the
    right password went through)."""

    def __init__(self):
        self.now: float | None = None

    def time(self) -> float:
        return time.time() if self.now is None else self.now

    def stop(self) -> None:
        """Stand still from now on (before failures made on the database backend: the wait
        then lasts at least the whole delay, however long they take)."""
        self.now = time.time()

    def at_last_failure(self, email: str) -> None:
        """Stand at the instant of the account's latest failure in the throttle's window:
        the wait is then exactly the delay the rule gives."""
        window = current_app.config["LOGIN_WINDOW_SECONDS"]
        self.now = throttle.backend().last(throttle.account_key(email), window)


@pytest.fixture
def throttle_clock(monkeypatch):
    """The throttle reads this clock instead of ``time.time()`` (both backends)."""
    clock = StillClock()
    monkeypatch.setattr(throttle, "time", clock)
    return clock
