"""Members and invitations of an organisation over HTTP: the page, its htmx widget, access."""

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from portal.accounts import services
from portal.accounts.invitations import invite
from portal.accounts.models import Invitation, Membership, Organisation, User
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.mail.models import OutboxMessage
from tests.support import HTMX, login_as

INVALID_EMAIL = "Saisissez une adresse électronique valide"
LAST_ADMIN = "L'organisation doit garder au moins un·e administrateur·rice."


def text(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'")


def members_url(org_id: int) -> str:
    return f"/organisations/{org_id}/membres"


def membership_of(app, user_id: int, org_id: int) -> Membership:
    with app.app_context():
        membership = db.session.scalar(
            select(Membership).where(
                Membership.user_id == user_id, Membership.organisation_id == org_id
            )
        )
        db.session.expunge(membership)
        return membership


def pending_invitation(app, world, email: str, org: str, by: str) -> int:
    """A pending invitation of ``org`` sent by ``by``; returns its id."""
    with app.test_request_context():
        invitation, _token = invite(
            email,
            db.session.get(Organisation, world.ids[org]),
            by=db.session.get(User, world.ids[by]),
        )
        db.session.commit()
        return invitation.id


def invitations(app, **where) -> list[Invitation]:
    with app.app_context():
        found = db.session.scalars(select(Invitation).filter_by(**where)).all()
        db.session.expunge_all()
        return found


def audit_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent))


# --- The page and its fragment -----------------------------------------------------------


def test_members_page_renders_in_full(client, world):
    login_as(client, world.emails["a_admin"])
    response = client.get(members_url(world.of_a))
    assert response.status_code == 200
    page = text(response)
    assert page.startswith("<!doctype html>")
    assert "<h1>Organisme A</h1>" in page
    assert '<div id="members"' in page
    assert world.emails["a_member"] in page
    assert "Aucune invitation en attente." in page
    assert "HX-Request" in response.headers["Vary"]


def test_members_page_answers_htmx_with_the_widget_only(client, world):
    login_as(client, world.emails["a_admin"])
    response = client.get(members_url(world.of_a), headers=HTMX)
    assert response.status_code == 200
    fragment = text(response)
    assert "<html" not in fragment and "<h1>" not in fragment
    assert fragment.lstrip().startswith('<div id="members"')
    assert world.emails["a_member"] in fragment
    assert "HX-Request" in response.headers["Vary"]


def test_history_restore_gets_the_full_page(client, world):
    login_as(client, world.emails["a_admin"])
    response = client.get(
        members_url(world.of_a), headers={**HTMX, "HX-History-Restore-Request": "true"}
    )
    assert text(response).startswith("<!doctype html>")


def test_member_sees_own_organisation_without_management(client, world):
    login_as(client, world.emails["a_member"])
    response = client.get(members_url(world.of_a))
    assert response.status_code == 200
    page = text(response)
    assert world.emails["a_admin"] in page
    assert "Envoyer l'invitation" not in page
    assert "Désactiver" not in page


def test_admin_sees_management_buttons(client, world):
    login_as(client, world.emails["a_admin"])
    page = text(client.get(members_url(world.of_a)))
    assert "Envoyer l'invitation" in page
    assert "Nommer administrateur·rice" in page
    assert "Désactiver" in page


# --- Inviting ----------------------------------------------------------------------------


def test_invite_with_htmx_returns_the_widget_with_the_pending_invitation(app, client, world):
    login_as(client, world.emails["a_admin"])
    response = client.post(
        f"/organisations/{world.of_a}/invitations",
        data={"email": "Nouvelle.Recrue@Example.fr", "is_admin": "y"},
        headers=HTMX,
    )
    assert response.status_code == 200
    fragment = text(response)
    assert fragment.lstrip().startswith('<div id="members"')
    assert "<html" not in fragment
    assert "nouvelle.recrue@example.fr (administrateur·rice)" in fragment
    assert "Aucune invitation en attente." not in fragment
    # The form comes back empty, ready for the next invitation.
    assert 'value="nouvelle.recrue@example.fr"' not in fragment
    [invitation] = invitations(app)
    assert (invitation.email, invitation.organisation_id, invitation.is_admin) == (
        "nouvelle.recrue@example.fr",
        world.of_a,
        True,
    )


def test_invitation_email_carries_a_working_link(app, client, other_client, world):
    login_as(client, world.emails["a_admin"])
    client.post(f"/organisations/{world.of_a}/invitations", data={"email": "recrue@example.fr"})
    with app.app_context():
        [message] = db.session.scalars(select(OutboxMessage)).all()
    assert message.recipient == "recrue@example.fr"
    assert "Organisme A" in message.subject
    link = re.search(r"https?://\S+/invitation/\S+", message.body).group(0)
    page = other_client.get(urlsplit(link).path)
    assert page.status_code == 200
    assert "Rejoindre Organisme A" in text(page)


