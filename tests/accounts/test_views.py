"""Accounts over HTTP: login, logout, sessions, organisation switcher, invitations, resets."""

import re
from datetime import timedelta
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import func, select

from portal.accounts import invitations, services
from portal.accounts.models import Invitation, Membership, Organisation, User
from portal.core.time import utcnow
from portal.extensions import db
from portal.mail.models import OutboxMessage
from tests.factories import make_org, make_user
from tests.support import PASSWORD, form_login

BAD_CREDENTIALS = "Adresse électronique ou mot de passe incorrect."
THROTTLED = "Trop de tentatives de connexion infructueuses"
NEW_PASSWORD = "une autre phrase de passe 2026"
RESET_SENT = "Si un compte existe pour cette adresse, un courriel vient de lui être envoyé"


def text(response) -> str:
    return response.get_data(as_text=True)


def is_sent_to_login(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/connexion")


def invite(app, world, email: str, org: str = "of_a", by: str = "a_admin", **kwargs) -> str:
    """Invite ``email`` to ``world``'s ``org`` as ``by``; returns the link's token."""
    with app.test_request_context():
        organisation = db.session.get(Organisation, world.ids[org])
        _invitation, token = invitations.invite(
            email, organisation, by=db.session.get(User, world.ids[by]), **kwargs
        )
        db.session.commit()
    return token


def invitation_for(app, email: str) -> Invitation:
    with app.app_context():
        invitation = db.session.scalar(select(Invitation).where(Invitation.email == email))
        db.session.expunge(invitation)
        return invitation


def user_count(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).where(User.email == email))


def two_org_user(app, world, email="deux.casquettes@example.fr") -> int:
    """A member of Organisme A and of Organisme B; returns the user's id."""
    with app.app_context():
        user = make_user(db.session.get(Organisation, world.of_a), email=email)
        services.add_membership(user, db.session.get(Organisation, world.of_b))
        db.session.commit()
        return user.id


def membership_id(app, user_id: int, org_id: int) -> int:
    with app.app_context():
        return db.session.scalar(
            select(Membership.id).where(
                Membership.user_id == user_id, Membership.organisation_id == org_id
            )
        )


# --- Login -------------------------------------------------------------------------------


def test_login_page_is_french(client):
    response = client.get("/connexion")
    assert response.status_code == 200
    assert "<h1>Connexion</h1>" in text(response)


def test_login_renews_the_session_and_goes_home(client, world):
    with client.session_transaction() as sess:
        sess["planted"] = "valeur fixée par un attaquant"
        sess["lang"] = "fr"
    response = form_login(client, world.emails["a_admin"])
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["lang"] == "fr"  # the visitor's language choice is kept
        assert sess["_user_id"].startswith(f"{world.a_admin}:")
    assert "Bienvenue, Camille." in text(client.get("/"))


def test_login_follows_a_local_next_path(client, world):
    target = f"/organisations/{world.of_a}/membres"
    response = client.post(
        "/connexion",
        data={"email": world.emails["a_admin"], "password": PASSWORD, "next": target},
    )
    assert response.headers["Location"] == target


def test_login_page_carries_next_from_the_redirect(client, world):
    sent = client.get(f"/organisations/{world.of_a}/membres")
    assert is_sent_to_login(sent)
    page = client.get(sent.headers["Location"])
    assert f'value="/organisations/{world.of_a}/membres"' in text(page)


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "http:evil.example",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
    ],
)
def test_login_ignores_next_leading_off_site(client, world, target):
    response = client.post(
        "/connexion",
        data={"email": world.emails["a_admin"], "password": PASSWORD, "next": target},
    )
    assert response.status_code == 302
    # Resolved as a browser does (a backslash read as a slash), it stays on this site.
    location = response.headers["Location"].replace("\\", "/")
    assert urlsplit(urljoin("http://localhost/", location)).netloc == "localhost"


