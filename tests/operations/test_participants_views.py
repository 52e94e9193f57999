"""Participants of an operation over HTTP: the page and its htmx widget, adding a registered
organisation, inviting a new one by e-mail, withdrawing (history kept) — and who may."""

import pytest
from sqlalchemy import select

from portal.accounts.models import Invitation, Organisation, OrgKind, PartnerType
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.notifications.models import Notification
from portal.operations.models import Operation, OperationEvent, Participant, ParticipantRole, Status
from tests.operations.factories import (
    EMPLOYER,
    OF_A,
    OF_B,
    PARTNER,
    REFERENT,
    REGION_ADMIN,
    build_market,
    report,
    report_out_of_market,
    set_status,
)
from tests.support import HTMX, REQUIRED, count, flashes, login_as, text


@pytest.fixture
def market(app):
    return build_market(app)


@pytest.fixture
def op(app, market) -> int:
    """Under Organisme A's lot, in Tours; Région, Organisme A (by right) and Entreprise E."""
    return report(app)


@pytest.fixture
def out_op(app, market) -> int:
    """Outside any lot, in Orléans; Région, Organisme B (by right) and Entreprise F."""
    return report_out_of_market(app)


def url(operation_id: int, tail: str = "") -> str:
    return f"/operations/{operation_id}/participants{tail}"


def participant_of(app, operation_id: int, org_id: int) -> Participant:
    with app.app_context():
        participant = db.session.scalar(
            select(Participant).where(
                Participant.operation_id == operation_id, Participant.organisation_id == org_id
            )
        )
        db.session.expunge(participant)
        return participant


def confirmation(response) -> str:
    """The notice sent out of band into the page's live region (``role="status"``)."""
    fragment = text(response)
    assert '<div id="htmx-notices" hx-swap-oob="innerHTML">' in fragment
    return fragment.split('<div id="htmx-notices"', 1)[1].split(">", 2)[2].split("<", 1)[0]


def active_section(page: str) -> str:
    return page.split('id="active-participants"', 1)[1].split("</section>", 1)[0]


# --- The page and its widget -------------------------------------------------------------


@pytest.mark.parametrize("email", [OF_A, REGION_ADMIN, REFERENT, EMPLOYER])
def test_participants_page_renders_in_full(client, op, email):
    login_as(client, email)
    response = client.get(url(op))
    assert response.status_code == 200
    page = text(response)
    assert page.startswith("<!doctype html>")
    assert "<h1>Participants de l'opération</h1>" in page
    active = active_section(page)
    assert "Région Centre-Val de Loire" in active and "Organisme A" in active
    assert "Entreprise E" in active
    assert "HX-Request" in response.headers["Vary"]


def test_participants_widget_for_htmx(client, op):
    login_as(client, OF_A)
    response = client.get(url(op), headers=HTMX)
    assert response.status_code == 200
    fragment = text(response)
    assert fragment.lstrip().startswith('<div id="participants" hx-target="this"')
    assert "<html" not in fragment and "<h1>" not in fragment
    assert "HX-Request" in response.headers["Vary"]


def test_carrier_gets_the_management_forms(client, op):
    login_as(client, OF_A)
    page = text(client.get(url(op)))
    assert "Associer une organisation inscrite" in page
    assert "Inviter une organisation pas encore inscrite" in page
    assert "Motif du retrait d'Entreprise E" in page
    assert "Motif du retrait d'Organisme A" not in page  # by right


def test_employer_sees_the_participants_without_forms(client, op):
    login_as(client, EMPLOYER)
    page = text(client.get(url(op)))
    assert "Associer une organisation inscrite" not in page
    assert "Motif du retrait" not in page


@pytest.mark.parametrize("email", [OF_B, PARTNER])
def test_participants_page_is_404_for_outsiders(client, op, email):
    login_as(client, email)
    assert client.get(url(op)).status_code == 404
    assert client.get(url(op), headers=HTMX).status_code == 404


# --- Adding a registered organisation ----------------------------------------------------


