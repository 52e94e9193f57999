"""Issue #11 (security review): the session key, the portal's address and trusted hosts,
reverse proxies, and the headers of every response (portal/security.py)."""

import multiprocessing
import stat

import pytest
from sqlalchemy import select

from portal import ROOT, create_app
from portal.accounts import invitations, resets
from portal.accounts.models import LoginFailure, Organisation, User
from portal.audit.models import AuditEvent
from portal.core.urls import absolute_url
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.notifications.services import notify
from portal.security import PUBLISHED_SECRET_KEYS, instance_secret_key
from tests.support import CsrfClient, app_config

PUBLIC_URL = "http://portail.test"


@pytest.fixture
def build(database_url, monkeypatch, tmp_path):
    """Build apps on the test database, each in an instance folder of its own by default;
    their pools are closed after the test."""
    built = []

    def make(instance="instance", **extra):
        monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / instance))
        application = create_app(app_config(database_url, **extra))
        application.test_client_class = CsrfClient
        built.append(application)
        return application

    yield make
    for application in built:
        with application.app_context():
            db.engine.dispose()


def outbox_bodies(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage.body).order_by(OutboxMessage.id)))


# --- H1: links from PUBLIC_URL, unknown hosts refused -----------------------------------------


def test_a_forged_host_is_refused_and_mails_nothing(app, client, world, monkeypatch):
    """Issue #11 H1: a forged Host on « mot de passe oublié » mailed the real user a reset
    link to the attacker's site."""
    # The attacker's own session gives a valid token: only the host check may refuse.
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    response = client.post(
        "/mot-de-passe-oublie",
        data={"email": world.emails["a_member"]},
        headers={"Host": "attaquant.example"},
    )
    assert response.status_code == 400
    assert "le portail ne répond pas à cette adresse" in response.get_data(as_text=True)
    assert outbox_bodies(app) == []


def test_reset_links_use_public_url_whatever_the_host(app, world):
    """Issue #11 H1: links in e-mails come from PUBLIC_URL, not from the request's Host."""
    # A trusted local host, but not the public address (tests: http://portail.test).
    with app.test_request_context(base_url="http://127.0.0.1:8000"):
        resets.request_password_reset(world.emails["a_member"])
        invitations.invite(
            "nouvelle@example.fr",
            db.session.get(Organisation, world.of_a),
            by=db.session.get(User, world.a_admin),
        )
        db.session.commit()
    reset, invitation = outbox_bodies(app)
    assert f"{PUBLIC_URL}/mot-de-passe/" in reset
    assert f"{PUBLIC_URL}/invitation/" in invitation
    assert "127.0.0.1" not in reset + invitation


def test_notification_links_are_paths_and_their_mails_use_public_url(app, world):
    """Issue #11 H1: a notification's e-mail links to PUBLIC_URL; its in-app link is a path."""
    with app.test_request_context(base_url="http://localhost:5000"):
        user = db.session.get(User, world.a_admin)
        [note] = notify(
            [user],
            kind="test",
            message="Un besoin à examiner",
            endpoint="operations.show_operation",
            email_subject="Besoin",
            operation_id=7,
        )
        assert note.link == "/operations/7"
        db.session.commit()
    [body] = outbox_bodies(app)
    assert f"{PUBLIC_URL}/operations/7" in body and "localhost" not in body


def test_links_keep_the_path_of_public_url(build):
    """Issue #11 H1: a portal served under a path prefix links under that prefix."""
    application = build(PUBLIC_URL="https://region.example.fr/defi/")
    with application.app_context():
        assert absolute_url("accounts.login") == "https://region.example.fr/defi/connexion"
    assert application.config["TRUSTED_HOSTS"] == ["region.example.fr", "localhost", "127.0.0.1"]


def test_production_trusts_only_the_public_host(build):
    """Issue #11 H1: in production the local names are not trusted either."""
    application = build(
        PORTAL_ENV="production", PUBLIC_URL="https://portail.example.fr", TRUSTED_HOSTS=["lb"]
    )
    assert application.config["TRUSTED_HOSTS"] == ["portail.example.fr", "lb"]
    client = application.test_client()
    assert client.get("/healthz", base_url="https://portail.example.fr").status_code == 200
    assert client.get("/healthz", base_url="https://lb").status_code == 200
    assert client.get("/healthz", base_url="http://localhost").status_code == 400


@pytest.mark.parametrize(
    ("public_url", "message"),
    [(None, "needs PUBLIC_URL"), ("", "needs PUBLIC_URL"), ("http://portail.example.fr", "https")],
)
def test_production_refuses_to_start_without_an_https_public_url(build, public_url, message):
    """Issue #11 H1: PUBLIC_URL is required in production, refused at start if missing."""
    with pytest.raises(RuntimeError, match=message):
        build(PORTAL_ENV="production", PUBLIC_URL=public_url)


def test_a_public_url_must_be_an_address(build):
    with pytest.raises(RuntimeError, match="PUBLIC_URL"):
        build(PUBLIC_URL="portail.example.fr")


# --- H2: no public secret key, a key of its own per installation ------------------------------


@pytest.mark.parametrize("env", ["development", "test", "production"])
def test_the_published_secret_key_is_refused_everywhere(build, env):
    """Issue #11 H2: the key shipped with the code let anyone forge a Région admin session
    on a staging or demo server."""
    [published] = PUBLISHED_SECRET_KEYS
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        build(PORTAL_ENV=env, SECRET_KEY=published, PUBLIC_URL="https://portail.example.fr")


