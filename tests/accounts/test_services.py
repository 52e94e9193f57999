"""Business rules of the accounts area, checked on the services (no HTTP)."""

import hashlib
import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.accounts import invitations, resets, services, throttle
from portal.accounts.models import (
    Invitation,
    Membership,
    Organisation,
    OrgKind,
    PartnerType,
    PasswordReset,
    User,
)
from portal.accounts.passwords import verify_password
from portal.audit.models import AuditEvent
from portal.core.errors import RuleError
from portal.core.time import utcnow
from portal.extensions import db
from portal.mail.models import OutboxMessage
from tests.factories import make_org, make_territory, make_user
from tests.support import PASSWORD

BAD_CREDENTIALS = "Adresse électronique ou mot de passe incorrect."
TOO_MANY = "Trop de tentatives de connexion infructueuses"
LAST_ADMIN = "L'organisation doit garder au moins un·e administrateur·rice."
NEW_PASSWORD = "un tout nouveau mot de passe"


def events(action: str) -> list[AuditEvent]:
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ).all()


def outbox() -> list[OutboxMessage]:
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@contextmanager
def from_ip(app, ip: str):
    """A request from ``ip``, sharing the test's application context and session."""
    with app.test_request_context(environ_base={"REMOTE_ADDR": ip}):
        yield


def failures(email: str) -> int:
    return throttle.backend().count(throttle.account_key(email), 900)


# --- Users ---------------------------------------------------------------------------------


def test_create_user_normalises_email_and_names(ctx):
    user = services.create_user("  Anne.Dupont@Example.FR ", " Anne ", " Dupont ", PASSWORD)
    assert user.email == "anne.dupont@example.fr"
    assert (user.first_name, user.last_name) == ("Anne", "Dupont")
    assert user.password_hash.startswith("$argon2id$")
    assert user.is_enabled and user.session_generation == 1


def test_create_user_refuses_an_email_differing_only_in_case(ctx):
    services.create_user("anne.dupont@example.fr", "Anne", "Dupont", PASSWORD)
    with pytest.raises(RuleError) as excinfo:
        services.create_user("ANNE.Dupont@Example.fr", "Anne", "Autre", PASSWORD)
    assert excinfo.value.field == "email"
    assert excinfo.value.message == "Un compte existe déjà avec cette adresse électronique."


