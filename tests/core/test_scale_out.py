"""Scale-out (issue #16): two app instances — two gunicorn hosts — on one database (the
run's: PostgreSQL with TEST_DATABASE_URL, else the same SQLite file) and, for the login
throttle, one Redis. What one host learns, the other knows: a session ended through one
is refused through the other, failed logins counted through one lock through the other,
a co-design presence recorded through one is shown through the other. None of it is
held in a process (README, « Déploiement en production »)."""

import re
import secrets

import pytest

from portal.accounts import throttle, user_sessions
from portal.design.start import start_design
from portal.extensions import db
from portal.operations.models import Operation, Status
from tests.operations.factories import EMPLOYER, OF_A, build_market, report, set_status
from tests.support import (
    HTMX,
    CsrfClient,
    another_app,
    committed,
    login_as,
    org_named,
    require_redis,
    user_with,
)


@pytest.fixture(params=["database", "redis"])
def hosts(request, app, database_url, monkeypatch):
    """The test's app and a second instance on the same database; with ``redis``, both
    on the tests' Redis (the throttle's backend then)."""
    extra = {}
    if request.param == "redis":
        extra["REDIS_URL"] = require_redis()
        monkeypatch.setitem(app.config, "REDIS_URL", extra["REDIS_URL"])
    with another_app(database_url, **extra) as other:
        yield app, other


def second_client(first, other):
    """A client of the other host carrying the first client's session cookie."""
    other.test_client_class = CsrfClient
    client = other.test_client()
    name = other.config["SESSION_COOKIE_NAME"]
    cookie = first.get_cookie(name)
    client.set_cookie(name, cookie.value, domain=cookie.domain)
    return client


def test_a_session_ended_through_one_host_is_refused_through_the_other(hosts, client):
    one, other = hosts
    build_market(one)
    login_as(client, OF_A)
    through_other = second_client(client, other)
    assert client.get("/compte").status_code == 200
    assert through_other.get("/compte").status_code == 200
    with other.app_context():
        user_sessions.end_all(user_with(OF_A), "revoked")
        db.session.commit()
    for host in (client, through_other):
        refused = host.get("/compte")
        assert refused.status_code == 302 and "/connexion" in refused.headers["Location"]


def test_failed_logins_counted_through_one_host_lock_through_the_other(hosts):
    one, other = hosts
    email, ip = f"{secrets.token_hex(6)}@example.org", "198.51.100.23"
    try:
        with one.test_request_context("/"):
            assert throttle.login_verdict(email, ip).allowed
            for _attempt in range(one.config["LOGIN_MAX_PER_ACCOUNT_IP"]):
                throttle.record_failure(email, ip)
            db.session.commit()  # as the login view does (the database backend's rows)
        with other.test_request_context("/"):
            assert throttle.reauthentication_locked(email, ip)
            assert not throttle.login_verdict(email, ip).allowed
    finally:
        with one.test_request_context("/"):
            backend = throttle.backend()
            for key in (throttle.account_key(email), throttle.pair_key(email, ip)):
                backend.clear(key)
            backend.clear(throttle.ip_key(ip))
            db.session.commit()


def test_a_presence_recorded_through_one_host_is_shown_through_the_other(
    hosts, app, client, other_client
):
    one, other = hosts
    build_market(app)
    operation_id = report(app)
    set_status(app, operation_id, Status.CO_DESIGN)
    with committed(app):
        operation = db.session.get(Operation, operation_id)
        start_design(operation, by=user_with(OF_A), org=org_named("Organisme A"))
    login_as(client, OF_A)
    login_as(other_client, EMPLOYER)
    employer_on_other = second_client(other_client, other)
    state = f"/operations/{operation_id}/conception/etat"
    data = {"token": "", "versions": "", "seen": "", "editing": "skills"}
    assert employer_on_other.post(state, data=data, headers=HTMX).status_code == 200
    seen = client.post(state, data={**data, "editing": ""}, headers=HTMX)
    presence = re.search(r'<div id="presence"[^>]*>(.*?)</div>', seen.get_data(as_text=True), re.S)
    assert presence and "(Entreprise E)" in presence.group(1)