def test_without_secret_key_each_installation_makes_and_keeps_its_own(build, tmp_path):
    """Issue #11 H2: without SECRET_KEY a random key is made on first start, kept in
    instance/ (mode 0600), the same at the next start, another on another installation."""
    first = build(SECRET_KEY=None)
    key_file = tmp_path / "instance" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(first.config["SECRET_KEY"]) >= 64
    assert build(SECRET_KEY=None).config["SECRET_KEY"] == first.config["SECRET_KEY"]
    other = build("other-instance", SECRET_KEY=None)
    assert other.config["SECRET_KEY"] != first.config["SECRET_KEY"]


def test_an_unusable_key_file_is_reported(tmp_path):
    (tmp_path / "secret_key").write_text("")
    with pytest.raises(RuntimeError, match="no usable key"):
        instance_secret_key(tmp_path)


def _key_after_barrier(folder, barrier, results) -> None:
    """A child process: wait for the others, then read or make the key."""
    barrier.wait()
    results.put(instance_secret_key(folder))


def test_workers_starting_at_once_end_with_the_same_key(tmp_path):
    """Issue #11 H2: two gunicorn workers starting at once must share one key."""
    processes = 4
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    barrier, results = context.Barrier(processes, timeout=120), context.Queue()
    children = [
        context.Process(target=_key_after_barrier, args=(tmp_path, barrier, results))
        for _ in range(processes)
    ]
    for child in children:
        child.start()
    keys = [results.get(timeout=180) for _ in children]
    for child in children:
        child.join(timeout=30)
    assert [child.exitcode for child in children] == [0] * processes
    assert len(set(keys)) == 1
    assert keys[0] == (tmp_path / "secret_key").read_text().strip()
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no temporary file left


# --- H3: client address behind a reverse proxy ------------------------------------------------


def failed_login(client, email: str, forwarded_for: str):
    return client.post(
        "/connexion",
        data={"email": email, "password": "pas le bon mot de passe"},
        headers={"X-Forwarded-For": forwarded_for},
    )


def login_traces(app, email: str) -> tuple[list[str], set[str]]:
    """The IPs of the audited failed logins of ``email``, and the throttle's keys."""
    with app.app_context():
        ips = db.session.scalars(
            select(AuditEvent.ip).where(AuditEvent.action == "login.failed").order_by(AuditEvent.id)
        ).all()
        keys = set(db.session.scalars(select(LoginFailure.key)))
    return list(ips), keys


def test_without_trusted_proxies_x_forwarded_for_is_ignored(app, client, world):
    """Issue #11 H3: with TRUSTED_PROXIES=0 (the default) a client cannot pick its IP."""
    assert app.config["TRUSTED_PROXIES"] == 0
    email = world.emails["a_member"]
    assert failed_login(client, email, "203.0.113.7").status_code == 422
    ips, keys = login_traces(app, email)
    assert ips == ["127.0.0.1"]
    assert "ip:127.0.0.1" in keys and not any("203.0.113.7" in key for key in keys)


def test_one_trusted_proxy_gives_the_client_address(build, world):
    """Issue #11 H3: with TRUSTED_PROXIES=1 the address the proxy adds is the client's, for
    the login throttle and the audit trail; what the client itself sent before is not."""
    application = build(TRUSTED_PROXIES=1)
    client = application.test_client()
    email = world.emails["a_member"]
    failed_login(client, email, "198.51.100.66, 203.0.113.7")  # a client's forgery, then ours
    ips, keys = login_traces(application, email)
    assert ips == ["203.0.113.7"]
    assert "ip:203.0.113.7" in keys and not any("198.51.100.66" in key for key in keys)
    assert not any("127.0.0.1" in key for key in keys)


def test_a_negative_proxy_count_is_refused(build):
    with pytest.raises(RuntimeError, match="TRUSTED_PROXIES"):
        build(TRUSTED_PROXIES=-1)


# --- Headers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/connexion", "/healthz", "/introuvable", "/static/css/app.css"])
def test_every_response_limits_browser_features_and_isolates_its_window(client, url):
    """Issue #11: Permissions-Policy and Cross-Origin-Opener-Policy on every response."""
    with client.get(url) as response:
        policy = response.headers["Permissions-Policy"]
        for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
            assert f"{feature}=()" in policy
        assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_the_public_verification_page_is_never_stored(client):
    """Issue #11: what a visitor checked on /verification stays out of every cache."""
    for response in (client.get("/verification/"), client.post("/verification/", data={})):
        assert response.headers["Cache-Control"] == "no-store"


def test_a_forged_host_on_a_page_is_a_french_400(client, world):
    """Issue #11 H1: the refusal is the portal's French error page, with its headers."""
    login_page = client.get("/connexion", headers={"Host": "attaquant.example"})
    assert login_page.status_code == 400
    assert "Requête incorrecte" in login_page.get_data(as_text=True)
    assert login_page.headers["X-Frame-Options"] == "DENY"


def test_the_readme_tells_an_administrator_what_to_configure():
    """Issue #11 H3: TRUSTED_PROXIES (and the rest of production's settings) documented."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    security = readme[readme.index("## Sécurité") :]
    for name in ("SECRET_KEY", "PUBLIC_URL", "TRUSTED_PROXIES"):
        assert f"| `{name}` |" in readme, name  # a row of the configuration table
        assert f"`{name}`" in security, name
    assert "--logger-class portal.gunicorn_logging.RedactingLogger" in readme