def test_database_refuses_emails_differing_only_in_case(ctx):
    """The unique index on lower(email) holds even when the service is bypassed."""
    for email in ("A@x.fr", "a@X.fr"):
        db.session.add(User(email=email, first_name="A", last_name="B", password_hash="x"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


# --- Memberships ---------------------------------------------------------------------------


def test_database_refuses_two_active_memberships_of_a_user_in_an_organisation(ctx):
    user, org = make_user(), make_org()
    db.session.add_all([Membership(user=user, organisation=org) for _ in range(2)])
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_an_inactive_membership_and_an_active_one_coexist(ctx):
    user, org = make_user(), make_org()
    db.session.add_all(
        [
            Membership(user=user, organisation=org, active=False),
            Membership(user=user, organisation=org, active=False),
            Membership(user=user, organisation=org, active=True),
        ]
    )
    db.session.flush()
    assert count(Membership) == 3


def test_add_membership_refuses_a_second_active_one(ctx):
    org = make_org(name="Organisme Alpha")
    user = make_user(org)
    with pytest.raises(RuleError, match="déjà membre d'Organisme Alpha"):
        services.add_membership(user, org)


def test_a_former_member_can_join_again(ctx):
    org = make_org()
    admin = make_user(org, admin=True)
    member = make_user(org)
    old = services.active_membership(member, org)
    services.deactivate_membership(old, by=admin)
    new = services.add_membership(member, org, by=admin)
    assert new.id != old.id and not old.active
    assert services.active_membership(member, org) is new


def test_deactivate_membership_keeps_history_and_ends_sessions(ctx):
    org = make_org()
    admin = make_user(org, admin=True)
    member = make_user(org)
    membership = services.active_membership(member, org)
    services.deactivate_membership(membership, by=admin)
    db.session.flush()
    db.session.expire_all()
    kept = db.session.get(Membership, membership.id)
    assert kept is not None and kept.active is False
    assert kept.deactivated_at is not None and kept.deactivated_by_id == admin.id
    assert member.session_generation == 2
    assert [e.object_id for e in events("membership.deactivated")] == [membership.id]
    [ended] = events("sessions.ended")
    assert ended.actor_id == admin.id and ended.detail["reason"] == "membership_deactivated"
    # Without an organisation left, the account can no longer log in.
    with pytest.raises(RuleError, match=BAD_CREDENTIALS):
        services.authenticate(member.email, PASSWORD)


def test_a_deactivated_membership_cannot_be_deactivated_again(ctx):
    org = make_org()
    admin = make_user(org, admin=True)
    membership = services.active_membership(make_user(org), org)
    services.deactivate_membership(membership, by=admin)
    with pytest.raises(RuleError, match="déjà désactivé"):
        services.deactivate_membership(membership, by=admin)


def test_the_last_admin_cannot_be_removed(ctx):
    region = make_org(OrgKind.REGION)
    region_admin = make_user(region, admin=True)
    org = make_org()
    sole_admin = make_user(org, admin=True)
    membership = services.active_membership(sole_admin, org)
    with pytest.raises(RuleError) as excinfo:
        services.deactivate_membership(membership, by=region_admin)
    assert excinfo.value.message == LAST_ADMIN
    assert membership.active
    make_user(org, admin=True)
    services.deactivate_membership(membership, by=region_admin)
    assert not membership.active


def test_nobody_can_remove_themselves(ctx):
    org = make_org()
    admin = make_user(org, admin=True)
    make_user(org, admin=True)
    with pytest.raises(RuleError, match="vous retirer vous-même"):
        services.deactivate_membership(services.active_membership(admin, org), by=admin)


def test_set_admin_keeps_at_least_one_admin(ctx):
    org = make_org()
    first = make_user(org, admin=True)
    second = make_user(org)
    first_membership = services.active_membership(first, org)
    second_membership = services.active_membership(second, org)
    with pytest.raises(RuleError) as excinfo:
        services.set_admin(first_membership, False, by=first)
    assert excinfo.value.message == LAST_ADMIN
    services.set_admin(second_membership, True, by=first)
    services.set_admin(first_membership, False, by=second)
    assert not first_membership.is_admin and second_membership.is_admin
    assert [e.detail["is_admin"] for e in events("membership.admin_changed")] == [True, False]


def test_set_admin_refuses_an_inactive_membership(ctx):
    org = make_org()
    admin = make_user(org, admin=True)
    membership = services.active_membership(make_user(org), org)
    services.deactivate_membership(membership, by=admin)
    with pytest.raises(RuleError, match="désactivé"):
        services.set_admin(membership, True, by=admin)


# --- Invitations ---------------------------------------------------------------------------


@pytest.fixture
def inviting(ctx):
    """An organisation and its admin, ready to invite."""
    org = make_org(OrgKind.EMPLOYER, "Menuiserie Berrichonne")
    return org, make_user(org, admin=True, first_name="Sandrine", last_name="Gauthier")


def test_invite_stores_only_the_token_hash_and_queues_the_link(inviting):
    org, admin = inviting
    invitation, token = invitations.invite(" Nouveau.Venu@Example.FR", org, by=admin, is_admin=True)
    assert invitation.email == "nouveau.venu@example.fr"
    assert invitation.token_hash == sha256(token)
    row = db.session.execute(select(Invitation.__table__)).one()
    assert not any(token in str(value) for value in row)
    expected_expiry = utcnow() + timedelta(days=14)
    assert abs(invitation.expires_at - expected_expiry) < timedelta(minutes=1)
    assert invitation.is_pending and invitation.is_admin

    [message] = outbox()
    assert message.recipient == "nouveau.venu@example.fr"
    assert message.subject == "Invitation à rejoindre Menuiserie Berrichonne sur le Portail DEFI"
    assert f"http://portail.test/invitation/{token}" in message.body
    assert "Sandrine Gauthier vous invite" in message.body
    assert message.sent_at is None

    [event] = events("invitation.sent")
    assert (event.actor_id, event.organisation_id) == (admin.id, org.id)
    assert (event.object_type, event.object_id) == ("Invitation", invitation.id)
    assert event.detail == {
        "email": "nouveau.venu@example.fr",
        "is_admin": True,
        "is_tutor": False,
    }


def test_a_new_invitation_revokes_the_pending_one_for_the_same_email_and_org(inviting):
    org, admin = inviting
    other_org = make_org()
    first, first_token = invitations.invite("nouveau.venu@example.fr", org, by=admin)
    elsewhere, _token = invitations.invite("nouveau.venu@example.fr", other_org, by=admin)
    second, second_token = invitations.invite("NOUVEAU.VENU@example.fr", org, by=admin)
    assert first.revoked_at is not None
    assert second.is_pending and elsewhere.is_pending
    assert invitations.find_invitation(first_token) == (first, services.LinkProblem.REVOKED)
    assert invitations.find_invitation(second_token) == (second, None)
    assert len(outbox()) == 3


def test_invite_refuses_an_active_member(inviting):
    org, admin = inviting
    member = make_user(org)
    with pytest.raises(RuleError) as excinfo:
        invitations.invite(member.email.upper(), org, by=admin)
    assert excinfo.value.field == "email"
    assert outbox() == []


def test_find_invitation_unknown_token(ctx):
    assert invitations.find_invitation("pas-un-jeton") == (None, services.LinkProblem.UNKNOWN)


def test_find_invitation_expired(inviting):
    org, admin = inviting
    invitation, token = invitations.invite("nouveau.venu@example.fr", org, by=admin)
    invitation.expires_at = utcnow() - timedelta(seconds=1)
    assert invitations.find_invitation(token) == (invitation, services.LinkProblem.EXPIRED)


def test_find_invitation_revoked(inviting):
    org, admin = inviting
    invitation, token = invitations.invite("nouveau.venu@example.fr", org, by=admin)
    invitations.revoke_invitation(invitation, by=admin)
    assert invitations.find_invitation(token) == (invitation, services.LinkProblem.REVOKED)
    with pytest.raises(RuleError, match="n'est plus en attente"):
        invitations.revoke_invitation(invitation, by=admin)


def test_find_invitation_used(inviting):
    org, admin = inviting
    invitation, token = invitations.invite("nouveau.venu@example.fr", org, by=admin)
    invitations.accept_invitation(invitation, first_name="Léa", last_name="Roy", password=PASSWORD)
    assert invitations.find_invitation(token) == (invitation, services.LinkProblem.USED)


def test_accept_invitation_creates_the_account_and_membership(inviting):
    org, admin = inviting
    invitation, _token = invitations.invite("nouveau.venu@example.fr", org, by=admin, is_admin=True)
    user = invitations.accept_invitation(
        invitation, first_name=" Léa ", last_name="Roy", password=PASSWORD, phone="02 38 00 00 00"
    )
    assert (user.email, user.first_name, user.phone) == (
        "nouveau.venu@example.fr",
        "Léa",
        "02 38 00 00 00",
    )
    membership = services.active_membership(user, org)
    assert membership is not None and membership.is_admin
    assert invitation.accepted_at is not None and invitation.accepted_by_id == user.id
    [event] = events("invitation.accepted")
    assert (event.actor_id, event.organisation_id) == (user.id, org.id)
    assert services.authenticate("Nouveau.Venu@example.fr", PASSWORD) is user


def test_accept_invitation_for_a_new_account_applies_the_password_policy(inviting):
    org, admin = inviting
    invitation, _token = invitations.invite("nouveau.venu@example.fr", org, by=admin)
    with pytest.raises(RuleError) as excinfo:
        invitations.accept_invitation(
            invitation, first_name="Léa", last_name="Roy", password="court"
        )
    assert excinfo.value.field == "password"


def test_accept_invitation_for_an_existing_account_checks_its_password(inviting):
    org, admin = inviting
    existing = make_user(make_org(), email="deja.inscrit@example.fr")
    invitation, _token = invitations.invite("deja.inscrit@example.fr", org, by=admin)
    with pytest.raises(RuleError) as excinfo:
        invitations.accept_invitation(invitation, password="pas le bon mot de passe")
    assert (excinfo.value.message, excinfo.value.field) == ("Mot de passe incorrect.", "password")
    assert services.active_membership(existing, org) is None
    assert invitation.is_pending

    assert invitations.accept_invitation(invitation, password=PASSWORD) is existing
    assert services.active_membership(existing, org) is not None
    assert count(User) == 2  # the admin and the existing account: nobody new


def test_an_invitation_is_accepted_once(inviting):
    org, admin = inviting
    invitation, _token = invitations.invite("nouveau.venu@example.fr", org, by=admin)
    user = invitations.accept_invitation(
        invitation, first_name="Léa", last_name="Roy", password=PASSWORD
    )
    with pytest.raises(RuleError, match="n'est plus valable"):
        invitations.accept_invitation(invitation, password=PASSWORD)
    assert len(user.active_memberships()) == 1


# --- Password reset ------------------------------------------------------------------------


def reset_token(message: OutboxMessage) -> str:
    return re.search(r"http://portail\.test/mot-de-passe/(\S+)", message.body).group(1)


def test_password_reset_for_an_unknown_email_queues_nothing_but_is_audited(ctx):
    resets.request_password_reset("Personne@Example.fr")
    assert outbox() == []
    assert count(PasswordReset) == 0
    [event] = events("password_reset.unknown")
    assert event.detail == {"email": "personne@example.fr"} and event.actor_id is None


def test_password_reset_for_a_disabled_account_queues_nothing(ctx):
    region = make_org(OrgKind.REGION)
    region_admin = make_user(region, admin=True)
    user = make_user(make_org())
    services.set_user_enabled(user, False, by=region_admin)
    resets.request_password_reset(user.email)
    assert outbox() == []
    assert len(events("password_reset.unknown")) == 1


def test_password_reset_is_single_use_and_ends_sessions(ctx):
    user = make_user(make_org(), first_name="Hélène")
    resets.request_password_reset(user.email.upper())
    [message] = outbox()
    assert message.recipient == user.email
    assert message.subject == "Réinitialisation de votre mot de passe — Portail DEFI"
    assert message.body.startswith("Bonjour Hélène,")
    token = reset_token(message)
    reset, problem = resets.find_password_reset(token)
    assert problem is None and reset.user is user
    assert reset.token_hash == sha256(token)
    assert abs(reset.expires_at - (utcnow() + timedelta(days=14))) < timedelta(minutes=1)

    resets.reset_password(reset, NEW_PASSWORD)
    assert user.session_generation == 2
    assert verify_password(user.password_hash, NEW_PASSWORD)[0]
    assert not verify_password(user.password_hash, PASSWORD)[0]
    assert resets.find_password_reset(token) == (reset, services.LinkProblem.USED)
    assert [e.detail["reason"] for e in events("sessions.ended")] == ["password_reset"]
    assert len(events("password_reset.done")) == 1


def test_password_reset_applies_the_policy(ctx):
    user = make_user(make_org())
    resets.request_password_reset(user.email)
    reset, _problem = resets.find_password_reset(reset_token(outbox()[0]))
    with pytest.raises(RuleError) as excinfo:
        resets.reset_password(reset, "azertyuiop123")
    assert excinfo.value.field == "password"
    assert reset.used_at is None and user.session_generation == 1


def test_password_reset_link_problems(ctx):
    user = make_user(make_org())
    resets.request_password_reset(user.email)
    token = reset_token(outbox()[0])
    reset, _problem = resets.find_password_reset(token)
    reset.expires_at = utcnow() - timedelta(seconds=1)
    assert resets.find_password_reset(token) == (reset, services.LinkProblem.EXPIRED)
    assert resets.find_password_reset(token + "x") == (None, services.LinkProblem.UNKNOWN)


def test_password_reset_clears_the_failed_login_count(ctx):
    user = make_user(make_org())
    for _ in range(3):
        with pytest.raises(RuleError):
            services.authenticate(user.email, "pas le bon mot de passe")
    assert failures(user.email) == 3
    resets.request_password_reset(user.email)
    reset, _problem = resets.find_password_reset(reset_token(outbox()[0]))
    resets.reset_password(reset, NEW_PASSWORD)
    assert failures(user.email) == 0


# --- Organisations and territories ---------------------------------------------------------


def test_save_organisation_refuses_a_siret_already_used(ctx):
    region_admin = make_user(make_org(OrgKind.REGION), admin=True)
    data = {"kind": OrgKind.EMPLOYER, "name": "Boulangeries du Val", "siret": "73282932000074"}
    first = services.save_organisation(data, by=region_admin)
    with pytest.raises(RuleError) as excinfo:
        services.save_organisation({**data, "name": "Autre boulangerie"}, by=region_admin)
    assert excinfo.value.field == "siret"
    assert excinfo.value.message == "Ce SIRET est déjà celui de Boulangeries du Val."
    # Saving the organisation with its own SIRET is not a clash.
    services.save_organisation({**data, "city": "Orléans"}, by=region_admin, organisation=first)
    assert first.city == "Orléans"
    assert [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))][
        -2:
    ] == ["organisation.created", "organisation.updated"]


