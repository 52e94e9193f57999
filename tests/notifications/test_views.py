"""Notifications over HTTP: each person sees only theirs, marks one or all as read, and the
header badge follows (out of band for htmx)."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.core.time import utcnow
from portal.extensions import db
from portal.notifications.models import Notification
from tests.support import HTMX, login_as

LIST = "/notifications/"


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def notify(app, user_id: int, message: str, *, read: bool = False, link: str = "", age: int = 0):
    """A notification for ``user_id`` (``age`` minutes old); returns its id."""
    with app.app_context():
        note = Notification(
            user_id=user_id,
            kind="test",
            message=message,
            link=link,
            created_at=utcnow() - timedelta(minutes=age),
            read_at=utcnow() if read else None,
        )
        db.session.add(note)
        db.session.commit()
        return note.id


def unread(app, user_id: int) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).where(
                Notification.user_id == user_id, Notification.read_at.is_(None)
            )
        )


def badge(page: str) -> str:
    """The header badge's content (its number, or empty)."""
    match = re.search(r'<span id="notification-badge"[^>]*>(.*?)</span>\s*</a>', page, re.S)
    if match is None:  # the out-of-band copy, outside the navigation
        match = re.search(r'<span id="notification-badge"[^>]*>(.*?)</span>(?!\s*<span)', page)
    numbers = re.findall(r'<span class="badge">(\d+)</span>', match.group(1) if match else "")
    return numbers[0] if numbers else ""


@pytest.fixture
def notes(app, world):
    """Two unread and one read notification for OF A's admin; one for OF B's admin."""
    me, other = world.a_admin, world.b_admin
    return {
        "old": notify(app, me, "Besoin ancien à examiner", age=30),
        "new": notify(app, me, "Nouveau besoin repéré", link="http://portail.test/operations/7"),
        "read": notify(app, me, "Déjà lue", read=True, age=60),
        "theirs": notify(app, other, "Message pour Organisme B"),
    }


def test_list_shows_only_my_notifications_newest_first(client, world, notes):
    login_as(client, world.emails["a_admin"])
    response = client.get(LIST)
    assert response.status_code == 200
    page = text(response)
    assert page.startswith("<!doctype html>")
    assert "Message pour Organisme B" not in page
    assert page.index("Nouveau besoin repéré") < page.index("Besoin ancien à examiner")
    assert page.index("Besoin ancien à examiner") < page.index("Déjà lue")
    assert "2 notification(s) non lue(s)." in page
    assert page.count("Marquer comme lu") == 2  # only the unread ones
    assert 'href="http://portail.test/operations/7"' in page
    assert badge(page) == "2"
    assert "HX-Request" in response.headers["Vary"]


def test_list_for_htmx_is_the_widget_with_the_badge_out_of_band(client, world, notes):
    login_as(client, world.emails["a_admin"])
    response = client.get(LIST, headers=HTMX)
    fragment = text(response)
    assert fragment.lstrip().startswith('<div id="notifications"')
    assert "<html" not in fragment
    assert '<span id="notification-badge" hx-swap-oob="true"' in fragment


def test_no_notification_says_so(client, world):
    login_as(client, world.emails["employer_admin"])
    page = text(client.get(LIST))
    assert "Aucune notification." in page
    assert "Tout marquer comme lu" not in page
    assert badge(page) == ""


def mark(client, path: str, **kwargs):
    """POST like htmx does: the 303 is followed with the HX-Request header kept."""
    return client.post(path, headers=HTMX, follow_redirects=True, **kwargs)


def test_marking_one_read_with_htmx_updates_the_list_and_the_badge(app, client, world, notes):
    login_as(client, world.emails["a_admin"])
    response = mark(client, f"/notifications/{notes['new']}/lecture")
    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [303]
    fragment = text(response)
    assert fragment.lstrip().startswith('<div id="notifications"')
    assert "<html" not in fragment
    oob = re.search(r'<span id="notification-badge" hx-swap-oob="true"[^>]*>(.*?)</span>', fragment)
    assert oob is not None
    assert '<span class="badge">1</span>' in fragment.split('id="notification-badge"', 1)[1]
    assert "1 notification(s) non lue(s)." in fragment
    assert fragment.count("Marquer comme lu") == 1
    assert unread(app, world.a_admin) == 1
    assert unread(app, world.b_admin) == 1


