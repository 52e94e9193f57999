"""« Mes sessions »: one row per login, listed to its owner only, ended one by one or all
the others; the idle timeout (polling is not activity) and the absolute lifetime."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from portal import htmx
from portal.accounts import user_sessions
from portal.accounts.devices import device
from portal.accounts.models import UserSession
from portal.audit.models import AuditEvent
from portal.core.time import utcnow
from portal.extensions import db
from tests.support import HTMX, flashes, form_login, login_as, text

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def rows_of(app, user_id: int) -> list[UserSession]:
    with app.app_context():
        rows = db.session.scalars(
            select(UserSession).where(UserSession.user_id == user_id).order_by(UserSession.id)
        ).all()
        db.session.expunge_all()
        return rows


def later(monkeypatch, **delta) -> None:
    """Move the sessions' clock forward (the rows were written at the real time)."""
    moved = utcnow() + timedelta(**delta)
    monkeypatch.setattr(user_sessions, "utcnow", lambda: moved)


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/connexion")


@pytest.mark.parametrize(
    ("agent", "said"),
    [
        (FIREFOX, "Firefox sur Windows"),
        (SAFARI_IPHONE, "Safari sur iPhone"),
        ("Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 Safari/537.36", "Chrome sur Linux"),
        ("Mozilla/5.0 (Windows NT 10.0) Chrome/126.0 Safari/537.36 Edg/126.0", "Edge sur Windows"),
        ("Mozilla/5.0 (Linux; Android 14) Chrome/126.0 Mobile Safari/537.36", "Chrome sur Android"),
        ("curl/8.5", "Appareil inconnu"),
        ("", "Appareil inconnu"),
    ],
)
def test_the_device_is_told_in_plain_words(app, agent, said):
    with app.test_request_context():
        assert device(agent) == said


def test_a_form_login_records_the_session_and_the_list_shows_it(app, client, world):
    client.environ_base["HTTP_USER_AGENT"] = FIREFOX
    assert form_login(client, world.emails["a_member"]).status_code == 302
    (row,) = rows_of(app, world.a_member)
    assert (row.ip, row.user_agent, row.ended_at) == ("127.0.0.1", FIREFOX, None)
    page = text(client.get("/compte/sessions"))
    assert "Firefox sur Windows" in page and "cette session" in page and "127.0.0.1" in page
    assert "Terminer toutes les autres" not in page  # nothing else to end
    assert "Voir mes sessions" in text(client.get("/compte"))


def test_the_list_shows_only_my_sessions(app, client, other_client, world):
    other_client.environ_base["HTTP_USER_AGENT"] = SAFARI_IPHONE
    login_as(other_client, world.a_admin)
    login_as(client, world.a_member)
    page = text(client.get("/compte/sessions"))
    assert "Safari sur iPhone" not in page
    assert page.count("<tr>") == 2  # the header and this session


def test_ending_another_persons_session_is_not_found(app, client, other_client, world):
    login_as(other_client, world.a_admin)
    (theirs,) = rows_of(app, world.a_admin)
    login_as(client, world.a_member)
    assert client.post(f"/compte/sessions/{theirs.id}/fin").status_code == 404
    assert client.post("/compte/sessions/999999/fin").status_code == 404
    assert rows_of(app, world.a_admin)[0].ended_at is None
    assert other_client.get("/").status_code == 200


def test_an_ended_session_is_refused_on_its_next_request(app, client, other_client, world):
    other_client.environ_base["HTTP_USER_AGENT"] = SAFARI_IPHONE
    login_as(other_client, world.a_member)
    login_as(client, world.a_member)
    first, _mine = rows_of(app, world.a_member)
    page = text(client.get("/compte/sessions"))
    assert "Safari sur iPhone" in page and "Terminer toutes les autres" in page
    response = client.post(f"/compte/sessions/{first.id}/fin")
    assert response.status_code == 303 and response.headers["Location"] == "/compte/sessions"
    assert client.get("/").status_code == 200  # this one goes on
    refused = other_client.get("/operations")
    assert is_login_redirect(refused) and "next=" in refused.headers["Location"]
    assert ("error", "Cette session a été terminée. Connectez-vous de nouveau pour continuer.") in (
        flashes(other_client)
    )
    assert is_login_redirect(other_client.get("/"))  # logged out for good
    with app.app_context():
        assert db.session.scalar(
            select(AuditEvent.id).where(AuditEvent.action == "sessions.ended_one")
        )


def test_an_ended_session_asked_by_htmx_navigates_to_the_login(app, client, other_client, world):
    login_as(other_client, world.a_member)
    login_as(client, world.a_member)
    client.post("/compte/sessions/autres/fin")
    response = other_client.get("/a-faire/compte", headers=HTMX)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/connexion"


def test_end_all_the_others_keeps_this_one(app, client, other_client, world):
    login_as(other_client, world.a_member)
    third = app.test_client()
    login_as(third, world.a_member)
    login_as(client, world.a_member)
    response = client.post("/compte/sessions/autres/fin")
    assert response.status_code == 303
    assert ("success", "2 autres sessions terminées.") in flashes(client)
    assert [row.ended_at is None for row in rows_of(app, world.a_member)] == [False, False, True]
    assert is_login_redirect(other_client.get("/")) and is_login_redirect(third.get("/"))
    assert client.get("/compte/sessions").status_code == 200


