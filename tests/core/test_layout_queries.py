"""The layout's query budget (issue #16): a page that shows only the layout costs two
queries — the session row with its user and the user's memberships with their
organisations, and the demo banner's flag with the unread badge in one statement — however
many memberships and notifications there are; an htmx fragment that shows neither costs
none of the last."""

import pytest

from portal.accounts import services
from portal.accounts.models import OrgKind, User
from portal.extensions import db
from portal.notifications.models import Notification
from tests.factories import make_org, make_user
from tests.support import committed, login_as, queries

ACCOUNT = "/compte"


@pytest.fixture
def person(app):
    with committed(app):
        user = make_user(make_org(OrgKind.EMPLOYER))
        return user.id


def grow(app, user_id: int, n: int) -> None:
    """``n`` more organisations for the person and ``n`` more unread notifications."""
    with committed(app):
        user = db.session.get(User, user_id)
        for i in range(n):
            services.add_membership(user, make_org(OrgKind.PARTNER))
            db.session.add(Notification(user_id=user_id, kind="test", message=f"Avis {i}"))


def test_a_layout_page_costs_two_queries_whatever_the_data(app, client, person):
    login_as(client, person)
    few = queries(app, client, ACCOUNT)
    grow(app, person, 12)
    many = queries(app, client, ACCOUNT)
    assert len(few) == len(many) == 2, [s.split("\n")[0][:90] for s in many]
    assert sum("FROM notifications" in s for s in many) == 1
    page = client.get(ACCOUNT).get_data(as_text=True)
    assert '<span class="badge">12</span>' in page


def test_the_badge_and_the_banner_are_read_only_when_shown(app, client, person):
    """The « À faire » count in the header is an htmx fragment: no layout query."""
    login_as(client, person)
    statements = queries(app, client, "/a-faire/compte", headers={"HX-Request": "true"})
    assert not [s for s in statements if "FROM notifications" in s]
    assert not [s for s in statements if "LIKE" in s]


def test_a_page_sends_the_session_cookie_only_when_the_session_changes(app, client, person):
    """The current organisation is written to the session only when it changes: a write
    made Flask sign and send the cookie with every response (issue #16)."""
    login_as(client, person)
    client.get(ACCOUNT)  # the first page notes the current organisation
    again = client.get(ACCOUNT)
    assert again.status_code == 200
    assert again.headers.getlist("Set-Cookie") == []
    with client.session_transaction() as session:
        org_id = session["org_id"]
    with app.app_context():
        assert org_id == db.session.get(User, person).memberships[0].organisation_id


def test_the_badge_stops_counting_past_ninety_nine(app, client, person):
    """A backlog of unread notifications no longer costs every page: the badge reads at
    most a hundred and says « 99+ »; the notifications page still says how many."""
    login_as(client, person)
    with committed(app):
        db.session.add_all(
            Notification(user_id=person, kind="test", message=f"Avis {i}") for i in range(120)
        )
    statements = queries(app, client, ACCOUNT)
    (badge,) = [s for s in statements if "FROM notifications" in s]
    assert "LIMIT" in badge.upper()
    page = client.get(ACCOUNT).get_data(as_text=True)
    assert '<span class="badge">99+</span>' in page
    listing = client.get("/notifications/").get_data(as_text=True)
    assert "120 notification(s) non lue(s)." in listing
    assert '<span class="badge">99+</span>' in listing


def test_each_person_sees_their_own_badge_from_a_statement_built_once(
    app, client, other_client, person
):
    """The layout's statement is built once per person and kept (issue #16): two people
    served by the same process still see their own unread count, and a new notification
    shows on the next page."""
    from portal.core import layout

    with committed(app):
        other = make_user(make_org(OrgKind.EMPLOYER)).id
        db.session.add_all(
            Notification(user_id=person, kind="test", message=f"Avis {i}") for i in range(3)
        )
        db.session.add(Notification(user_id=other, kind="test", message="Avis"))
    login_as(client, person)
    login_as(other_client, other)
    assert '<span class="badge">3</span>' in client.get(ACCOUNT).get_data(as_text=True)
    assert '<span class="badge">1</span>' in other_client.get(ACCOUNT).get_data(as_text=True)
    with committed(app):
        db.session.add(Notification(user_id=person, kind="test", message="Avis 4"))
    assert '<span class="badge">4</span>' in client.get(ACCOUNT).get_data(as_text=True)
    assert '<span class="badge">1</span>' in other_client.get(ACCOUNT).get_data(as_text=True)
    assert layout._facts_statement(person) is layout._facts_statement(person)
    assert layout._facts_statement(person) is not layout._facts_statement(other)