def test_adding_a_partner_with_htmx_returns_the_widget_with_it(app, client, market, op):
    login_as(client, OF_A)
    response = client.post(
        url(op),
        data={"organisation_id": market.partner, "role": "partner_employment"},
        headers=HTMX,
    )
    assert response.status_code == 200
    fragment = text(response)
    assert fragment.lstrip().startswith('<div id="participants"')
    assert "Partenaire P" in active_section(fragment)
    assert "Partenaire emploi / économie" in active_section(fragment)
    assert confirmation(response) == "Partenaire P est associé·e à l'opération."
    assert participant_of(app, op, market.partner).role == ParticipantRole.PARTNER_EMPLOYMENT
    assert count(app, OperationEvent, OperationEvent.kind == "participant_added") == 1
    # The partner's admins hear of it.
    with app.app_context():
        [note] = db.session.scalars(
            select(Notification).where(Notification.kind == "participant_added")
        ).all()
        assert "Organisme A vous associe" in note.message
    # The partner now sees the operation.
    other = app.test_client()
    login_as(other, PARTNER)
    assert other.get(f"/operations/{op}").status_code == 200


def test_adding_without_htmx_redirects_to_the_page_with_a_flash(app, client, market, op):
    login_as(client, REGION_ADMIN)
    response = client.post(url(op), data={"organisation_id": market.partner, "role": "opco"})
    assert response.status_code == 303
    assert response.headers["Location"] == url(op)
    assert ("success", "Partenaire P est associé·e à l'opération.") in flashes(client)


@pytest.mark.parametrize(
    ("org", "role", "message"),
    [
        (
            "partner",
            "employer",
            "Partenaire P (Partenaire) ne peut pas avoir le rôle « Employeur ».",
        ),
        ("employer2", "opco", "ne peut pas avoir le rôle « OPCO »"),
        ("partner", "region", "N'est pas un choix valide."),
        ("partner", "", REQUIRED),
        ("", "opco", REQUIRED),
    ],
)
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_wrong_role_or_choice_is_refused_in_french(
    app, client, market, op, org, role, message, headers
):
    login_as(client, OF_A)
    data = {"organisation_id": getattr(market, org) if org else "", "role": role}
    response = client.post(url(op), data=data, headers=headers)
    assert response.status_code == 422
    body = text(response)
    assert message in body
    assert ("<html" in body) == (not headers)
    assert count(app, Participant, Participant.operation_id == op) == 3


def test_already_participating_organisation_is_not_offered_again(client, market, op):
    login_as(client, OF_A)
    form = text(client.get(url(op))).split('id="add-participant"', 1)[1].split("</form>", 1)[0]
    assert "Entreprise F" in form and "Partenaire P" in form
    assert "Entreprise E" not in form  # already taking part


def test_adding_an_organisation_of_another_operation_kind_is_refused(app, client, market, op):
    login_as(client, OF_A)
    response = client.post(url(op), data={"organisation_id": market.of_b, "role": "other"})
    assert response.status_code == 422  # not among the choices: providers join by right only
    assert count(app, Participant, Participant.operation_id == op) == 3


@pytest.mark.parametrize("email", [EMPLOYER])
def test_participants_who_do_not_steer_may_not_add(app, client, market, op, email):
    login_as(client, email)
    data = {"organisation_id": market.partner, "role": "opco"}
    assert client.post(url(op), data=data, headers=HTMX).status_code == 403
    invite = {"name": "Nouvelle", "email": "n@example.fr", "role": "employer"}
    assert client.post(url(op, "/invitation"), data=invite).status_code == 403
    assert count(app, Participant, Participant.operation_id == op) == 3
    assert count(app, Organisation) == 6


@pytest.mark.parametrize("email", [OF_B, PARTNER])
def test_outsiders_get_404_on_every_participant_action(app, client, market, op, email):
    login_as(client, email)
    employer = participant_of(app, op, market.employer)
    requests = [
        (url(op), {"organisation_id": market.partner, "role": "opco"}),
        (url(op, "/invitation"), {"name": "N", "email": "n@example.fr", "role": "employer"}),
        (url(op, f"/{employer.id}/retrait"), {"reason": "Intrusion"}),
    ]
    for target, data in requests:
        assert client.post(target, data=data).status_code == 404
    assert participant_of(app, op, market.employer).withdrawn_at is None
    assert count(app, Participant, Participant.operation_id == op) == 3


