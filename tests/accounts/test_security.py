"""Issue #11 (security review) in the accounts area: lockout per (account, IP) with a
growing per-account delay (L12), the lifecycle of reset and invitation tokens (L13), and
the throttled current-password check of « changer mon mot de passe » (L14)."""

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts import invitations, resets, services, throttle
from portal.accounts.models import Invitation, LoginFailure, OrgKind, User
from portal.accounts.passwords import verify_password
from portal.core.errors import RuleError
from portal.extensions import db
from portal.mail.models import OutboxMessage
from tests.factories import make_org, make_user
from tests.support import PASSWORD
from tests.support import form_login as login

LOCKED = "Trop de tentatives de connexion infructueuses"
WRONG = "pas le bon mot de passe"
NEW_PASSWORD = "un tout nouveau mot de passe"


@contextmanager
def from_ip(app, ip: str):
    """A request from ``ip``, sharing the test's application context and session."""
    with app.test_request_context(environ_base={"REMOTE_ADDR": ip}):
        yield


def age_failures(seconds: int) -> None:
    """Make every recorded failure ``seconds`` older (still inside the window)."""
    for failure in db.session.scalars(select(LoginFailure)):
        failure.at -= timedelta(seconds=seconds)
    db.session.flush()


def fail(app, email: str, ip: str) -> None:
    with from_ip(app, ip), pytest.raises(RuleError, match="incorrect"):
        services.authenticate(email, WRONG)


def refusal(app, email: str, ip: str, password: str = PASSWORD) -> str:
    with from_ip(app, ip), pytest.raises(RuleError) as refused:
        services.authenticate(email, password)
    return refused.value.message


# --- L12: lock per (account, IP), only slow the account down --------------------------------


def test_failures_lock_their_ip_and_only_slow_the_account_elsewhere(app, ctx, throttle_clock):
    """Issue #11 L12: five failures by a stranger no longer lock the owner out: the stranger's
    IP is locked on that account; from elsewhere the account is only slowed down."""
    user = make_user(make_org())
    for _ in range(app.config["LOGIN_MAX_PER_ACCOUNT_IP"]):
        fail(app, user.email, "203.0.113.7")
    throttle_clock.at_last_failure(user.email)
    assert LOCKED in refusal(app, user.email, "203.0.113.7")
    assert refusal(app, user.email, "198.51.100.9") == (
        "Trop de tentatives pour ce compte : réessayez dans 1 seconde."
    )
    age_failures(2)
    with from_ip(app, "198.51.100.9"):
        assert services.authenticate(user.email, PASSWORD) is user
    # The stranger's IP stays locked on that account, not on others.
    assert LOCKED in refusal(app, user.email, "203.0.113.7")
    other = make_user(make_org())
    with from_ip(app, "203.0.113.7"):
        assert services.authenticate(other.email, PASSWORD) is other


def test_the_account_delay_grows_with_its_failures_and_is_capped(
    app, ctx, monkeypatch, throttle_clock
):
    """Issue #11 L12: 1, 2, 4… seconds after the last failure, at most the maximum, said in
    French; an attempt refused during the delay checks no password and counts nothing."""
    monkeypatch.setitem(app.config, "LOGIN_SLOWDOWN_AFTER", 2)
    monkeypatch.setitem(app.config, "LOGIN_MAX_DELAY_SECONDS", 8)
    user = make_user(make_org())
    waits = []
    for n in range(1, 7):
        fail(app, user.email, f"192.0.2.{n}")  # a new address each time: never locked
        throttle_clock.at_last_failure(user.email)
        with from_ip(app, "198.51.100.1"):
            waits.append(throttle.login_verdict(user.email, "198.51.100.1").wait)
        if waits[-1]:
            message = refusal(app, user.email, "198.51.100.1", WRONG)
            unit = "seconde" if waits[-1] == 1 else "secondes"
            assert message == (
                f"Trop de tentatives pour ce compte : réessayez dans {waits[-1]} {unit}."
            )
        age_failures(60)
    assert waits == [0, 1, 2, 4, 8, 8]
    failures = throttle.backend().count(throttle.account_key(user.email), 900)
    assert failures == 6  # the refused attempts were not counted


