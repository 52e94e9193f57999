"""``support.login_as`` gives a client the session a real form login gives.

Most tests log in with ``login_as`` (no form, no Argon2); these tests keep it honest: the
session it builds must match, key for key, the one the login form builds, and behave the
same afterwards (the pages open, the language survives, a bumped generation ends it).
"""

import pytest
from sqlalchemy import select

from portal.accounts import services
from portal.accounts.models import User, UserSession
from portal.extensions import db
from tests.factories import make_user
from tests.support import form_login, login_as

# What only the form leaves behind: its welcome message (shown by the next page).
FORM_ONLY = {"_flashes"}
# Different at each login by nature: the random token of « Mes sessions », the time.
PER_LOGIN = {"sid", "auth_at"}


def session_of(client) -> dict:
    with client.session_transaction() as sess:
        return {
            key: type(value) if key in PER_LOGIN else value
            for key, value in sess.items()
            if key not in FORM_ONLY
        }


@pytest.mark.parametrize("who", ["email", "user", "id"])
def test_login_as_gives_the_session_of_the_login_form(app, client, other_client, world, who):
    email = world.emails["a_admin"]
    assert form_login(client, email).status_code == 302
    with app.app_context():
        user = db.session.get(User, world.a_admin)
        login_as(other_client, {"email": email, "user": user, "id": user.id}[who])
    assert session_of(other_client) == session_of(client)
    assert session_of(other_client)["_user_id"] == f"{world.a_admin}:1"


def test_after_login_as_the_pages_open_for_the_current_organisation(client, world):
    login_as(client, world.emails["a_admin"])
    home = client.get("/")
    assert home.status_code == 200
    assert "Organisme A" in home.get_data(as_text=True)


def test_login_as_keeps_the_language_chosen_before_as_the_form_does(client, other_client, world):
    for browser in (client, other_client):
        assert browser.post("/langue", data={"lang": "en"}).status_code == 302
    form_login(client, world.emails["a_admin"])
    login_as(other_client, world.emails["a_admin"])
    assert session_of(other_client) == session_of(client)
    assert session_of(client)["lang"] == "en"


def test_login_as_someone_else_starts_a_new_session(client, world):
    """Tests switch people on one client; nothing of the previous person's session stays."""
    client.post("/langue", data={"lang": "en"})
    login_as(client, world.emails["region_admin"])
    assert client.get("/").status_code == 200  # picks the current organisation (org_id)
    login_as(client, world.emails["a_admin"])
    assert set(session_of(client)) == {"_user_id", "_fresh", "_id", "lang", "sid", "auth_at"}
    assert "Organisme A" in client.get("/").get_data(as_text=True)


def test_a_bumped_generation_ends_a_login_as_session(app, client, world):
    login_as(client, world.emails["a_admin"])
    assert client.get("/").status_code == 200
    with app.app_context():
        services.end_all_sessions(db.session.get(User, world.a_admin))
        db.session.commit()
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/connexion")


def test_login_as_refuses_whom_the_form_refuses(app, client, world):
    with app.app_context():
        make_user(email="sans.organisation@example.fr")
        db.session.commit()
    assert form_login(client, "sans.organisation@example.fr").status_code == 422
    with pytest.raises(AssertionError, match="cannot log in"):
        login_as(client, "sans.organisation@example.fr")


def test_login_as_records_an_open_session_like_the_form(app, client, other_client, world):
    form_login(client, world.emails["a_admin"])
    login_as(other_client, world.emails["a_admin"])
    with app.app_context():
        rows = db.session.scalars(select(UserSession).order_by(UserSession.id)).all()
    assert [(row.user_id, row.ended_at) for row in rows] == [(world.a_admin, None)] * 2
    assert other_client.get("/compte/sessions").status_code == 200
