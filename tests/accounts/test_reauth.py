"""Re-authentication before a sensitive action: past REAUTH_MINUTES the password again
(and the code where a second factor is enrolled), then back to a same-origin path only."""

from urllib.parse import quote, unquote

import pyotp
import pytest

from portal.accounts.models import User
from portal.accounts.reauth import safe_next
from portal.extensions import db
from tests.factories import enrol_totp
from tests.reporting import factories as f
from tests.support import (
    HTMX,
    PASSWORD,
    age_authentication,
    client_as,
    committed,
    login_as,
    text,
)

CONFIRM = "/connexion/confirmer"
TRAINEES = "/pilotage/exports/stagiaires.csv"


@pytest.mark.parametrize(
    ("target", "kept"),
    [
        ("/pilotage/exports/stagiaires.csv?annee=2026", True),
        ("/compte", True),
        ("https://evil.example/", False),
        ("//evil.example/", False),
        ("/\\evil.example", False),
        ("http:/evil.example", False),
        ("javascript:alert(1)", False),
        ("/compte\r\nSet-Cookie: x=1", False),
        ("", False),
    ],
)
def test_only_same_origin_paths_are_followed(target, kept):
    assert (safe_next(target) == target) is kept


def enrol(app, user_id: int) -> str:
    with app.app_context():
        user = db.session.get(User, user_id)
        enrol_totp(user)
        secret = user.totp_secret
        db.session.commit()
    return secret


def test_the_confirmation_page_asks_for_the_password_and_returns(app, client, world):
    login_as(client, world.a_member)
    page = client.get(CONFIRM + "?next=/compte")
    assert page.status_code == 200
    body = text(page)
    assert 'value="/compte"' in body and "Code de vérification" not in body
    wrong = client.post(CONFIRM, data={"password": "pas le bon", "next": "/compte"})
    assert wrong.status_code == 422 and "Le mot de passe est incorrect." in text(wrong)
    right = client.post(CONFIRM, data={"password": PASSWORD, "next": "/compte"})
    assert right.status_code == 303 and right.headers["Location"] == "/compte"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x"])
def test_the_confirmation_never_sends_elsewhere(client, world, target):
    login_as(client, world.a_member)
    assert f'value="{target}"' not in text(client.get(CONFIRM + "?next=" + quote(target)))
    response = client.post(CONFIRM, data={"password": PASSWORD, "next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_a_second_factor_needs_its_code_too(app, client, world):
    secret = enrol(app, world.a_member)
    login_as(client, world.a_member)
    assert "Code de vérification" in text(client.get(CONFIRM))
    missing = client.post(CONFIRM, data={"password": PASSWORD})
    assert missing.status_code == 422 and "Saisissez le code" in text(missing)
    data = {"password": PASSWORD, "code": pyotp.TOTP(secret).now()}
    assert client.post(CONFIRM, data=data).status_code == 303


def test_failed_confirmations_are_throttled_like_logins(app, client, world):
    login_as(client, world.a_member)
    for _attempt in range(app.config["LOGIN_MAX_PER_ACCOUNT_IP"]):
        assert client.post(CONFIRM, data={"password": "pas le bon"}).status_code == 422
    locked = client.post(CONFIRM, data={"password": PASSWORD})
    assert locked.status_code == 422 and "Trop de tentatives" in text(locked)


# --- The guarded actions ------------------------------------------------------------------


@pytest.fixture
def pilot(app):
    with committed(app):
        f.Pilot()


def test_a_trainees_export_asks_again_past_the_delay(app, pilot):
    browser = client_as(app, f.REGION_ADMIN)
    assert browser.get(TRAINEES).status_code == 200  # just logged in
    age_authentication(browser, 11)
    asked = browser.get(TRAINEES + "?annee=2026")
    assert asked.status_code == 302
    assert unquote(asked.headers["Location"]) == CONFIRM + "?next=" + TRAINEES + "?annee=2026"
    back = browser.post(CONFIRM, data={"password": PASSWORD, "next": TRAINEES})
    assert back.headers["Location"] == TRAINEES
    assert browser.get(TRAINEES).status_code == 200


def test_exports_without_personal_data_are_not_guarded(app, pilot):
    browser = client_as(app, f.REGION_ADMIN)
    age_authentication(browser, 60)
    assert browser.get("/pilotage/exports/operations.csv").status_code == 200


def test_a_queued_trainees_export_by_htmx_navigates_to_the_confirmation(app, pilot):
    browser = client_as(app, f.REGION_ADMIN)
    age_authentication(browser, 11)
    response = browser.post("/pilotage/exports/suivis/csv", headers=HTMX)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith(CONFIRM + "?next=/pilotage/")


def test_changing_the_password_asks_only_the_code_of_a_second_factor(app, client, world):
    data = {
        "current_password": PASSWORD,
        "password": "une toute nouvelle phrase secrète",
        "password_confirm": "une toute nouvelle phrase secrète",
    }
    login_as(client, world.a_admin)
    age_authentication(client, 11)
    assert client.post("/compte/mot-de-passe", data=data).status_code == 303  # asked in form
    enrol(app, world.a_member)
    login_as(client, world.a_member)
    age_authentication(client, 11)
    response = client.post("/compte/mot-de-passe", data=data)
    assert response.headers["Location"] == CONFIRM + "?next=/compte"


def test_enrolling_a_second_factor_asks_again_past_the_delay(app, client, world):
    login_as(client, world.a_member)
    age_authentication(client, 11)
    response = client.post("/compte/double-authentification/debut")
    assert response.status_code == 303
    assert response.headers["Location"].startswith(CONFIRM + "?next=")
    with app.app_context():
        assert db.session.get(User, world.a_member).totp_secret is None


def test_resetting_someone_elses_factor_asks_the_region_admin_again(app, client, world):
    enrol(app, world.a_member)
    login_as(client, world.region_admin)
    age_authentication(client, 11)
    reset = f"/administration/utilisateurs/{world.a_member}/double-authentification"
    response = client.post(reset)
    assert unquote(response.headers["Location"]) == CONFIRM + "?next=/administration/utilisateurs"
    with app.app_context():
        assert db.session.get(User, world.a_member).has_totp
    client.post(CONFIRM, data={"password": PASSWORD})
    assert client.post(reset).status_code == 303
    with app.app_context():
        assert not db.session.get(User, world.a_member).has_totp
