"""One's own account page: profile and password change."""

from portal.accounts.models import User
from portal.audit.models import AuditEvent
from portal.extensions import db
from tests.support import PASSWORD, form_login

NEW_PASSWORD = "une nouvelle phrase de passe 2026"


def test_account_page_shows_own_details(client, world):
    form_login(client, world.emails["a_member"])
    page = client.get("/compte")
    assert page.status_code == 200
    assert world.emails["a_member"] in page.get_data(as_text=True)


def test_anonymous_is_sent_to_login(client):
    response = client.get("/compte")
    assert response.status_code == 302
    assert "/connexion" in response.headers["Location"]


def test_profile_update_and_validation(client, world, app):
    form_login(client, world.emails["a_member"])
    bad = client.post("/compte", data={"first_name": "", "last_name": "Durand", "phone": "abc"})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "Ce champ est obligatoire." in text
    assert "Ce numéro de téléphone n" in text
    ok = client.post(
        "/compte", data={"first_name": "Léa", "last_name": "Durand", "phone": "02 38 00 00 00"}
    )
    assert ok.status_code == 303
    with app.app_context():
        user = db.session.get(User, world.a_member)
        assert (user.first_name, user.last_name, user.phone) == ("Léa", "Durand", "02 38 00 00 00")
        assert db.session.query(AuditEvent).filter_by(action="user.profile_updated").count() == 1


def test_password_change_requires_current_password(client, world):
    form_login(client, world.emails["a_member"])
    response = client.post(
        "/compte/mot-de-passe",
        data={
            "current_password": "pas le bon mot de passe",
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 422
    assert "Le mot de passe actuel est incorrect." in response.get_data(as_text=True)


def test_password_change_refuses_common_password(client, world):
    form_login(client, world.emails["a_member"])
    response = client.post(
        "/compte/mot-de-passe",
        data={
            "current_password": PASSWORD,
            "password": "azertyuiop123",
            "password_confirm": "azertyuiop123",
        },
    )
    assert response.status_code == 422
    assert "trop courant" in response.get_data(as_text=True)


def test_password_change_keeps_this_session_and_ends_the_others(client, other_client, world):
    email = world.emails["a_member"]
    form_login(client, email)
    form_login(other_client, email)
    response = client.post(
        "/compte/mot-de-passe",
        data={
            "current_password": PASSWORD,
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 303
    assert client.get("/").status_code == 200
    assert other_client.get("/").status_code == 302
    client.post("/deconnexion")
    assert form_login(client, email, NEW_PASSWORD).status_code == 302