def test_marking_the_last_one_read_empties_the_badge(app, client, world):
    note = notify(app, world.a_admin, "Seule notification")
    login_as(client, world.emails["a_admin"])
    fragment = text(mark(client, f"/notifications/{note}/lecture"))
    oob = fragment.split('<span id="notification-badge" hx-swap-oob="true"', 1)[1]
    assert '<span class="badge">' not in oob.split("</span>", 1)[0]
    assert "non lue(s)" not in fragment
    assert unread(app, world.a_admin) == 0


def test_marking_one_read_without_htmx_redirects(app, client, world, notes):
    login_as(client, world.emails["a_admin"])
    response = client.post(f"/notifications/{notes['old']}/lecture")
    assert response.status_code == 303
    assert response.headers["Location"] == LIST + "?page=1"
    assert unread(app, world.a_admin) == 1
    assert badge(text(client.get(LIST))) == "1"


def test_marking_read_twice_keeps_the_first_date(app, client, world, notes):
    login_as(client, world.emails["a_admin"])
    with app.app_context():
        first = db.session.get(Notification, notes["read"]).read_at
    assert client.post(f"/notifications/{notes['read']}/lecture").status_code == 303
    with app.app_context():
        assert db.session.get(Notification, notes["read"]).read_at == first


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_someone_elses_notification_is_404(app, client, world, notes, headers):
    login_as(client, world.emails["a_admin"])
    response = client.post(f"/notifications/{notes['theirs']}/lecture", headers=headers)
    assert response.status_code == 404
    assert unread(app, world.b_admin) == 1


def test_unknown_notification_is_404(client, world, notes):
    login_as(client, world.emails["a_admin"])
    assert client.post("/notifications/999999/lecture").status_code == 404


def test_mark_all_read_touches_only_mine(app, client, world, notes):
    login_as(client, world.emails["a_admin"])
    response = mark(client, "/notifications/lecture")
    assert response.status_code == 200
    fragment = text(response)
    assert "Marquer comme lu" not in fragment
    assert "Tout marquer comme lu" not in fragment
    assert '<span id="notification-badge" hx-swap-oob="true"' in fragment
    assert unread(app, world.a_admin) == 0
    assert unread(app, world.b_admin) == 1


def test_mark_all_read_without_htmx_redirects(app, client, world, notes):
    login_as(client, world.emails["a_admin"])
    response = client.post("/notifications/lecture")
    assert response.status_code == 303
    assert response.headers["Location"] == LIST + "?page=1"
    assert unread(app, world.a_admin) == 0


@pytest.mark.parametrize("path", ["/notifications/lecture", "/notifications/{id}/lecture"])
def test_marking_refuses_a_missing_csrf_token(app, client, world, notes, path):
    login_as(client, world.emails["a_admin"])
    response = client.post(path.format(id=notes["new"]), csrf=False)
    assert response.status_code == 400
    assert unread(app, world.a_admin) == 2


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", LIST), ("post", "/notifications/lecture"), ("post", "/notifications/1/lecture")],
)
def test_notifications_need_login(client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 302
    assert "/connexion" in response.headers["Location"]


def test_list_paginates(app, client, world):
    for i in range(55):
        notify(app, world.a_admin, f"Notification n° {i}", age=i)
    login_as(client, world.emails["a_admin"])
    first = text(client.get(LIST))
    assert first.count("Marquer comme lu<") == 50
    assert "Page 1 sur 2" in first
    second = text(client.get(LIST, query_string={"page": 2}))
    assert second.count("Marquer comme lu<") == 5
    assert "Notification n° 54" in second


def test_marking_read_on_the_second_page_stays_there(app, client, world):
    ids = [notify(app, world.a_admin, f"Notification n° {i}", age=i) for i in range(55)]
    login_as(client, world.emails["a_admin"])
    second = text(client.get(LIST, query_string={"page": 2}))
    action = f'action="/notifications/{ids[54]}/lecture?page=2"'
    assert action in second
    fragment = text(mark(client, f"/notifications/{ids[54]}/lecture?page=2"))
    assert "Page 2 sur 2" in fragment
    assert fragment.count("Marquer comme lu<") == 4
    [link] = re.findall(r'href="([^"]*)" rel="prev"', fragment)
    assert link == "/notifications/?page=1"  # the pager points at the list, not the POST route