def test_wrong_password_and_unknown_email_get_the_same_answer(client, world):
    wrong = client.post("/connexion", data={"email": world.emails["a_admin"], "password": "x" * 12})
    unknown = client.post("/connexion", data={"email": "personne@example.fr", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 422
    assert BAD_CREDENTIALS in text(wrong)
    assert BAD_CREDENTIALS in text(unknown)
    assert is_sent_to_login(client.get("/"))


def test_empty_login_form_is_refused_in_french(client):
    response = client.post("/connexion", data={"email": "", "password": ""})
    assert response.status_code == 422
    assert "Ce champ est obligatoire." in text(response)


def test_throttling_refuses_even_the_right_password(client, world):
    email = world.emails["a_member"]
    for _ in range(5):
        failed = client.post("/connexion", data={"email": email, "password": "pas le bon mot"})
        assert BAD_CREDENTIALS in text(failed)
    blocked = client.post("/connexion", data={"email": email, "password": PASSWORD})
    assert blocked.status_code == 422
    assert THROTTLED in text(blocked)
    assert is_sent_to_login(client.get("/"))


def test_disabled_account_cannot_log_in(app, client, world):
    with app.app_context():
        db.session.get(User, world.a_member).is_enabled = False
        db.session.commit()
    response = form_login(client, world.emails["a_member"])
    assert response.status_code == 422
    assert BAD_CREDENTIALS in text(response)


# --- Logout and sessions -----------------------------------------------------------------


def test_logout_is_post_only(client, world):
    form_login(client, world.emails["a_member"])
    response = client.get("/deconnexion")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert client.get("/").status_code == 200  # still logged in


def test_logout_ends_every_session_of_the_user(client, other_client, world):
    form_login(client, world.emails["a_member"])
    form_login(other_client, world.emails["a_member"])
    assert other_client.get("/").status_code == 200
    response = client.post("/deconnexion")
    assert is_sent_to_login(response)
    assert is_sent_to_login(client.get("/"))
    assert is_sent_to_login(other_client.get("/"))
    follow = client.get("/connexion")
    assert "Vous êtes déconnecté·e sur tous vos appareils." in text(follow)


def test_logout_leaves_other_users_logged_in(client, other_client, world):
    form_login(client, world.emails["a_member"])
    form_login(other_client, world.emails["a_admin"])
    client.post("/deconnexion")
    assert other_client.get("/").status_code == 200


def test_deactivating_a_membership_ends_the_users_sessions(app, client, other_client, world):
    # Still a member of B afterwards: the session ends because it was cut, not for lack of
    # an organisation.
    user_id = two_org_user(app, world)
    form_login(other_client, "deux.casquettes@example.fr")
    assert other_client.get("/").status_code == 200
    form_login(client, world.emails["a_admin"])
    response = client.post(
        f"/organisations/{world.of_a}/membres/"
        f"{membership_id(app, user_id, world.of_a)}/desactivation"
    )
    assert response.status_code == 303
    assert is_sent_to_login(other_client.get("/"))
    form_login(other_client, "deux.casquettes@example.fr")
    assert "Espace d&#39;Organisme B" in text(other_client.get("/"))


# --- Organisation switcher ---------------------------------------------------------------


def test_member_of_two_organisations_switches(app, client, world):
    two_org_user(app, world)
    form_login(client, "deux.casquettes@example.fr")
    home = text(client.get("/"))
    assert "Espace d&#39;Organisme A" in home
    assert 'name="organisation_id"' in home  # the switcher shows for two organisations
    response = client.post("/organisation-courante", data={"organisation_id": world.of_b})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = text(client.get("/"))
    assert "Espace d&#39;Organisme B" in home
    assert "Organisation courante changée." in home


def test_switching_to_a_foreign_organisation_is_forbidden(app, client, world):
    two_org_user(app, world)
    form_login(client, "deux.casquettes@example.fr")
    response = client.post("/organisation-courante", data={"organisation_id": world.employer})
    assert response.status_code == 403
    assert "Accès refusé" in text(response)
    assert "Espace d&#39;Organisme A" in text(client.get("/"))


# --- Invitations -------------------------------------------------------------------------


def test_invitation_link_shows_the_form(app, client, world):
    token = invite(app, world, "nouvelle@example.fr")
    response = client.get(f"/invitation/{token}")
    assert response.status_code == 200
    page = text(response)
    assert "Rejoindre Organisme A" in page
    assert "nouvelle@example.fr" in page
    assert 'name="password_confirm"' in page
    assert response.headers["Cache-Control"] == "no-store"


def test_forged_invitation_link_is_404(client, world):
    response = client.get("/invitation/pas-un-vrai-jeton")
    assert response.status_code == 404
    assert "Ce lien n'est pas valide" in text(response).replace("&#39;", "'")


def test_used_invitation_link_is_410(app, client, world):
    token = invite(app, world, "nouvelle@example.fr")
    accepted = client.post(
        f"/invitation/{token}",
        data={
            "first_name": "Léa",
            "last_name": "Durand",
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
        },
    )
    assert accepted.status_code == 302
    again = client.get(f"/invitation/{token}")
    assert again.status_code == 410
    assert "déjà été utilisé" in text(again)


def test_expired_invitation_link_is_410(app, client, world):
    token = invite(app, world, "nouvelle@example.fr")
    with app.app_context():
        invitation = db.session.scalar(select(Invitation))
        invitation.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    response = client.get(f"/invitation/{token}")
    assert response.status_code == 410
    assert "expiré" in text(response)


def test_revoked_invitation_link_is_410(app, client, world):
    token = invite(app, world, "nouvelle@example.fr")
    with app.test_request_context():
        invitations.revoke_invitation(
            db.session.scalar(select(Invitation)), by=db.session.get(User, world.a_admin)
        )
        db.session.commit()
    response = client.get(f"/invitation/{token}")
    assert response.status_code == 410
    assert "annulée" in text(response)
    # A POST on the dead link creates nothing either.
    refused = client.post(
        f"/invitation/{token}",
        data={
            "first_name": "Léa",
            "last_name": "Durand",
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
        },
    )
    assert refused.status_code == 410
    assert user_count(app, "nouvelle@example.fr") == 0


def test_accepting_an_invitation_creates_the_account_and_logs_in(app, client, world):
    token = invite(app, world, "nouvelle@example.fr", is_admin=True)
    response = client.post(
        f"/invitation/{token}",
        data={
            "first_name": "Léa",
            "last_name": "Durand",
            "phone": "02 38 00 00 00",
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = text(client.get("/"))
    assert "Bonjour Léa" in home
    assert "Vous avez rejoint Organisme A." in home
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "nouvelle@example.fr"))
        assert [(m.organisation_id, m.is_admin) for m in user.memberships] == [(world.of_a, True)]
    assert invitation_for(app, "nouvelle@example.fr").accepted_at is not None


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("court", "Le mot de passe doit contenir au moins 12 caractères."),
        ("azertyazerty", "Ce mot de passe est trop courant"),
        ("nouvelle@example.fr", "Le mot de passe ne doit pas être votre adresse électronique."),
    ],
)
def test_weak_password_on_invitation_creates_nothing(app, client, world, password, message):
    token = invite(app, world, "nouvelle@example.fr")
    response = client.post(
        f"/invitation/{token}",
        data={
            "first_name": "Léa",
            "last_name": "Durand",
            "password": password,
            "password_confirm": password,
        },
    )
    assert response.status_code == 422
    assert message in text(response)
    assert user_count(app, "nouvelle@example.fr") == 0
    assert invitation_for(app, "nouvelle@example.fr").accepted_at is None
    assert client.get(f"/invitation/{token}").status_code == 200  # still usable