def test_an_ip_trying_many_accounts_is_locked(app, ctx, monkeypatch):
    """The per-IP lock is kept by the issue #11 L12 change (one address, many accounts)."""
    monkeypatch.setitem(app.config, "LOGIN_MAX_PER_IP", 3)
    user = make_user(make_org())
    for n in range(3):
        fail(app, f"essai{n}@example.fr", "203.0.113.50")
    assert LOCKED in refusal(app, user.email, "203.0.113.50")


def test_the_login_page_says_how_long_to_wait_and_keeps_the_address(
    app, client, world, throttle_clock
):
    """Issue #11 L12: the refusal is in French, the typed address stays in the form.

    The throttle's clock stands still before the failures (``throttle_clock``): the first
    wait is one second after the last failure, which a slow machine may outlast."""
    throttle_clock.stop()
    email = world.emails["a_member"]
    for n in range(app.config["LOGIN_SLOWDOWN_AFTER"]):
        client.post(
            "/connexion",
            data={"email": email, "password": WRONG},
            environ_base={"REMOTE_ADDR": f"203.0.113.{n}"},
        )
    response = client.post("/connexion", data={"email": email, "password": PASSWORD})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r"Trop de tentatives pour ce compte : réessayez dans \d+ secondes?\.", page)
    assert f'value="{email}"' in page


# --- L13: token lifecycle ----------------------------------------------------------------------


def reset_tokens() -> list[str]:
    bodies = db.session.scalars(select(OutboxMessage.body).order_by(OutboxMessage.id))
    return [re.search(r"/mot-de-passe/(\S+)", body).group(1) for body in bodies]


def test_a_new_reset_request_revokes_the_older_links(ctx):
    """Issue #11 L13: only the latest reset link works."""
    user = make_user(make_org())
    resets.request_password_reset(user.email)
    resets.request_password_reset(user.email)
    older, newer = reset_tokens()
    assert resets.find_password_reset(older)[1] == services.LinkProblem.EXPIRED
    reset, problem = resets.find_password_reset(newer)
    assert problem is None and reset.user is user


def test_changing_the_password_revokes_the_reset_links(ctx):
    """Issue #11 L13: a link mailed before a password change no longer works after it."""
    user = make_user(make_org())
    resets.request_password_reset(user.email)
    services.change_password(user, PASSWORD, NEW_PASSWORD)
    [token] = reset_tokens()
    assert resets.find_password_reset(token)[1] == services.LinkProblem.EXPIRED


def test_an_expired_or_replaced_link_says_so_in_french(client, world, app):
    with app.test_request_context():
        resets.request_password_reset(world.emails["a_member"])
        resets.request_password_reset(world.emails["a_member"])
        db.session.commit()
        older, _newer = reset_tokens()
    response = client.get(f"/mot-de-passe/{older}")
    assert response.status_code == 410
    page = response.get_data(as_text=True).replace("&#39;", "'")
    assert "ou un lien plus récent l'a remplacé" in page


def pending(inviter: User) -> set[str]:
    return {
        i.email
        for i in db.session.scalars(
            select(Invitation).where(
                Invitation.invited_by_id == inviter.id, Invitation.revoked_at.is_(None)
            )
        )
    }


@pytest.fixture
def inviters(ctx):
    """The Région's admin, an organisation with two admins, and another organisation."""
    region = make_org(OrgKind.REGION)
    org, other = make_org(), make_org()
    region_admin = make_user(region, admin=True)
    inviter = make_user(org, admin=True)
    make_user(org, admin=True)  # each organisation keeps an admin
    make_user(other, admin=True)
    services.add_membership(inviter, other, is_admin=True)
    invitations.invite("a@example.fr", org, by=inviter)
    invitations.invite("b@example.fr", other, by=inviter)
    return region, org, other, region_admin, inviter


def membership(user: User, org) -> object:
    return next(m for m in user.memberships if m.organisation_id == org.id)


def test_removing_the_admin_role_revokes_the_invitations_sent_with_it(inviters):
    """Issue #11 L13: de-admining a member revokes the invitations they sent for that
    organisation (not those of another organisation where they are still admin)."""
    _region, org, _other, region_admin, inviter = inviters
    services.set_admin(membership(inviter, org), False, by=region_admin)
    assert pending(inviter) == {"b@example.fr"}
    revoked = db.session.scalar(select(Invitation).where(Invitation.email == "a@example.fr"))
    assert not revoked.is_pending


