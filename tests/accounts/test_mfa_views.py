"""TOTP second factor over HTTP: enrolment in « Mon compte », the login's second step, its
throttle and recovery codes, forced enrolment of admins, and the Région's reset."""

import re
import time

import pyotp
import pytest
from sqlalchemy import select

from portal.accounts import invitations
from portal.accounts.models import Organisation, RecoveryCode, User
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.mail.models import OutboxMessage
from tests.factories import enrol_totp
from tests.support import PASSWORD, form_login, login_as, text

WRONG_CODE = "Code incorrect ou expiré"
SETTINGS = "/compte/double-authentification"


def enrol(app, user_id: int) -> tuple[str, list[str]]:
    """Enrol the user directly; returns the secret and the recovery codes."""
    with app.app_context():
        user = db.session.get(User, user_id)
        codes = enrol_totp(user)
        secret = user.totp_secret
        db.session.commit()
    return secret, codes


def wrong(secret: str) -> str:
    return f"{(int(pyotp.TOTP(secret).now()) + 1) % 1_000_000:06d}"


def is_sent_to(response, path: str) -> bool:
    return response.status_code in (302, 303) and response.headers["Location"] == path


def audit_actions(app) -> list[str]:
    with app.app_context():
        return db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)).all()


# --- Enrolment ---------------------------------------------------------------------------