def test_mismatched_password_confirmation_is_refused(app, client, world):
    token = invite(app, world, "nouvelle@example.fr")
    response = client.post(
        f"/invitation/{token}",
        data={
            "first_name": "Léa",
            "last_name": "Durand",
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD + "!",
        },
    )
    assert response.status_code == 422
    assert "Les deux mots de passe ne sont pas identiques." in text(response)
    assert user_count(app, "nouvelle@example.fr") == 0


def test_existing_user_confirms_with_their_password(app, client, world):
    token = invite(app, world, world.emails["a_member"], org="of_b", by="b_admin")
    page = client.get(f"/invitation/{token}")
    assert page.status_code == 200
    assert "Vous avez déjà un compte sur le portail" in text(page)
    assert 'name="first_name"' not in text(page)

    wrong = client.post(f"/invitation/{token}", data={"password": "pas le bon mot de passe"})
    assert wrong.status_code == 422
    assert "Mot de passe incorrect." in text(wrong)
    assert membership_id(app, world.a_member, world.of_b) is None

    right = client.post(f"/invitation/{token}", data={"password": PASSWORD})
    assert right.status_code == 302
    assert membership_id(app, world.a_member, world.of_b) is not None
    assert membership_id(app, world.a_member, world.of_a) is not None
    assert user_count(app, world.emails["a_member"]) == 1
    # Logged in, acting for the organisation just joined.
    assert "Espace d&#39;Organisme B" in text(client.get("/"))