def test_deactivating_a_member_revokes_the_invitations_they_sent(inviters):
    """Issue #11 L13: a removed member's pending invitations die with their membership."""
    _region, org, other, region_admin, inviter = inviters
    services.deactivate_membership(membership(inviter, org), by=region_admin)
    assert pending(inviter) == {"b@example.fr"}
    services.deactivate_membership(membership(inviter, other), by=region_admin)
    assert pending(inviter) == set()


def test_a_region_admin_losing_the_role_loses_their_invitations_everywhere(inviters):
    """Issue #11 L13: the Région's admins invite to any organisation: all of those go."""
    region, org, _other, region_admin, _inviter = inviters
    second = make_user(region, admin=True)
    invitations.invite("c@example.fr", org, by=region_admin)
    invitations.invite("d@example.fr", region, by=region_admin)
    services.set_admin(membership(region_admin, region), False, by=second)
    assert pending(region_admin) == set()


def test_disabling_an_account_revokes_all_its_invitations(inviters):
    """Issue #11 L13: a disabled account's invitations are revoked."""
    _region, _org, _other, region_admin, inviter = inviters
    services.set_user_enabled(inviter, False, by=region_admin)
    assert pending(inviter) == set()


def mails(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(OutboxMessage))


def test_forgot_password_is_throttled_per_address_silently(app, client, world):
    """Issue #11 L13: a stranger cannot flood someone's mailbox with reset links; the
    answer stays the same (it must not tell whether the account exists)."""
    limit = app.config["RESET_MAX_PER_EMAIL"]
    email = world.emails["a_member"]
    for n in range(limit + 2):
        response = client.post(
            "/mot-de-passe-oublie",
            data={"email": email},
            environ_base={"REMOTE_ADDR": f"203.0.113.{n}"},
        )
        assert response.status_code == 302
    assert mails(app) == limit


def test_forgot_password_is_throttled_per_ip(app, client, world, monkeypatch):
    """Issue #11 L13: one address asking for many accounts is refused, in French, and the
    typed address stays in the form."""
    monkeypatch.setitem(app.config, "RESET_MAX_PER_IP", 3)
    for n in range(3):
        client.post("/mot-de-passe-oublie", data={"email": f"personne{n}@example.fr"})
    response = client.post("/mot-de-passe-oublie", data={"email": world.emails["a_member"]})
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Trop de demandes depuis votre adresse réseau" in page
    assert f'value="{world.emails["a_member"]}"' in page
    assert mails(app) == 0


def test_token_pages_send_no_referer(app, client, world):
    """Issue #11 L13: a token page's URL must not travel in the Referer of what it loads."""
    with app.test_request_context():
        resets.request_password_reset(world.emails["a_member"])
        db.session.commit()
        [token] = reset_tokens()
    response = client.get(f"/mot-de-passe/{token}")
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


# --- L14: the current password of « changer mon mot de passe » -------------------------------


def change(client, current: str, **kwargs):
    data = {"current_password": current, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    return client.post("/compte/mot-de-passe", data=data, **kwargs)


def failure_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(LoginFailure))


def test_wrong_current_passwords_are_counted_like_failed_logins(app, client, world):
    """Issue #11 L14: a stolen session could guess the current password without limit."""
    login(client, world.emails["a_member"])
    for attempt in range(app.config["LOGIN_MAX_PER_ACCOUNT_IP"]):
        response = change(client, WRONG)
        assert response.status_code == 422
        assert "Le mot de passe actuel est incorrect." in response.get_data(as_text=True)
        assert failure_rows(app) == 3 * (attempt + 1)  # committed: account, pair, IP
    response = change(client, PASSWORD)
    assert response.status_code == 422
    assert "Trop de tentatives infructueuses" in response.get_data(as_text=True)
    with app.app_context():
        user = db.session.get(User, world.a_member)
        assert not verify_password(user.password_hash, NEW_PASSWORD)[0]


def test_strangers_failing_elsewhere_never_stop_a_password_change(app, client, world):
    """Issue #11 L14 counts the current password's failures; L12: others' failures from
    other IPs never refuse the owner."""
    email = world.emails["a_member"]
    login(client, email)
    with app.app_context():
        for n in range(10):
            with from_ip(app, f"203.0.113.{n}"):
                throttle.record_failure(email, f"203.0.113.{n}")
        db.session.commit()
    response = change(client, PASSWORD)
    assert response.status_code == 303