def test_save_organisation_without_siret_and_partner_type_only_for_partners(ctx):
    region_admin = make_user(make_org(OrgKind.REGION), admin=True)
    data = {"kind": OrgKind.PROVIDER, "siret": "", "partner_type": PartnerType.EMPLOYMENT}
    one = services.save_organisation({**data, "name": "OF un"}, by=region_admin)
    two = services.save_organisation({**data, "name": "OF deux"}, by=region_admin)
    assert one.siret is None and two.siret is None
    assert one.partner_type is None
    partner = services.save_organisation(
        {**data, "kind": OrgKind.PARTNER, "name": "Mission locale"}, by=region_admin
    )
    assert partner.partner_type == PartnerType.EMPLOYMENT
    assert count(Organisation) == 4


def test_save_territory_referent_must_belong_to_the_region(ctx):
    region = make_org(OrgKind.REGION)
    region_admin = make_user(region, admin=True)
    outsider = make_user(make_org(OrgKind.PROVIDER))
    data = {"code": "ORL", "name": "Orléans", "departments": "45"}
    with pytest.raises(RuleError) as excinfo:
        services.save_territory({**data, "referent": outsider}, by=region_admin)
    assert excinfo.value.field == "referent"
    assert excinfo.value.message == "Le ou la référent·e doit être membre de la Région."

    referent = make_user(region)
    territory = services.save_territory({**data, "referent": referent}, by=region_admin)
    assert territory.referent is referent
    [event] = events("territory.created")
    assert event.detail == {"referent_id": referent.id}


