"""Prescribers propose candidates (issue #12 §2): the rules of a proposal (who, when, the
consent statement word for word, the minimum data, no duplicate), what the organisme
porteur is told, and the proposals page over HTTP — each role, the refusals (403, 404,
anonymous, CSRF), the htmx widget, the access log."""

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.core.errors import RuleError
from portal.extensions import db
from portal.notifications.models import Notification
from portal.operations.models import Operation, OperationEvent, Status
from portal.recruitment import prescription
from portal.recruitment.models import Proposal, Trainee, TraineeAccess, TraineeStatus
from tests.operations.factories import EMPLOYER, OF_A, OF_B, PARTNER, REGION_ADMIN, set_status
from tests.recruitment.factories import PARTNER2
from tests.support import HTMX, count, login_as, text, user_with

CANDIDATE = {
    "last_name": "Lambert",
    "first_name": "Yasmine",
    "email": "yasmine.lambert@example.fr",
    "phone": "",
    "birth_year": "1999",
    "public_category": "youth",
}


def url(rec) -> str:
    return f"/operations/{rec.op}/recrutement/propositions"


def consent(app, rec, account=PARTNER) -> str:
    with app.test_request_context():
        operation = db.session.get(Operation, rec.op)
        org = user_with(account).memberships[0].organisation
        return prescription.consent_text(operation, org)


def form(app, rec, account=PARTNER, **overrides) -> dict:
    return {**CANDIDATE, "consent": "y", "consent_text": consent(app, rec, account), **overrides}


# --- Rules -------------------------------------------------------------------------------


def _propose(rec, email=PARTNER, data=None, text_=None, operation=None):
    user = user_with(email)
    org = user.memberships[0].organisation
    operation = operation or db.session.get(Operation, rec.op)
    statement = prescription.consent_text(operation, org) if text_ is None else text_
    row = dict(CANDIDATE, birth_year=1999) | (data or {})
    return prescription.propose_candidate(operation, row, statement, by=user, org=org)


def test_a_prescriber_proposes_with_the_consent_it_read(app, rec):
    with app.test_request_context():
        trainee = _propose(rec)
        proposal = db.session.scalar(select(Proposal).where(Proposal.trainee_id == trainee.id))
        assert trainee.status == TraineeStatus.CANDIDATE
        assert trainee.prescriber_id == rec.partner
        assert (trainee.public_category, trainee.email) == ("youth", "yasmine.lambert@example.fr")
        assert proposal.organisation_id == rec.partner
        assert proposal.proposed_by.email == PARTNER
        assert proposal.consent_text.startswith("Je certifie avoir informé la personne")
        assert "« Agent·e de propreté et d'hygiène »" in proposal.consent_text
        assert "Organisme A" in proposal.consent_text and "Partenaire P" in proposal.consent_text
        # The organisme porteur is told (in the portal and by e-mail), the timeline names
        # the prescriber, never the person; the audit event carries ids only.
        note = db.session.scalar(
            select(Notification).where(Notification.kind == "candidate_proposed")
        )
        assert note.user_id == user_with(OF_A).id
        assert "Partenaire P propose un·e candidat·e" in note.message
        assert note.link.endswith(f"/stagiaires/{trainee.id}")
        event = db.session.scalar(
            select(OperationEvent).where(OperationEvent.kind == "candidate_proposed")
        )
        assert event.detail == {"prescriber": "Partenaire P"}
        audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "trainee.proposed"))
        assert "Lambert" not in str(audit.detail)
        db.session.rollback()


@pytest.mark.parametrize(
    ("who", "status", "message"),
    [
        (OF_A, Status.RECRUITMENT, "Seuls les partenaires prescripteurs de l'opération"),
        (EMPLOYER, Status.RECRUITMENT, "Seuls les partenaires prescripteurs de l'opération"),
        (PARTNER, Status.CONVENTION, "l'opération est à l'étape « Convention de partenariat »"),
        (PARTNER, Status.FOLLOW_UP, "l'opération est à l'étape « Suivi dans l'emploi »"),
    ],
)
def test_only_a_prescriber_proposes_and_while_recruiting(app, rec, who, status, message):
    set_status(app, rec.op, status)
    with app.test_request_context():
        with pytest.raises(RuleError) as refused:
            _propose(rec, email=who)
        assert message in refused.value.message
        db.session.rollback()
    assert count(app, Trainee) == 3


def test_an_opco_partner_does_not_prescribe(app, rec):
    with app.test_request_context():
        operation = db.session.get(Operation, rec.op)
        [participant] = [p for p in operation.participants if p.organisation_id == rec.partner]
        participant.role = participant.role.OPCO
        assert not prescription.is_prescriber(operation, participant.organisation)
        with pytest.raises(RuleError):
            _propose(rec, operation=operation)
        db.session.rollback()


