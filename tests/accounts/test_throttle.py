"""Failed-login counters: the database and Redis backends behave alike, across workers.

Redis is required: when the server at 127.0.0.1:6379 is unreachable these tests fail
(they are not skipped), so a CI without Redis cannot pass silently.
"""

import time
import uuid
from datetime import timedelta

import pytest
import redis
from sqlalchemy import func, select

from portal import create_app
from portal.accounts import services, throttle
from portal.accounts.models import LoginFailure
from portal.core.errors import RuleError
from portal.core.time import utcnow
from portal.extensions import db
from tests.factories import make_org, make_user
from tests.support import PASSWORD, app_config

REDIS_URL = "redis://127.0.0.1:6379/15"
WINDOW = 60


@pytest.fixture
def redis_url():
    """Redis database 15, checked to answer (a ``ConnectionError`` fails the test)."""
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        client.ping()
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture(params=["database", "redis"])
def store(request, ctx):
    """Each backend in turn, inside an application context."""
    if request.param == "database":
        yield throttle.DatabaseThrottle()
        return
    backend = throttle.RedisThrottle(request.getfixturevalue("redis_url"))
    yield backend
    backend.redis.close()


@pytest.fixture
def keys(store):
    """Keys unique to this test; removed from the store afterwards."""
    made = []

    def make() -> str:
        made.append(f"test:{uuid.uuid4().hex}")
        return made[-1]

    yield make
    for key in made:
        store.clear(key)


def age(store, key: str, seconds: float) -> None:
    """Make every failure recorded under ``key`` look ``seconds`` older."""
    if isinstance(store, throttle.DatabaseThrottle):
        for failure in db.session.scalars(select(LoginFailure).where(LoginFailure.key == key)):
            failure.at -= timedelta(seconds=seconds)
        db.session.flush()
    else:
        name = store._key(key)
        for member, score in store.redis.zrange(name, 0, -1, withscores=True):
            store.redis.zadd(name, {member: score - seconds})


def test_count_add_and_clear(store, keys):
    key, other = keys(), keys()
    assert store.count(key, WINDOW) == 0
    for _ in range(3):
        store.add(key, WINDOW)
    store.add(other, WINDOW)
    assert store.count(key, WINDOW) == 3
    assert store.count(other, WINDOW) == 1
    store.clear(key)
    assert store.count(key, WINDOW) == 0
    assert store.count(other, WINDOW) == 1
    store.clear(keys())  # clearing an unknown key is harmless


def test_failures_older_than_the_window_no_longer_count(store, keys):
    key = keys()
    store.add(key, WINDOW)
    age(store, key, WINDOW + 1)
    store.add(key, WINDOW)
    assert store.count(key, WINDOW) == 1
    assert store.count(key, 3 * WINDOW) in (1, 2)  # the old one may already be forgotten
    age(store, key, WINDOW + 1)
    assert store.count(key, WINDOW) == 0


def test_last_gives_the_latest_failure_in_the_window(store, keys):
    key = keys()
    assert store.last(key, WINDOW) is None
    store.add(key, WINDOW)
    age(store, key, 10)
    store.add(key, WINDOW)
    assert abs(store.last(key, WINDOW) - time.time()) < 2
    age(store, key, WINDOW + 1)
    assert store.last(key, WINDOW) is None


def test_database_forgets_old_failures_when_adding(ctx):
    store = throttle.DatabaseThrottle()
    key = f"test:{uuid.uuid4().hex}"
    db.session.add(LoginFailure(key=key, at=utcnow() - timedelta(seconds=WINDOW + 1)))
    db.session.add(LoginFailure(key="someone-else", at=utcnow() - timedelta(days=1)))
    db.session.flush()
    store.add(key, WINDOW)
    rows = db.session.scalar(select(func.count()).where(LoginFailure.key == key))
    assert rows == 1
    # Failures older than the window are purged for every key, so e-mails that are never
    # tried again do not leave rows behind forever.
    assert store.count("someone-else", 2 * 86400) == 0