def test_save_territory_refuses_a_former_region_member_as_referent(ctx):
    region = make_org(OrgKind.REGION)
    region_admin = make_user(region, admin=True)
    former = make_user(region)
    services.deactivate_membership(services.active_membership(former, region), by=region_admin)
    with pytest.raises(RuleError):
        services.save_territory(
            {"code": "TRS", "name": "Tours", "referent": former}, by=region_admin
        )


def test_save_territory_refuses_a_code_or_name_in_use(ctx):
    region_admin = make_user(make_org(OrgKind.REGION), admin=True)
    existing = make_territory("Blois", "BLO")
    with pytest.raises(RuleError) as excinfo:
        services.save_territory({"code": "BLO", "name": "Autre"}, by=region_admin)
    assert excinfo.value.field == "code"
    with pytest.raises(RuleError) as excinfo:
        services.save_territory({"code": "AUT", "name": "Blois"}, by=region_admin)
    assert excinfo.value.field == "name"
    services.save_territory(
        {"code": "BLO", "name": "Blois", "departments": "41"}, by=region_admin, territory=existing
    )
    assert existing.departments == "41"


# --- Authentication ------------------------------------------------------------------------


def test_authenticate_returns_the_user_whatever_the_email_case(ctx):
    user = make_user(make_org(), email="anne.dupont@example.fr")
    assert services.authenticate("  Anne.DUPONT@example.fr ", PASSWORD) is user
    assert user.last_login_at is not None
    [event] = events("login.succeeded")
    assert event.actor_id == user.id and event.detail == {"rehashed": False}


