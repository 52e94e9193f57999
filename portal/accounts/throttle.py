"""Failed-login throttling shared by every worker: in the database, or Redis if configured."""

import time
from datetime import timedelta
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

    def clear(self, key: str) -> None:
        self.redis.delete(self._key(key))


@cache
def _redis_throttle(url: str) -> RedisThrottle:
    return RedisThrottle(url)


def backend() -> DatabaseThrottle | RedisThrottle:
    """The throttle backend chosen by configuration (``REDIS_URL``)."""
    url = current_app.config.get("REDIS_URL")
    return _redis_throttle(url) if url else DatabaseThrottle()


def account_key(email: str) -> str:
    return "account:" + email.strip().lower()


def ip_key(ip: str) -> str:
    return "ip:" + (ip or "unknown")


def is_blocked(email: str, ip: str) -> bool:
    """True when the account or the IP has used up its failed attempts in the window."""
    cfg = current_app.config
    window = cfg["LOGIN_WINDOW_SECONDS"]
    store = backend()
    return (
        store.count(account_key(email), window) >= cfg["LOGIN_MAX_PER_ACCOUNT"]
        or store.count(ip_key(ip), window) >= cfg["LOGIN_MAX_PER_IP"]
    )


def record_failure(email: str, ip: str) -> None:
    """Count one failed attempt against the account and the IP."""
    window = current_app.config["LOGIN_WINDOW_SECONDS"]
    store = backend()
    store.add(account_key(email), window)
    store.add(ip_key(ip), window)


def record_success(email: str) -> None:
    """A successful login clears the account's failures (the IP keeps its count)."""
    backend().clear(account_key(email))