def test_participant_actions_refuse_a_missing_csrf_token(app, client, market, op):
    login_as(client, OF_A)
    data = {"organisation_id": market.partner, "role": "opco"}
    response = client.post(url(op), data=data, headers=HTMX, csrf=False)
    assert response.status_code == 400
    assert count(app, Participant, Participant.operation_id == op) == 3


def test_participants_are_frozen_once_the_operation_is_closed(app, client, market, op):
    set_status(app, op, Status.CLOSED)
    login_as(client, OF_A)
    page = text(client.get(url(op)))
    assert "Motif du retrait d'Entreprise E" not in page  # closed: no form…
    response = client.post(url(op), data={"organisation_id": market.partner, "role": "opco"})
    assert response.status_code == 422  # …and the rule answers in French
    assert "L'opération est close : ses participants ne changent plus." in text(response)


# --- Inviting a new organisation ---------------------------------------------------------


def test_inviting_a_new_employer_creates_it_with_an_invitation(app, client, market, op):
    login_as(client, OF_A)
    response = client.post(
        url(op, "/invitation"),
        data={
            "name": "Conserverie du Boischaut",
            "email": "RH@Conserverie.example",
            "role": "employer",
            "siret": "90000000008012",
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "Conserverie du Boischaut" in active_section(text(response))
    assert confirmation(response) == "Invitation envoyée à rh@conserverie.example."
    with app.app_context():
        organisation = db.session.scalar(
            select(Organisation).where(Organisation.name == "Conserverie du Boischaut")
        )
        assert organisation.kind == OrgKind.EMPLOYER
        [invitation] = db.session.scalars(select(Invitation)).all()
        assert (invitation.email, invitation.organisation_id, invitation.is_admin) == (
            "rh@conserverie.example",
            organisation.id,
            True,
        )
        [message] = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == "rh@conserverie.example")
        ).all()
        assert "Conserverie du Boischaut" in message.subject
        participant = db.session.scalar(
            select(Participant).where(Participant.organisation_id == organisation.id)
        )
        assert (participant.operation_id, participant.role) == (op, ParticipantRole.EMPLOYER)
    assert count(app, OperationEvent, OperationEvent.kind == "participant_invited") == 1


def test_inviting_a_new_partner_sets_its_partner_type(app, client, market, op):
    login_as(client, REGION_ADMIN)
    response = client.post(
        url(op, "/invitation"),
        data={"name": "Mission locale", "email": "ml@example.fr", "role": "partner_orientation"},
    )
    assert response.status_code == 303
    assert ("success", "Invitation envoyée à ml@example.fr.") in flashes(client)
    with app.app_context():
        organisation = db.session.scalar(
            select(Organisation).where(Organisation.name == "Mission locale")
        )
        assert (organisation.kind, organisation.partner_type) == (
            OrgKind.PARTNER,
            PartnerType.ORIENTATION,
        )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "email": "n@example.fr", "role": "employer"}, REQUIRED),
        (
            {"name": "Nouvelle", "email": "pas-une-adresse", "role": "employer"},
            "Saisissez une adresse électronique valide",
        ),
        (
            {"name": "Nouvelle", "email": "n@example.fr", "role": "other"},
            "N'est pas un choix valide.",
        ),
        (
            {"name": "Entreprise F", "email": "n@example.fr", "role": "employer"},
            "Entreprise F existe déjà dans le portail : choisissez-la dans la liste.",
        ),
        pytest.param(
            {"name": "Nouvelle", "email": "n@example.fr", "role": "employer"},
            "Indiquez le SIRET de l'entreprise : la Région le vérifie.",
            id="issue-11-M6-employer-without-siret",
        ),
    ],
)
def test_invalid_invitation_is_refused_in_french(app, client, op, data, message):
    login_as(client, OF_A)
    response = client.post(url(op, "/invitation"), data=data, headers=HTMX)
    assert response.status_code == 422
    assert message in text(response)
    assert count(app, Invitation) == 0
    assert count(app, OutboxMessage, OutboxMessage.recipient == data["email"]) == 0
    assert count(app, Organisation) == 6