def test_redis_failures_expire_with_a_one_second_window(redis_url):
    store = throttle.RedisThrottle(redis_url)
    key = f"test:{uuid.uuid4().hex}"
    try:
        store.add(key, 1)
        store.add(key, 1)
        assert store.count(key, 1) == 2
        assert 0 < store.redis.pttl(store._key(key)) <= 1000
        time.sleep(1.1)
        assert store.count(key, 1) == 0
        assert store.redis.exists(store._key(key)) == 0
    finally:
        store.clear(key)
        store.redis.close()


def test_backend_follows_the_configuration(app, ctx, monkeypatch, redis_url):
    assert isinstance(throttle.backend(), throttle.DatabaseThrottle)
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    assert isinstance(throttle.backend(), throttle.RedisThrottle)


# --- Two workers ---------------------------------------------------------------------------


@pytest.fixture
def workers(database_url):
    """Build apps on the same database, like gunicorn workers; their pools closed after."""
    built = []

    def build(**extra):
        application = create_app(app_config(database_url, **extra))
        built.append(application)
        return application

    yield build
    for application in built:
        with application.app_context():
            db.engine.dispose()


BACKENDS = {"database": throttle.DatabaseThrottle, "redis": throttle.RedisThrottle}


@pytest.fixture(params=list(BACKENDS))
def two_workers(request, workers):
    """Two apps on the shared database and the chosen backend, plus a fresh e-mail and IP."""
    extra = {"REDIS_URL": request.getfixturevalue("redis_url")} if request.param == "redis" else {}
    worker_a, worker_b = workers(**extra), workers(**extra)
    email = f"{uuid.uuid4().hex[:12]}@example.fr"
    ip = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"
    with worker_a.app_context():
        assert type(throttle.backend()) is BACKENDS[request.param]
        make_user(make_org(), email=email)
        db.session.commit()
    yield worker_a, worker_b, email, {"REMOTE_ADDR": ip}
    with worker_b.app_context():  # Redis keeps its keys between tests: remove ours
        store = throttle.backend()
        for key in (throttle.account_key(email), throttle.pair_key(email, ip), throttle.ip_key(ip)):
            store.clear(key)
        db.session.commit()


def test_failures_in_one_worker_block_the_login_in_another(two_workers, throttle_clock):
    """Issue #11 L12, on both backends: locked from the failing IP, slowed from elsewhere.

    The throttle's clock then stands at the last failure, so the one-second slowdown cannot
    run out before the checks (Redis keys its failures by the time: the clock must run
    while they are made)."""
    worker_a, worker_b, email, environ = two_workers
    limit = worker_a.config["LOGIN_MAX_PER_ACCOUNT_IP"]
    for _ in range(limit):
        with worker_a.test_request_context(environ_base=environ):
            with pytest.raises(RuleError, match="mot de passe incorrect"):
                services.authenticate(email, "pas le bon mot de passe")
            db.session.commit()  # as the login view does
    with worker_b.app_context():
        throttle_clock.at_last_failure(email)
    with (
        worker_b.test_request_context(environ_base=environ),
        pytest.raises(RuleError, match="Trop de tentatives de connexion infructueuses"),
    ):
        services.authenticate(email, PASSWORD)
    other_ip = {"REMOTE_ADDR": "192.0.2.1"}
    with (
        worker_b.test_request_context(environ_base=other_ip),
        pytest.raises(RuleError, match="Trop de tentatives pour ce compte : réessayez dans"),
    ):
        services.authenticate(email, PASSWORD)


def test_a_success_in_one_worker_clears_the_count_for_the_other(two_workers):
    worker_a, worker_b, email, environ = two_workers
    limit = worker_a.config["LOGIN_MAX_PER_ACCOUNT_IP"]
    with worker_a.test_request_context(environ_base=environ):
        for _ in range(limit - 1):
            with pytest.raises(RuleError):
                services.authenticate(email, "pas le bon mot de passe")
        db.session.commit()
    with worker_b.test_request_context(environ_base=environ):
        assert services.authenticate(email, PASSWORD).email == email
        db.session.commit()
    with worker_a.app_context():
        assert throttle.backend().count(throttle.account_key(email), 900) == 0
