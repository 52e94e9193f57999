"""Failed-login throttling shared by every worker: in the database, or Redis if configured.

Three counters per failure: the account, the (account, IP) pair and the IP. Only the pair
and the IP lock (refuse every attempt for the window); the account alone slows down, with
a delay that grows with its failures. A stranger who knows someone's address can slow
their login down, never lock them out, and never stops a logged-in person from signing.

The second step of a login (a TOTP or recovery code, ``portal/accounts/mfa.py``) is
throttled the same way under counters of its own (``factor=SECOND_FACTOR``): the right
password clears the password's failures, never the code's.
"""

import math
import time
from dataclasses import dataclass
from datetime import UTC, timedelta
from functools import cache

import redis
from flask import current_app
from sqlalchemy import delete, func, select

from portal.accounts.models import LoginFailure
from portal.core.time import utcnow
from portal.extensions import db


class DatabaseThrottle:
    """Counts failures in the ``login_failures`` table (works with any worker count)."""

    def count(self, key: str, window: int) -> int:
        since = utcnow() - timedelta(seconds=window)
        return db.session.scalar(
            select(func.count()).where(LoginFailure.key == key, LoginFailure.at > since)
        )

    def add(self, key: str, window: int) -> None:
        # Forget what is older than the window so the table stays small.
        since = utcnow() - timedelta(seconds=window)
        db.session.execute(delete(LoginFailure).where(LoginFailure.at <= since))
        db.session.add(LoginFailure(key=key))
        db.session.flush()

    def last(self, key: str, window: int) -> float | None:
        """When the latest failure under ``key`` in the window happened (epoch seconds)."""
        since = utcnow() - timedelta(seconds=window)
        at = db.session.scalar(
            select(func.max(LoginFailure.at)).where(
                LoginFailure.key == key, LoginFailure.at > since
            )
        )
        return at.replace(tzinfo=UTC).timestamp() if at is not None else None

    def clear(self, key: str) -> None:
        db.session.execute(delete(LoginFailure).where(LoginFailure.key == key))


class RedisThrottle:
    """A sorted set of failure timestamps per key, expiring with the window."""

    def __init__(self, url: str):
        self.redis = redis.Redis.from_url(url, socket_timeout=2)

    def _key(self, key: str) -> str:
        return "portail-defi:login-failures:" + key

    def count(self, key: str, window: int) -> int:
        now = time.time()
        self.redis.zremrangebyscore(self._key(key), 0, now - window)
        return int(self.redis.zcard(self._key(key)))

    def add(self, key: str, window: int) -> None:
        now = time.time()
        pipe = self.redis.pipeline()
        pipe.zadd(self._key(key), {f"{now:.6f}": now})
        pipe.expire(self._key(key), window)
        pipe.execute()

    def last(self, key: str, window: int) -> float | None:
        """When the latest failure under ``key`` in the window happened (epoch seconds)."""
        latest = self.redis.zrevrange(self._key(key), 0, 0, withscores=True)
        return latest[0][1] if latest and latest[0][1] > time.time() - window else None

    def clear(self, key: str) -> None:
        self.redis.delete(self._key(key))


@cache
def _redis_throttle(url: str) -> RedisThrottle:
    return RedisThrottle(url)


def backend() -> DatabaseThrottle | RedisThrottle:
    """The throttle backend chosen by configuration (``REDIS_URL``)."""
    url = current_app.config.get("REDIS_URL")
    return _redis_throttle(url) if url else DatabaseThrottle()


SECOND_FACTOR = "mfa-"


def account_key(email: str, factor: str = "") -> str:
    return f"{factor}account:" + email.strip().lower()


def pair_key(email: str, ip: str, factor: str = "") -> str:
    return f"{factor}account-ip:{email.strip().lower()}|{ip or 'unknown'}"


def ip_key(ip: str, factor: str = "") -> str:
    return f"{factor}ip:" + (ip or "unknown")


@dataclass(frozen=True)
class Verdict:
    """Whether a password may be checked now.

    ``locked``: this IP used up its attempts, for this account or for all accounts, in the
    window. ``wait``: the account as a whole is slowed down, retry in that many seconds.
    """

    locked: bool = False
    wait: int = 0

    @property
    def allowed(self) -> bool:
        return not self.locked and not self.wait


def login_verdict(email: str, ip: str, factor: str = "") -> Verdict:
    """May a login (or any password check of a stranger) for ``email`` from ``ip`` go on?

    Failures lock the (account, IP) pair and the IP; failures from everywhere only slow
    the account down, so a stranger who knows an address cannot lock its owner out.
    """
    if reauthentication_locked(email, ip, factor):
        return Verdict(locked=True)
    cfg = current_app.config
    failures = backend().count(ip_key(ip, factor), cfg["LOGIN_WINDOW_SECONDS"])
    if failures >= cfg["LOGIN_MAX_PER_IP"]:
        return Verdict(locked=True)
    return Verdict(wait=account_wait(email, factor))


def reauthentication_locked(email: str, ip: str, factor: str = "") -> bool:
    """A logged-in user confirming their password (to sign, to change it): only the failures
    made on this account from this IP count, never those of others elsewhere."""
    cfg = current_app.config
    failures = backend().count(pair_key(email, ip, factor), cfg["LOGIN_WINDOW_SECONDS"])
    return failures >= cfg["LOGIN_MAX_PER_ACCOUNT_IP"]


def account_wait(email: str, factor: str = "") -> int:
    """Seconds before the account's password may be tried again: none for the first
    ``LOGIN_SLOWDOWN_AFTER`` failures in the window, then 1, 2, 4… seconds after the last
    failure, at most ``LOGIN_MAX_DELAY_SECONDS``."""
    cfg = current_app.config
    window, store, key = cfg["LOGIN_WINDOW_SECONDS"], backend(), account_key(email, factor)
    extra = store.count(key, window) - cfg["LOGIN_SLOWDOWN_AFTER"]
    if extra < 0:
        return 0
    delay = min(2**extra, cfg["LOGIN_MAX_DELAY_SECONDS"])
    last = store.last(key, window)
    return max(0, math.ceil(last + delay - time.time())) if last is not None else 0


def record_failure(email: str, ip: str, factor: str = "") -> None:
    """Count one wrong password (or code) against the account, the (account, IP) pair and
    the IP."""
    window = current_app.config["LOGIN_WINDOW_SECONDS"]
    store = backend()
    for key in (account_key(email, factor), pair_key(email, ip, factor), ip_key(ip, factor)):
        store.add(key, window)


def record_success(email: str, ip: str, factor: str = "") -> None:
    """The right password (or code) clears the account's failures and this IP's on it (the
    IP keeps its count for other accounts)."""
    store = backend()
    store.clear(account_key(email, factor))
    store.clear(pair_key(email, ip, factor))


def _reset_keys(email: str, ip: str) -> tuple[str, str]:
    return "reset-email:" + email.strip().lower(), "reset-ip:" + (ip or "unknown")


def reset_requests(email: str, ip: str) -> tuple[int, int]:
    """« Mot de passe oublié » requests in the window: for this address, and from this IP."""
    window, store = current_app.config["LOGIN_WINDOW_SECONDS"], backend()
    return tuple(store.count(key, window) for key in _reset_keys(email, ip))


def count_reset_request(email: str, ip: str) -> None:
    """Count one « mot de passe oublié » request for the address and the IP."""
    window, store = current_app.config["LOGIN_WINDOW_SECONDS"], backend()
    for key in _reset_keys(email, ip):
        store.add(key, window)