# --- Withdrawing -------------------------------------------------------------------------


def test_withdrawing_keeps_the_history(app, client, market, op):
    employer = participant_of(app, op, market.employer)
    login_as(client, OF_A)
    response = client.post(
        url(op, f"/{employer.id}/retrait"), data={"reason": "Plus de poste"}, headers=HTMX
    )
    assert response.status_code == 200
    fragment = text(response)
    assert "Entreprise E" not in active_section(fragment)
    withdrawn = fragment.split('id="withdrawn-participants"', 1)[1]
    assert "Participants retirés" in fragment
    assert "Entreprise E (Employeur)" in withdrawn and ": Plus de poste" in withdrawn
    row = participant_of(app, op, market.employer)
    assert row.withdrawn_at is not None and row.withdrawal_reason == "Plus de poste"
    assert count(app, OperationEvent, OperationEvent.kind == "participant_withdrawn") == 1
    # The employer no longer sees the operation, and may be associated again.
    other = app.test_client()
    login_as(other, EMPLOYER)
    assert other.get(f"/operations/{op}").status_code == 404
    again = client.post(url(op), data={"organisation_id": market.employer, "role": "employer"})
    assert again.status_code == 303
    assert count(app, Participant, Participant.organisation_id == market.employer) == 2


def test_withdrawing_needs_a_reason(app, client, market, op):
    employer = participant_of(app, op, market.employer)
    login_as(client, OF_A)
    response = client.post(url(op, f"/{employer.id}/retrait"), data={"reason": " "}, headers=HTMX)
    assert response.status_code == 422
    assert "Indiquez le motif du retrait." in text(response)
    assert participant_of(app, op, market.employer).withdrawn_at is None


@pytest.mark.parametrize("org", ["of_a", "region"])
def test_by_right_participants_cannot_be_withdrawn(app, client, market, op, org):
    by_right = participant_of(app, op, getattr(market, org))
    login_as(client, REGION_ADMIN)
    response = client.post(url(op, f"/{by_right.id}/retrait"), data={"reason": "Essai"})
    assert response.status_code == 422
    assert "La Région et l'organisme porteur participent de droit." in text(response)
    assert participant_of(app, op, getattr(market, org)).withdrawn_at is None


def test_withdrawing_twice_is_refused(app, client, market, op):
    employer = participant_of(app, op, market.employer)
    login_as(client, OF_A)
    client.post(url(op, f"/{employer.id}/retrait"), data={"reason": "Plus de poste"})
    response = client.post(url(op, f"/{employer.id}/retrait"), data={"reason": "Encore"})
    assert response.status_code == 422
    assert "Ce participant est déjà retiré." in text(response)


def test_employer_may_not_withdraw(app, client, market, op):
    employer = participant_of(app, op, market.employer)
    login_as(client, EMPLOYER)
    response = client.post(url(op, f"/{employer.id}/retrait"), data={"reason": "Je pars"})
    assert response.status_code == 403
    assert participant_of(app, op, market.employer).withdrawn_at is None


def test_participant_of_another_operation_is_404(app, client, market, op, out_op):
    foreign = participant_of(app, out_op, market.employer2)
    login_as(client, REGION_ADMIN)  # sees both operations
    response = client.post(url(op, f"/{foreign.id}/retrait"), data={"reason": "Erreur"})
    assert response.status_code == 404
    assert client.post(url(op, "/999999/retrait"), data={"reason": "Erreur"}).status_code == 404
    assert participant_of(app, out_op, market.employer2).withdrawn_at is None


def test_withdrawn_participants_section_is_absent_when_none(client, op):
    login_as(client, OF_A)
    assert "Participants retirés" not in text(client.get(url(op)))


def test_operation_page_links_to_the_participants(app, client, op):
    login_as(client, OF_A)
    page = text(client.get(f"/operations/{op}"))
    assert f'href="/operations/{op}/participants"' in page
    assert "Gérer les participants" in page
    with app.app_context():
        assert db.session.get(Operation, op).status == Status.NEED_REPORTED