@pytest.mark.parametrize(
    ("data", "text_", "field", "message"),
    [
        ({}, "J'ai le consentement.", "consent", "Cochez la déclaration de consentement"),
        ({"email": "", "phone": ""}, None, "email", "Indiquez une adresse électronique ou un"),
        ({"last_name": " "}, None, "last_name", "Indiquez le nom."),
        ({"birth_year": 1900}, None, "birth_year", "Année de naissance attendue entre"),
        ({"public_category": "martians"}, None, "public_category", "Public inconnu."),
        ({"email": "ines.moreau@example.fr"}, None, "email", "Une candidature avec cette"),
        (
            {"last_name": "Moreau", "first_name": "Inès", "birth_year": 1998, "email": ""},
            None,
            "last_name",
            "Cette personne est déjà enregistrée dans l'opération.",
        ),
    ],
)
def test_a_proposal_is_refused_in_french_with_nothing_saved(app, rec, data, text_, field, message):
    with app.test_request_context():
        with pytest.raises(RuleError) as refused:
            _propose(rec, data={"phone": "06 01 02 03 04", **data}, text_=text_)
        assert refused.value.field == field
        assert refused.value.message.startswith(message)
        db.session.rollback()
    assert count(app, Proposal) == 0


# --- The page ----------------------------------------------------------------------------


def test_the_prescriber_proposes_and_sees_its_candidates_only(app, client, dating):
    login_as(client, PARTNER)
    page = text(client.get(url(dating)))
    assert "Proposer une candidature" in page and "Je certifie avoir informé" in page
    listed = page.split('id="proposed-title"', 1)[1]
    assert "Moreau Inès" in listed  # oriented by Partenaire P (recorded by the organisme)
    assert "Quentin" not in listed and "Petit" not in listed  # Partenaire Q's, nobody's
    response = client.post(url(dating), data=form(app, dating))
    assert response.status_code == 303 and response.location.endswith(url(dating))
    page = text(client.get(url(dating)))
    assert "Candidature de Yasmine Lambert proposée" in page
    row = page.split("Lambert Yasmine", 1)[1].split("</tr>", 1)[0]
    assert "Jeunes de moins de 26 ans" in row and "Candidat·e" in row


def test_a_second_prescriber_sees_only_its_own(client, dating):
    login_as(client, PARTNER2)
    listed = text(client.get(url(dating))).split('id="proposed-title"', 1)[1]
    assert "Quentin Nora" in listed and "Bénéficiaires du RSA" in listed
    assert "Moreau" not in listed


def test_htmx_proposal_swaps_the_widget(app, client, rec):
    login_as(client, PARTNER)
    response = client.post(url(rec), data=form(app, rec), headers=HTMX)
    body = text(response)
    assert response.status_code == 200 and "Vary" in response.headers
    assert body.lstrip().startswith('<div id="proposals"') and "<html" not in body
    assert "Candidature de Yasmine Lambert proposée" in body and "Lambert Yasmine" in body
    blank = body.split("</form>", 1)[0]  # a blank form for the next one
    assert 'id="last_name"' in blank and 'value="Lambert"' not in blank


def test_a_refused_proposal_keeps_what_was_typed(app, client, rec):
    login_as(client, PARTNER)
    response = client.post(url(rec), data=form(app, rec, consent=""), headers=HTMX)
    body = text(response)
    assert response.status_code == 422 and body.lstrip().startswith('<div id="proposals"')
    assert "Cochez la déclaration de consentement." in body and 'value="Lambert"' in body
    duplicate = form(app, rec, email="ines.moreau@example.fr")
    body = text(client.post(url(rec), data=duplicate))
    assert "Une candidature avec cette adresse existe déjà." in body
    assert count(app, Trainee) == 3


def test_a_changed_statement_must_be_read_again(app, client, rec):
    login_as(client, PARTNER)
    data = form(app, rec)
    with app.app_context():
        db.session.get(Operation, rec.op).title = "Agent·e de propreté — session de printemps"
        db.session.commit()
    response = client.post(url(rec), data=data)
    body = text(response)
    assert response.status_code == 422
    assert "La déclaration a changé : relisez-la, puis cochez-la." in body
    assert "« Agent·e de propreté — session de printemps »" in body
    assert count(app, Proposal) == 0


@pytest.mark.parametrize("who", [OF_A, REGION_ADMIN])
def test_the_organisme_and_the_region_read_every_proposal(app, client, dating, who):
    with app.test_request_context():
        _propose(dating)
        db.session.commit()
    login_as(client, who)
    page = text(client.get(url(dating)))
    assert "Proposer une candidature" not in page
    assert "Lambert Yasmine" in page and "(Partenaire P)" in page
    assert client.post(url(dating), data=form(app, dating)).status_code == 403


def test_an_employer_is_refused_and_an_outsider_learns_nothing(app, client, rec):
    login_as(client, EMPLOYER)
    assert client.get(url(rec)).status_code == 403
    assert client.post(url(rec), data=form(app, rec)).status_code == 403
    login_as(client, OF_B)
    assert client.get(url(rec)).status_code == 404
    assert client.post(url(rec), data=form(app, rec)).status_code == 404
    assert count(app, Trainee) == 3


def test_anonymous_and_csrf(app, client, rec):
    assert client.get(url(rec)).location.startswith("/connexion")
    login_as(client, PARTNER)
    response = client.post(url(rec), data=form(app, rec), csrf=False)
    assert response.status_code == 400
    assert count(app, Proposal) == 0


def test_the_page_writes_the_access_log(app, client, dating):
    login_as(client, PARTNER2)
    client.get(url(dating))
    with app.app_context():
        row = db.session.scalar(select(TraineeAccess).where(TraineeAccess.action == "proposals"))
        assert row.trainee_ids == [dating.from_q]