def test_invite_without_htmx_redirects_to_the_page(app, client, world):
    login_as(client, world.emails["a_admin"])
    response = client.post(
        f"/organisations/{world.of_a}/invitations", data={"email": "recrue@example.fr"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == members_url(world.of_a)
    page = text(client.get(response.headers["Location"]))
    assert "Invitation envoyée à recrue@example.fr." in page
    assert "recrue@example.fr —" in page


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_invalid_email_is_refused_in_french(app, client, world, headers):
    login_as(client, world.emails["a_admin"])
    response = client.post(
        f"/organisations/{world.of_a}/invitations",
        data={"email": "pas-une-adresse"},
        headers=headers,
    )
    assert response.status_code == 422
    body = text(response)
    assert INVALID_EMAIL in body
    assert 'aria-invalid="true"' in body
    assert ("<html" in body) == (not headers)
    assert invitations(app) == []


def test_inviting_an_active_member_is_refused(app, client, world):
    login_as(client, world.emails["a_admin"])
    response = client.post(
        f"/organisations/{world.of_a}/invitations",
        data={"email": world.emails["a_member"]},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "Cette personne est déjà membre d'Organisme A." in text(response)
    assert invitations(app) == []


def test_revoking_an_invitation_removes_it_from_the_widget(app, client, world):
    invitation_id = pending_invitation(app, world, "recrue@example.fr", "of_a", "a_admin")
    login_as(client, world.emails["a_admin"])
    response = client.post(
        f"/organisations/{world.of_a}/invitations/{invitation_id}/annulation", headers=HTMX
    )
    assert response.status_code == 200
    assert "recrue@example.fr" not in text(response)
    assert "Aucune invitation en attente." in text(response)
    [invitation] = invitations(app)
    assert invitation.revoked_at is not None


# --- Managing members --------------------------------------------------------------------


def test_admin_grants_and_withdraws_the_admin_role(app, client, world):
    member = membership_of(app, world.a_member, world.of_a)
    url = f"/organisations/{world.of_a}/membres/{member.id}/administration"
    login_as(client, world.emails["a_admin"])
    granted = client.post(url, data={"is_admin": "1"}, headers=HTMX)
    assert granted.status_code == 200
    assert "Retirer l'administration" in text(granted)
    assert membership_of(app, world.a_member, world.of_a).is_admin
    withdrawn = client.post(url, data={"is_admin": "0"})
    assert withdrawn.status_code == 303
    assert not membership_of(app, world.a_member, world.of_a).is_admin


def test_the_last_admin_cannot_be_withdrawn(app, client, world):
    admin = membership_of(app, world.b_admin, world.of_b)
    login_as(client, world.emails["region_admin"])
    url = f"/organisations/{world.of_b}/membres/{admin.id}/administration"
    response = client.post(url, data={"is_admin": "0"}, headers=HTMX)
    assert response.status_code == 422
    assert LAST_ADMIN in text(response)
    assert membership_of(app, world.b_admin, world.of_b).is_admin
    # Without htmx the same refusal comes back as a message on the page.
    plain = client.post(url, data={"is_admin": "0"})
    assert plain.status_code == 303
    assert LAST_ADMIN in text(client.get(plain.headers["Location"]))


def test_deactivated_member_moves_to_former_members(app, client, world):
    member = membership_of(app, world.a_member, world.of_a)
    login_as(client, world.emails["a_admin"])
    response = client.post(
        f"/organisations/{world.of_a}/membres/{member.id}/desactivation", headers=HTMX
    )
    assert response.status_code == 200
    fragment = text(response)
    assert "Anciens membres (derniers départs)" in fragment
    assert "désactivé·e le" in fragment
    assert world.emails["a_member"] not in fragment  # the e-mail shows only for active members
    assert not membership_of(app, world.a_member, world.of_a).active


def test_admin_cannot_deactivate_themselves(app, client, world):
    other_admin = membership_of(app, world.a_member, world.of_a)
    with app.app_context():
        db.session.get(Membership, other_admin.id).is_admin = True
        db.session.commit()
    own = membership_of(app, world.a_admin, world.of_a)
    login_as(client, world.emails["a_admin"])
    response = client.post(
        f"/organisations/{world.of_a}/membres/{own.id}/desactivation", headers=HTMX
    )
    assert response.status_code == 422
    assert "Vous ne pouvez pas vous retirer vous-même" in text(response)
    assert membership_of(app, world.a_admin, world.of_a).active


# --- Access ------------------------------------------------------------------------------


def test_other_organisation_members_are_hidden(client, world):
    login_as(client, world.emails["a_member"])
    response = client.get(members_url(world.of_b))
    assert response.status_code == 403
    assert "Accès refusé" in text(response)
    assert world.emails["b_admin"] not in text(response)


def test_admin_of_a_cannot_change_organisation_b(app, client, world):
    invitation_id = pending_invitation(app, world, "recrue@example.fr", "of_b", "b_admin")
    b_admin = membership_of(app, world.b_admin, world.of_b)
    login_as(client, world.emails["a_admin"])
    assert client.get(members_url(world.of_b)).status_code == 403
    before = audit_count(app)
    for url, data in [
        (f"/organisations/{world.of_b}/invitations", {"email": "intrus@example.fr"}),
        (f"/organisations/{world.of_b}/invitations/{invitation_id}/annulation", {}),
        (f"/organisations/{world.of_b}/membres/{b_admin.id}/desactivation", {}),
        (f"/organisations/{world.of_b}/membres/{b_admin.id}/administration", {"is_admin": "0"}),
    ]:
        assert client.post(url, data=data).status_code == 403, url
    assert audit_count(app) == before
    assert [i.email for i in invitations(app)] == ["recrue@example.fr"]
    assert invitations(app)[0].revoked_at is None
    assert membership_of(app, world.b_admin, world.of_b).active


def test_objects_of_b_under_a_url_are_not_found(app, client, world):
    invitation_id = pending_invitation(app, world, "recrue@example.fr", "of_b", "b_admin")
    b_admin = membership_of(app, world.b_admin, world.of_b)
    login_as(client, world.emails["a_admin"])
    for url, data in [
        (f"/organisations/{world.of_a}/membres/{b_admin.id}/desactivation", {}),
        (f"/organisations/{world.of_a}/membres/{b_admin.id}/administration", {"is_admin": "0"}),
        (f"/organisations/{world.of_a}/invitations/{invitation_id}/annulation", {}),
    ]:
        response = client.post(url, data=data)
        assert response.status_code == 404, url
        assert "Page introuvable" in text(response)
    assert membership_of(app, world.b_admin, world.of_b).active
    assert membership_of(app, world.b_admin, world.of_b).is_admin
    assert invitations(app)[0].revoked_at is None


def test_member_without_admin_role_cannot_invite_or_deactivate(app, client, world):
    admin = membership_of(app, world.a_admin, world.of_a)
    login_as(client, world.emails["a_member"])
    invite = client.post(
        f"/organisations/{world.of_a}/invitations", data={"email": "recrue@example.fr"}
    )
    assert invite.status_code == 403
    deactivate = client.post(f"/organisations/{world.of_a}/membres/{admin.id}/desactivation")
    assert deactivate.status_code == 403
    assert invitations(app) == []
    assert membership_of(app, world.a_admin, world.of_a).active


def test_region_admin_manages_any_organisation(app, client, world):
    invitation_id = pending_invitation(app, world, "ancienne@example.fr", "of_b", "b_admin")
    login_as(client, world.emails["region_admin"])
    page = client.get(members_url(world.of_b))
    assert page.status_code == 200
    assert "Envoyer l'invitation" in text(page)

    invited = client.post(
        f"/organisations/{world.of_b}/invitations", data={"email": "recrue@example.fr"}
    )
    assert invited.status_code == 303
    revoked = client.post(f"/organisations/{world.of_b}/invitations/{invitation_id}/annulation")
    assert revoked.status_code == 303
    with app.app_context():
        extra = services.add_membership(
            db.session.get(User, world.a_member), db.session.get(Organisation, world.of_b)
        )
        db.session.commit()
        extra_id = extra.id
    promoted = client.post(
        f"/organisations/{world.of_b}/membres/{extra_id}/administration", data={"is_admin": "1"}
    )
    assert promoted.status_code == 303
    removed = client.post(f"/organisations/{world.of_b}/membres/{extra_id}/desactivation")
    assert removed.status_code == 303

    pending = {i.email: i.revoked_at for i in invitations(app, organisation_id=world.of_b)}
    assert pending["recrue@example.fr"] is None
    assert pending["ancienne@example.fr"] is not None
    with app.app_context():
        membership = db.session.get(Membership, extra_id)
        assert membership.is_admin and not membership.active
        assert membership.deactivated_by_id == world.region_admin


def test_region_member_views_but_does_not_manage(app, client, world):
    login_as(client, world.emails["region_member"])
    page = client.get(members_url(world.of_b))
    assert page.status_code == 200
    assert "Envoyer l'invitation" not in text(page)
    refused = client.post(
        f"/organisations/{world.of_b}/invitations", data={"email": "recrue@example.fr"}
    )
    assert refused.status_code == 403
    assert invitations(app) == []


def test_unknown_organisation_is_404(client, world):
    login_as(client, world.emails["region_admin"])
    assert client.get(members_url(999999)).status_code == 404