def test_unknown_email_and_wrong_password_give_the_same_message(ctx):
    user = make_user(make_org())
    with pytest.raises(RuleError) as unknown:
        services.authenticate("inconnu@example.fr", PASSWORD)
    with pytest.raises(RuleError) as wrong:
        services.authenticate(user.email, "pas le bon mot de passe")
    assert unknown.value.message == wrong.value.message == BAD_CREDENTIALS
    assert unknown.value.field is wrong.value.field is None
    assert [e.actor_id for e in events("login.failed")] == [None, user.id]


def test_a_disabled_account_is_refused_with_the_same_message(ctx):
    region_admin = make_user(make_org(OrgKind.REGION), admin=True)
    user = make_user(make_org())
    services.set_user_enabled(user, False, by=region_admin)
    with pytest.raises(RuleError) as excinfo:
        services.authenticate(user.email, PASSWORD)
    assert excinfo.value.message == BAD_CREDENTIALS
    services.set_user_enabled(user, True, by=region_admin)
    assert services.authenticate(user.email, PASSWORD) is user


def test_login_is_locked_per_account_and_ip(app, ctx):
    limit = app.config["LOGIN_MAX_PER_ACCOUNT_IP"]
    user = make_user(make_org())
    other = make_user(make_org())
    for _ in range(limit):
        with pytest.raises(RuleError, match=BAD_CREDENTIALS):
            services.authenticate(user.email, "pas le bon mot de passe")
    # Even the right password is refused now from this IP (tests/accounts/test_security.py:
    # from another IP the account is only slowed down).
    with pytest.raises(RuleError, match=TOO_MANY):
        services.authenticate(user.email.upper(), PASSWORD)
    assert [e.detail["email"] for e in events("login.blocked")] == [user.email]
    # Another account from the same IP is not affected.
    assert services.authenticate(other.email, PASSWORD) is other