def test_enrolment_shows_a_qr_code_confirms_a_code_then_the_recovery_codes(app, client, world):
    login_as(client, world.a_member)
    page = client.get(SETTINGS)
    assert page.status_code == 200 and "Commencer" in text(page)
    assert is_sent_to(client.post(SETTINGS + "/debut"), SETTINGS)
    page = text(client.get(SETTINGS))
    assert "<svg" in page and 'role="img"' in page
    with app.app_context():
        secret = db.session.get(User, world.a_member).totp_secret
    assert " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)) in page

    refused = client.post(SETTINGS + "/confirmation", data={"code": wrong(secret)})
    assert refused.status_code == 422 and WRONG_CODE in text(refused)
    empty = client.post(SETTINGS + "/confirmation", data={"code": ""})
    assert empty.status_code == 422 and "Ce champ est obligatoire." in text(empty)

    done = client.post(SETTINGS + "/confirmation", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = re.findall(r"<code>([A-Z2-7]{4}(?:-[A-Z2-7]{4}){3})</code>", text(done))
    assert len(codes) == 10
    with app.app_context():
        assert db.session.get(User, world.a_member).has_totp
    assert "mfa.enabled" in audit_actions(app)
    assert "Activée" in text(client.get(SETTINGS))  # the codes are not shown again
    assert codes[0] not in text(client.get(SETTINGS))


def test_enrolment_pages_need_a_login(client):
    assert client.get(SETTINGS).headers["Location"].startswith("/connexion")
    assert client.post(SETTINGS + "/debut").headers["Location"].startswith("/connexion")


def test_disabling_needs_password_and_code(app, client, world):
    secret, _codes = enrol(app, world.a_member)
    login_as(client, world.a_member)
    data = {"current_password": "pas le bon mot de passe", "code": pyotp.TOTP(secret).now()}
    refused = client.post(SETTINGS + "/desactivation", data=data)
    assert refused.status_code == 422 and "Le mot de passe est incorrect." in text(refused)
    data = {"current_password": PASSWORD, "code": pyotp.TOTP(secret).now()}
    assert is_sent_to(client.post(SETTINGS + "/desactivation", data=data), SETTINGS)
    with app.app_context():
        assert not db.session.get(User, world.a_member).has_totp
    assert "mfa.disabled" in audit_actions(app)


# --- Login in two steps ------------------------------------------------------------------


def test_an_enrolled_user_logs_in_with_password_then_code(app, client, world):
    secret, _codes = enrol(app, world.a_member)
    response = form_login(client, world.emails["a_member"])
    assert is_sent_to(response, "/connexion/code")
    assert client.get("/compte").headers["Location"].startswith("/connexion")  # not yet in
    refused = client.post("/connexion/code", data={"code": wrong(secret)})
    assert refused.status_code == 422 and WRONG_CODE in text(refused)
    assert client.get("/compte").status_code == 302
    logged = client.post("/connexion/code", data={"code": pyotp.TOTP(secret).now()})
    assert is_sent_to(logged, "/")
    assert client.get("/compte").status_code == 200
    actions = audit_actions(app)
    assert actions.index("login.password_accepted") < actions.index("login.succeeded")
    assert "mfa.failed" in actions


def test_the_same_code_cannot_log_in_twice(app, client, other_client, world):
    secret, _codes = enrol(app, world.a_member)
    code = pyotp.TOTP(secret).now()
    form_login(client, world.emails["a_member"])
    assert is_sent_to(client.post("/connexion/code", data={"code": code}), "/")
    form_login(other_client, world.emails["a_member"])
    replayed = other_client.post("/connexion/code", data={"code": code})
    assert replayed.status_code == 422 and WRONG_CODE in text(replayed)


def test_a_recovery_code_logs_in_once(app, client, other_client, world):
    _secret, codes = enrol(app, world.a_member)
    form_login(client, world.emails["a_member"])
    assert is_sent_to(client.post("/connexion/code", data={"code": codes[0]}), "/")
    form_login(other_client, world.emails["a_member"])
    again = other_client.post("/connexion/code", data={"code": codes[0]})
    assert again.status_code == 422 and WRONG_CODE in text(again)
    with app.app_context():
        used = db.session.scalars(select(RecoveryCode).where(RecoveryCode.used_at.is_not(None)))
        assert len(used.all()) == 1
    assert "mfa.recovery_code_used" in audit_actions(app)


def test_wrong_codes_are_throttled_even_before_the_right_one(app, client, world):
    secret, _codes = enrol(app, world.a_member)
    form_login(client, world.emails["a_member"])
    for _i in range(5):
        assert WRONG_CODE in text(client.post("/connexion/code", data={"code": wrong(secret)}))
    blocked = client.post("/connexion/code", data={"code": pyotp.TOTP(secret).now()})
    assert blocked.status_code == 422 and "Trop de codes incorrects" in text(blocked)
    assert client.get("/compte").status_code == 302
    assert "mfa.blocked" in audit_actions(app)


def test_the_right_password_does_not_clear_the_code_failures(app, client, world):
    secret, _codes = enrol(app, world.a_member)
    form_login(client, world.emails["a_member"])
    for _i in range(5):
        client.post("/connexion/code", data={"code": wrong(secret)})
    form_login(client, world.emails["a_member"])
    blocked = client.post("/connexion/code", data={"code": pyotp.TOTP(secret).now()})
    assert "Trop de codes incorrects" in text(blocked)


def test_the_second_step_expires_and_needs_a_password_first(app, client, world):
    secret, _codes = enrol(app, world.a_member)
    assert client.get("/connexion/code").headers["Location"] == "/connexion"
    form_login(client, world.emails["a_member"])
    with client.session_transaction() as sess:
        sess["mfa_pending"] = {**sess["mfa_pending"], "until": time.time() - 1}
    expired = client.post("/connexion/code", data={"code": pyotp.TOTP(secret).now()})
    assert expired.headers["Location"] == "/connexion"
    assert client.get("/compte").status_code == 302


def test_joining_by_invitation_with_the_password_still_asks_for_the_code(app, client, world):
    secret, _codes = enrol(app, world.a_member)
    with app.test_request_context():
        _invitation, token = invitations.invite(
            world.emails["a_member"],
            db.session.get(Organisation, world.of_b),
            by=db.session.get(User, world.b_admin),
        )
        db.session.commit()
    joined = client.post(f"/invitation/{token}", data={"password": PASSWORD})
    assert is_sent_to(joined, "/connexion/code")
    assert client.get("/compte").status_code == 302  # not logged in by the password alone
    logged = client.post("/connexion/code", data={"code": pyotp.TOTP(secret).now()})
    assert is_sent_to(logged, "/")


# --- Required for admins -----------------------------------------------------------------


@pytest.fixture
def required(app, monkeypatch):
    """The production rule: admins must have a second factor."""
    monkeypatch.setitem(app.config, "MFA_REQUIRED_FOR_ADMINS", True)


@pytest.mark.usefixtures("required")
def test_admins_are_sent_to_enrolment_before_anything_else(app, client, world):
    assert is_sent_to(form_login(client, world.emails["a_admin"]), SETTINGS)
    assert is_sent_to(client.get("/"), SETTINGS)
    assert is_sent_to(client.get("/compte"), SETTINGS)
    htmx = client.get("/", headers={"HX-Request": "true"})
    assert htmx.status_code == 204 and htmx.headers["HX-Redirect"] == SETTINGS
    page = client.get(SETTINGS)
    assert page.status_code == 200 and "doivent activer" in text(page)
    client.post(SETTINGS + "/debut")
    with app.app_context():
        secret = db.session.get(User, world.a_admin).totp_secret
    client.post(SETTINGS + "/confirmation", data={"code": pyotp.TOTP(secret).now()})
    assert client.get("/").status_code == 200


@pytest.mark.usefixtures("required")
def test_members_who_are_not_admins_are_not_forced(client, world):
    assert is_sent_to(form_login(client, world.emails["a_member"]), "/")
    assert client.get("/").status_code == 200


def test_admins_are_not_forced_outside_production(client, world):
    assert is_sent_to(form_login(client, world.emails["a_admin"]), "/")


# --- Reset by the Région -----------------------------------------------------------------


def test_a_region_admin_resets_a_lost_factor(app, client, world):
    enrol(app, world.a_member)
    login_as(client, world.region_admin)
    assert "Réinitialiser la double authentification" in text(
        client.get("/administration/utilisateurs")
    )
    response = client.post(f"/administration/utilisateurs/{world.a_member}/double-authentification")
    assert is_sent_to(response, "/administration/utilisateurs")
    with app.app_context():
        assert not db.session.get(User, world.a_member).has_totp
        mail = db.session.scalar(
            select(OutboxMessage).where(OutboxMessage.recipient == world.emails["a_member"])
        )
        assert "double authentification" in mail.subject
    assert "mfa.reset" in audit_actions(app)
    assert is_sent_to(form_login(app.test_client(), world.emails["a_member"]), "/")


@pytest.mark.parametrize("who", ["a_admin", "region_member", "a_member"])
def test_only_region_admins_reset_a_factor(app, client, world, who):
    enrol(app, world.b_admin)
    login_as(client, getattr(world, who))
    response = client.post(f"/administration/utilisateurs/{world.b_admin}/double-authentification")
    assert response.status_code in (403, 404)
    with app.app_context():
        assert db.session.get(User, world.b_admin).has_totp