def test_logout_and_a_password_change_end_the_rows_too(app, client, other_client, world):
    login_as(other_client, world.a_member)
    login_as(client, world.a_member)
    client.post("/deconnexion")
    assert {row.end_reason for row in rows_of(app, world.a_member)} == {"logout"}


def test_a_session_without_its_row_is_refused(app, client, world):
    login_as(client, world.a_member)
    with client.session_transaction() as sess:
        sess["sid"] = "forged"
    assert is_login_redirect(client.get("/"))


# --- Idle timeout and absolute lifetime ---------------------------------------------------


def test_an_admin_is_logged_out_after_30_idle_minutes(app, client, world, monkeypatch):
    login_as(client, world.a_admin)
    later(monkeypatch, minutes=29)
    assert client.get("/").status_code == 200
    later(monkeypatch, minutes=29 + 31)
    response = client.get("/operations")
    assert is_login_redirect(response)
    assert response.headers["Location"] == "/connexion?next=/operations"
    message = "Session expirée après 30 minutes d'inactivité. Connectez-vous de nouveau."
    assert ("error", message) in flashes(client)
    (row,) = rows_of(app, world.a_admin)
    assert row.end_reason == "idle"


def test_others_have_a_longer_configurable_idle_timeout(app, client, world, monkeypatch):
    login_as(client, world.a_member)
    later(monkeypatch, minutes=31)
    assert client.get("/").status_code == 200
    monkeypatch.setitem(app.config, "IDLE_TIMEOUT_MINUTES", 45)
    later(monkeypatch, minutes=31 + 46)
    assert is_login_redirect(client.get("/"))
    assert any("après 45 minutes" in message for _kind, message in flashes(client))


def test_activity_is_written_at_most_once_a_minute(app, client, world, monkeypatch):
    login_as(client, world.a_member)
    (before,) = rows_of(app, world.a_member)
    later(monkeypatch, seconds=30)
    client.get("/")
    assert rows_of(app, world.a_member)[0].last_seen_at == before.last_seen_at
    later(monkeypatch, minutes=2)
    client.get("/")
    assert rows_of(app, world.a_member)[0].last_seen_at > before.last_seen_at


def test_polling_is_not_activity(app, client, world, monkeypatch):
    login_as(client, world.a_admin)
    (before,) = rows_of(app, world.a_admin)
    later(monkeypatch, minutes=20)
    assert client.get("/a-faire/compte", headers=HTMX).status_code == 200
    assert rows_of(app, world.a_admin)[0].last_seen_at == before.last_seen_at
    later(monkeypatch, minutes=31)
    response = client.get("/a-faire/compte", headers=HTMX)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/connexion"


def test_the_same_url_opened_as_a_page_is_activity(app, client, world, monkeypatch):
    login_as(client, world.a_admin)
    (before,) = rows_of(app, world.a_admin)
    later(monkeypatch, minutes=20)
    client.get("/a-faire/compte")
    assert rows_of(app, world.a_admin)[0].last_seen_at > before.last_seen_at


def test_the_absolute_lifetime_still_ends_an_active_session(app, client, world, monkeypatch):
    login_as(client, world.a_member)
    with app.app_context():
        row = db.session.scalar(select(UserSession).where(UserSession.user_id == world.a_member))
        row.created_at -= timedelta(hours=9)
        db.session.commit()
    assert is_login_redirect(client.get("/"))
    assert rows_of(app, world.a_member)[0].end_reason == "expired"


def test_ended_idle_and_old_sessions_are_not_listed(app, client, other_client, world):
    login_as(other_client, world.a_member)
    login_as(client, world.a_member)
    with app.app_context():
        row = db.session.scalars(select(UserSession).order_by(UserSession.id)).first()
        row.last_seen_at -= timedelta(minutes=200)
        db.session.commit()
    assert text(client.get("/compte/sessions")).count("<tr>") == 2


SELF_TRIGGERED = re.compile(r"hx-trigger=\"[^\"]*(?:every |load|from:body)[^\"]*\"")
TAG = re.compile(r"<[a-z]+\b[^>]*>", re.DOTALL)
ENDPOINT = re.compile(r"hx-(?:get|post)=\"\{\{ url_for\('([\w.]+)'")
# Pollers whose URL the view passes in (one template for several documents): what they ask.
VARIABLE_URL_POLLERS = {
    "conventions/_pdf_status.html": {"conventions.download_pdf", "reporting.download_bilan_pdf"}
}


def test_every_self_triggered_request_of_the_templates_is_background():
    """A new poller must join ``htmx.BACKGROUND_ENDPOINTS``, or it keeps sessions alive."""
    found = set()
    for path in TEMPLATES.rglob("*.html"):
        for tag in TAG.findall(path.read_text(encoding="utf-8")):
            if SELF_TRIGGERED.search(tag):
                name = str(path.relative_to(TEMPLATES))
                if name in VARIABLE_URL_POLLERS:
                    found |= VARIABLE_URL_POLLERS[name]
                    continue
                (endpoint,) = ENDPOINT.findall(tag)
                found.add(endpoint)
    assert found and found <= htmx.BACKGROUND_ENDPOINTS
    assert {"design.poll", "reporting.show_export", "todo.count_duties"} <= found