# --- Password reset ----------------------------------------------------------------------


def reset_link(app, email: str) -> str:
    """The path of the reset link in the last e-mail sent to ``email``."""
    with app.app_context():
        body = db.session.scalars(
            select(OutboxMessage.body)
            .where(OutboxMessage.recipient == email)
            .order_by(OutboxMessage.id.desc())
        ).first()
    return urlsplit(re.search(r"https?://\S+/mot-de-passe/\S+", body).group(0)).path


def test_forgot_password_answers_the_same_for_known_and_unknown(app, client, world):
    known = client.post("/mot-de-passe-oublie", data={"email": world.emails["a_member"]})
    known_page = text(client.get(known.headers["Location"]))
    unknown = client.post("/mot-de-passe-oublie", data={"email": "personne@example.fr"})
    unknown_page = text(client.get(unknown.headers["Location"]))
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"] == "/connexion"
    assert RESET_SENT in known_page and RESET_SENT in unknown_page
    with app.app_context():
        recipients = db.session.scalars(select(OutboxMessage.recipient)).all()
    assert recipients == [world.emails["a_member"]]


def test_forgot_password_refuses_an_invalid_address_in_french(client):
    response = client.post("/mot-de-passe-oublie", data={"email": "pas-une-adresse"})
    assert response.status_code == 422
    assert "Saisissez une adresse électronique valide" in text(response)


def test_reset_link_sets_a_new_password_once_and_ends_other_sessions(
    app, client, other_client, world
):
    email = world.emails["a_member"]
    form_login(other_client, email)
    client.post("/mot-de-passe-oublie", data={"email": email})
    link = reset_link(app, email)

    form = client.get(link)
    assert form.status_code == 200
    assert form.headers["Cache-Control"] == "no-store"
    done = client.post(link, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert is_sent_to_login(done)

    assert is_sent_to_login(other_client.get("/"))
    assert form_login(client, email).status_code == 422  # the old password no longer works
    assert form_login(client, email, NEW_PASSWORD).status_code == 302

    reused = other_client.get(link)
    assert reused.status_code == 410
    assert "déjà été utilisé" in text(reused)
    replay = other_client.post(link, data={"password": PASSWORD, "password_confirm": PASSWORD})
    assert replay.status_code == 410
    assert form_login(other_client, email, NEW_PASSWORD).status_code == 302


def test_reset_with_a_weak_password_keeps_the_link(app, client, world):
    email = world.emails["a_member"]
    client.post("/mot-de-passe-oublie", data={"email": email})
    link = reset_link(app, email)
    response = client.post(link, data={"password": "court", "password_confirm": "court"})
    assert response.status_code == 422
    assert "au moins 12 caractères" in text(response)
    assert client.get(link).status_code == 200
    assert form_login(client, email).status_code == 302  # the old password still works


# --- Language ----------------------------------------------------------------------------


def test_language_switch_follows_only_local_paths(client):
    evil = client.post("/langue", data={"lang": "en", "next": "https://evil.example/"})
    assert evil.headers["Location"] == "/"
    local = client.post("/langue", data={"lang": "en", "next": "/connexion"})
    assert local.headers["Location"] == "/connexion"
    assert '<html lang="en">' in text(client.get("/connexion"))


def test_user_without_an_active_membership_cannot_log_in(app, client):
    # A user whose only organisation was left cannot log in (no organisation to act for).
    with app.app_context():
        org = make_org()
        user = make_user(org, email="seul@example.fr")
        services.active_membership(user, org).active = False
        db.session.commit()
    response = form_login(client, "seul@example.fr")
    assert response.status_code == 422
    assert BAD_CREDENTIALS in text(response)