def test_login_is_throttled_per_ip(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_PER_IP", 3)
    user = make_user(make_org())
    with from_ip(app, "203.0.113.7"):
        for n in range(3):
            with pytest.raises(RuleError, match=BAD_CREDENTIALS):
                services.authenticate(f"essai{n}@example.fr", PASSWORD)
        with pytest.raises(RuleError, match=TOO_MANY):
            services.authenticate(user.email, PASSWORD)
    with from_ip(app, "198.51.100.2"):
        assert services.authenticate(user.email, PASSWORD) is user
    # A success does not clear the IP's count.
    with from_ip(app, "203.0.113.7"), pytest.raises(RuleError, match=TOO_MANY):
        services.authenticate(user.email, PASSWORD)


def test_a_successful_login_clears_the_account_counter(app, ctx):
    limit = app.config["LOGIN_MAX_PER_ACCOUNT_IP"]
    user = make_user(make_org())
    for _round in range(2):
        for _ in range(limit - 1):
            with pytest.raises(RuleError, match=BAD_CREDENTIALS):
                services.authenticate(user.email, "pas le bon mot de passe")
        assert failures(user.email) == limit - 1
        assert services.authenticate(user.email, PASSWORD) is user
        assert failures(user.email) == 0


def test_using_a_reset_link_voids_the_other_pending_ones(ctx):
    from portal.accounts.models import PasswordReset

    org = make_org()
    user = make_user(org, email="two.links@example.fr")
    resets.request_password_reset(user.email)
    resets.request_password_reset(user.email)
    first, second = db.session.scalars(
        select(PasswordReset).where(PasswordReset.user_id == user.id).order_by(PasswordReset.id)
    ).all()
    resets.reset_password(first, "une autre phrase de passe solide")
    assert second.used_at is not None


def test_joining_with_an_existing_account_is_throttled(ctx, app):
    org = make_org()
    other = make_org()
    user = make_user(org, email="joiner@example.fr")
    inviter = make_user(other, admin=True, email="inviter@example.fr")
    invitation, _token = invitations.invite(user.email, other, by=inviter)
    for _ in range(app.config["LOGIN_MAX_PER_ACCOUNT_IP"]):
        with pytest.raises(services.ThrottledRuleError):
            invitations.accept_invitation(invitation, password="pas le bon mot de passe")
    with pytest.raises(RuleError) as blocked:
        invitations.accept_invitation(invitation, password=PASSWORD)
    assert "Trop de tentatives" in blocked.value.message
