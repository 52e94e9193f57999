"""The audit log: append-only, and every sensitive action says who, where and from what."""

import pytest
from sqlalchemy import delete, select, update

from portal.accounts import invitations, services
from portal.accounts.models import OrgKind
from portal.audit.models import AuditEvent
from portal.audit.services import record
from portal.core.errors import RuleError
from portal.extensions import db
from tests.factories import make_org, make_user
from tests.support import PASSWORD

IP = "203.0.113.42"
AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture
def browser(app):
    """A request from a known IP and browser; nothing is committed."""
    with app.test_request_context(environ_base={"REMOTE_ADDR": IP}, headers={"User-Agent": AGENT}):
        yield
        db.session.rollback()


def only(action: str) -> AuditEvent:
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()
    return event


def assert_from_browser(event: AuditEvent) -> None:
    assert (event.ip, event.user_agent) == (IP, AGENT)
    assert event.at is not None


# --- Append-only -------------------------------------------------------------------------


def test_an_event_cannot_be_updated(ctx):
    event = record("test.event", note="avant")
    event.action = "test.changed"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()


def test_an_event_cannot_be_deleted(ctx):
    event = record("test.event")
    db.session.delete(event)
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()


def test_bulk_orm_update_and_delete_are_refused_too(ctx):
    record("test.event")
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.execute(update(AuditEvent).values(action="test.changed"))
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.execute(delete(AuditEvent))
    db.session.rollback()


def test_events_of_the_same_kind_accumulate(ctx):
    for n in range(3):
        record("test.event", n=n)
    details = db.session.scalars(select(AuditEvent.detail).order_by(AuditEvent.id)).all()
    assert details == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_outside_a_request_there_is_no_ip_nor_agent(app):
    with app.app_context():
        event = record("test.cli")
        assert (event.ip, event.user_agent) == ("", "")
        db.session.rollback()


def test_a_long_user_agent_is_truncated(app):
    with app.test_request_context(headers={"User-Agent": "x" * 500}):
        assert len(record("test.event").user_agent) == 300
        db.session.rollback()


# --- What is recorded ----------------------------------------------------------------------


def test_login_success_and_failure(browser):
    org = make_org()
    user = make_user(org)
    with pytest.raises(RuleError):
        services.authenticate(user.email, "pas le bon mot de passe")
    services.authenticate(user.email, PASSWORD)

    failed = only("login.failed")
    assert failed.actor_id == user.id and failed.detail == {"email": user.email}
    assert_from_browser(failed)
    succeeded = only("login.succeeded")
    assert succeeded.actor_id == user.id
    assert_from_browser(succeeded)


def test_login_failure_for_an_unknown_email(browser):
    with pytest.raises(RuleError):
        services.authenticate("Inconnu@Example.fr", PASSWORD)
    failed = only("login.failed")
    assert failed.actor_id is None and failed.detail == {"email": "inconnu@example.fr"}
    assert_from_browser(failed)


def test_invitation_events(browser):
    org = make_org(OrgKind.EMPLOYER)
    admin = make_user(org, admin=True)
    invitation, _token = invitations.invite("nouveau@example.fr", org, by=admin)
    invitations.revoke_invitation(invitation, by=admin)
    for action in ("invitation.sent", "invitation.revoked"):
        event = only(action)
        assert (event.actor_id, event.organisation_id) == (admin.id, org.id)
        assert (event.object_type, event.object_id) == ("Invitation", invitation.id)
        assert_from_browser(event)

    again, _token = invitations.invite("nouveau@example.fr", org, by=admin)
    newcomer = invitations.accept_invitation(
        again, first_name="Léa", last_name="Roy", password=PASSWORD
    )
    accepted = only("invitation.accepted")
    assert (accepted.actor_id, accepted.organisation_id) == (newcomer.id, org.id)
    assert_from_browser(accepted)


def test_membership_events(browser):
    org = make_org()
    admin = make_user(org, admin=True)
    member = make_user(org)
    membership = services.active_membership(member, org)
    services.set_admin(membership, True, by=admin)
    services.set_admin(membership, False, by=admin)
    services.deactivate_membership(membership, by=admin)

    created = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "membership.created")
    ).all()
    assert [e.detail["user_id"] for e in created] == [admin.id, member.id]
    changes = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "membership.admin_changed")
        .order_by(AuditEvent.id)
    ).all()
    assert [e.detail["is_admin"] for e in changes] == [True, False]
    deactivated = only("membership.deactivated")
    for event in [*created, *changes, deactivated]:
        assert event.organisation_id == org.id
        assert (event.object_type, event.object_id) in (
            ("Membership", membership.id),
            ("Membership", services.active_membership(admin, org).id),
        )
        assert_from_browser(event)
    assert all(e.actor_id == admin.id for e in [*changes, deactivated])
    assert deactivated.detail == {"user_id": member.id}
    ended = only("sessions.ended")
    assert (ended.actor_id, ended.object_id) == (admin.id, member.id)
