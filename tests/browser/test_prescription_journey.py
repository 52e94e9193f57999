"""Recruitment with the prescribers and the employers (issue #12 §2), in three browsers,
axe-core on every page and state.

Partenaire P's adviser proposes two candidates, ticking the consent statement (after
forgetting it once), and sees them « Candidat·e ». The organisme plans a job dating held
yesterday, invites both candidates and Entreprise E, records who came. Entreprise E's
admin opens the session — names only, no public category — and gives an opinion on each
candidate, in place. The organisme reads the opinions on the first candidate's record,
retains and matches her to one of Entreprise E's promises; the employer finds the match
in its notifications, and the adviser sees her « Retenu·e ».

The starting state (an operation at the recruitment step with promises, Partenaire P an
orientation partner) is built with the factories, apart from the demo.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.accounts.models import Organisation
from portal.core.employment import ContractType
from portal.core.french import de
from portal.extensions import db
from portal.operations.models import Operation
from portal.recruitment import services
from tests.browser.support import (
    card,
    check_a11y,
    expect_same_document,
    flash,
    heading,
    logged_in,
    mark_document,
    visit,
)
from tests.operations.factories import Market
from tests.recruitment.factories import add_positions, make_recruiting_operation

pytestmark = pytest.mark.browser

# (last name, first name, e-mail, public) of the two candidates the adviser proposes.
YASMINE = ("Lambert", "Yasmine", "yasmine.lambert@example.fr", "Jeunes de moins de 26 ans")
KARIM = ("Traoré", "Karim", "karim.traore@example.fr", "Bénéficiaires du RSA")


@dataclass
class Journey:
    operation_id: int
    title: str
    of_email: str
    employer_email: str
    partner_email: str

    def path(self, rest: str = "") -> str:
        return f"/operations/{self.operation_id}/recrutement{rest}"


@pytest.fixture
def journey(app, live_server) -> Journey:
    """Organisme A's operation recruiting on 2 promises at Entreprise E and 1 at F, with
    Partenaire P as orientation partner (a prescriber)."""
    with app.test_request_context(base_url=live_server.url):
        market = Market()
        operation = make_recruiting_operation(market, target=2, counts=(2, 1))
        market.partner_user.first_name, market.partner_user.last_name = "Sarah", "Conseillère"
        db.session.commit()
        return Journey(
            operation.id,
            operation.title,
            market.a_user.email,
            market.employer_user.email,
            market.partner_user.email,
        )


def full_name(candidate) -> str:
    return f"{candidate[1]} {candidate[0]}"


def propose(adviser: Page, candidate, *, tick: bool = True) -> None:
    last_name, first_name, email, public = candidate
    proposal = adviser.locator("#proposals form")
    proposal.get_by_label("Nom", exact=True).fill(last_name)
    proposal.get_by_label("Prénom").fill(first_name)
    proposal.get_by_label("Adresse électronique").fill(email)
    proposal.get_by_label("Public").select_option(label=public)
    if tick:
        proposal.get_by_label("J'ai informé la personne et recueilli son consentement").check()
    proposal.get_by_role("button", name="Proposer cette candidature").click()


def adviser_proposes_two(adviser: Page, journey: Journey) -> None:
    """From the operation page to the proposals; two candidates, the consent forgotten once."""
    visit(adviser, f"/operations/{journey.operation_id}", "operation page (prescriber)")
    card(adviser, "Recrutement").get_by_role("link", name="Ouvrir le recrutement").click()
    adviser.get_by_role("link", name="Proposer des candidatures et suivre leur statut").click()
    expect(heading(adviser)).to_have_text("Candidatures proposées par les prescripteurs")
    expect(adviser.locator("#consent-statement")).to_contain_text(
        "Je certifie avoir informé la personne que je propose"
    )
    check_a11y(adviser, "proposals page")
    mark_document(adviser)
    propose(adviser, YASMINE, tick=False)
    consent = adviser.get_by_label("J'ai informé la personne et recueilli son consentement")
    expect(consent).to_be_focused()  # htmx swapped the refused form in
    expect(adviser.locator("#proposals")).to_contain_text("Cochez la déclaration de consentement.")
    expect(adviser.get_by_label("Nom", exact=True)).to_have_value("Lambert")
    check_a11y(adviser, "proposal refused")
    consent.check()
    adviser.get_by_role("button", name="Proposer cette candidature").click()
    notice = adviser.locator("#proposals").get_by_role("status")
    expect(notice).to_have_text(
        "Candidature de Yasmine Lambert proposée : l'organisme de formation en est informé."
    )
    propose(adviser, KARIM)
    expect(notice).to_contain_text("Candidature de Karim Traoré proposée")
    rows = adviser.get_by_role("table", name="Candidatures proposées et leur statut")
    expect(rows.locator("tbody tr")).to_have_count(2)
    expect(rows.locator("tbody tr").filter(has_text="Lambert Yasmine")).to_contain_text(
        "Candidat·e"
    )
    expect_same_document(adviser)
    check_a11y(adviser, "two candidates proposed")


def organisme_holds_a_job_dating(of: Page, journey: Journey) -> None:
    """A job dating held yesterday morning: both candidates and Entreprise E invited, then
    the attendance recorded in place."""
    visit(of, journey.path(), "recruitment page")
    of.get_by_role("link", name="Sessions d'information et job datings").click()
    expect(heading(of)).to_have_text("Sessions d'information et job datings")
    check_a11y(of, "sessions, none yet")
    of.get_by_role("link", name="Prévoir une session").click()
    check_a11y(of, "session form")
    yesterday = datetime.now(ZoneInfo("Europe/Paris")).date() - timedelta(days=1)
    of.get_by_label("Type de session").select_option(label="Job dating")
    of.get_by_label("Date et heure").fill(f"{yesterday.isoformat()}T09:30")
    of.get_by_label("Lieu").fill("Centre de formation, salle 2")
    of.get_by_role("button", name="Enregistrer la session").click()
    expect(flash(of)).to_contain_text("Session enregistrée")
    expect(heading(of)).to_contain_text("Job dating — ")
    check_a11y(of, "session planned")
    invite = card(of, "Inviter")
    for name in (full_name(YASMINE), full_name(KARIM), "Entreprise E"):
        invite.get_by_label(name).check()
    invite.get_by_role("button", name="Envoyer les invitations").click()
    expect(flash(of)).to_contain_text("2 candidatures invitées — 1 employeur invité.")
    check_a11y(of, "invitations sent")
    mark_document(of)
    sheet = of.locator("#session-candidates")
    for name in (full_name(YASMINE), full_name(KARIM)):
        sheet.get_by_role("group", name=f"Présence {de(name)}").get_by_label("Présent·e").check()
    of.get_by_role("group", name="Entreprise E").get_by_label("Présent·e").check()
    of.get_by_role("button", name="Enregistrer les présences").click()
    expect(of.locator("#session-candidates").get_by_role("status")).to_have_text(
        "Présences enregistrées."
    )
    expect_same_document(of)
    check_a11y(of, "attendance recorded")


def employer_gives_opinions(employer: Page, journey: Journey) -> None:
    """Entreprise E's admin: the session, names only; an opinion on each, in place."""
    visit(employer, journey.path("/sessions"), "sessions (employer)")
    employer.get_by_role("link", name="Job dating — ", exact=False).click()
    candidates = employer.locator("#session-candidates")
    expect(candidates.get_by_role("heading", level=3)).to_have_text(  # by last name
        [full_name(YASMINE), full_name(KARIM)]
    )
    for personal in ("Bénéficiaires du RSA", "yasmine.lambert@example.fr", "Partenaire P"):
        expect(employer.locator("main")).not_to_contain_text(personal)
    check_a11y(employer, "session (employer)")
    mark_document(employer)
    for candidate, verdict, comment in (
        (YASMINE, "Favorable", "Très motivée, disponible le matin."),
        (KARIM, "Réservé", "À revoir après l'immersion."),
    ):
        name = full_name(candidate)
        widget = employer.locator("div[id^='opinion-']").filter(
            has=employer.get_by_role("heading", name=name)
        )
        widget.get_by_role("group", name=f"Avis sur {name}").get_by_label(
            verdict, exact=True
        ).check()
        widget.get_by_label("Commentaire (facultatif)").fill(comment)
        widget.get_by_role("button", name="Donner l'avis").click()
        expect(widget.get_by_role("status")).to_have_text(
            "Avis enregistré : l'organisme de formation en est informé."
        )
        expect(widget).to_contain_text(f"Avis de votre entreprise : {verdict}")
        expect(widget.get_by_role("button", name="Changer l'avis")).to_be_visible()
    expect_same_document(employer)
    check_a11y(employer, "opinions given")


def organisme_retains_and_matches(of: Page) -> None:
    """Every opinion on the session and on the record, then retain and match Yasmine."""
    of.reload()
    row = of.locator("#session-candidates tr").filter(has_text="Lambert Yasmine")
    expect(row).to_contain_text("Entreprise E : Favorable")
    check_a11y(of, "session with opinions")
    row.get_by_role("link", name="Lambert Yasmine").click()
    expect(heading(of)).to_have_text(full_name(YASMINE))
    opinions = card(of, "Avis des employeurs")
    expect(opinions).to_contain_text("Entreprise E : Favorable")
    expect(opinions).to_contain_text("Très motivée, disponible le matin.")
    check_a11y(of, "record with the opinions")
    record = of.locator("#trainee-record")
    of.get_by_label("Nouveau statut").select_option(label="Retenir la candidature")
    of.get_by_role("button", name="Enregistrer le statut").click()
    expect(record.get_by_role("status")).to_have_text("Statut enregistré : Retenu·e.")
    of.get_by_label("Promesse d'embauche").select_option(label="Agent·e de propreté (CDI)")
    of.get_by_role("button", name="Positionner sur cette promesse").click()
    expect(record.get_by_role("status")).to_have_text(
        "Positionné·e sur la promesse « Agent·e de propreté » d'Entreprise E."
    )
    check_a11y(of, "retained and matched")


def employer_is_told(employer: Page) -> None:
    visit(employer, "/notifications/", "notifications (employer)")
    expect(employer.locator("main")).to_contain_text(
        "est positionné·e sur votre promesse d'embauche « Agent·e de propreté »"
    )


def adviser_follows_the_status(adviser: Page) -> None:
    adviser.reload()
    rows = adviser.get_by_role("table", name="Candidatures proposées et leur statut")
    expect(rows.locator("tbody tr").filter(has_text="Lambert Yasmine")).to_contain_text("Retenu·e")
    expect(rows.locator("tbody tr").filter(has_text="Traoré Karim")).to_contain_text("Candidat·e")
    check_a11y(adviser, "statuses followed")


def test_prescribers_propose_employers_give_opinions_the_organisme_retains(journey, browsers):
    adviser = logged_in(browsers, journey.partner_email, "Sarah")
    adviser_proposes_two(adviser, journey)
    of = logged_in(browsers, journey.of_email, "Camille")
    organisme_holds_a_job_dating(of, journey)
    employer = logged_in(browsers, journey.employer_email, "Camille")
    employer_gives_opinions(employer, journey)
    organisme_retains_and_matches(of)
    employer_is_told(employer)
    adviser_follows_the_status(adviser)


@pytest.fixture
def seasonal(app, live_server, journey) -> Journey:
    """The journey's operation with a 3-month intérim promised by Entreprise E."""
    with app.test_request_context(base_url=live_server.url):
        operation = db.session.get(Operation, journey.operation_id)
        employer = db.session.scalar(
            select(Organisation).where(Organisation.name == "Entreprise E")
        )
        add_positions(
            operation, employer, "Agent·e de quai", 1, ContractType.INTERIM, duration_months=3
        )
        services.create_promises(operation)
        db.session.commit()
    return journey


def test_the_region_accepts_a_non_lasting_promise(seasonal, browsers):
    """Listed apart with its explanation, then accepted with a reason: it counts."""
    region = logged_in(browsers, "region.admin@example.fr", "Camille")
    visit(region, seasonal.path(), "recruitment with a promise apart")
    apart = card(region, "Promesses listées à part : emplois non durables", exact=False)
    expect(apart).to_contain_text("Intérim de 3 mois n'est pas un emploi durable")
    expect(card(region, "Où en est le recrutement").locator("tbody td").first).to_have_text("3")
    region.get_by_role(
        "link", name="Promesses d'emploi non durables et décisions de la Région"
    ).click()
    expect(heading(region)).to_have_text("Promesses d'emploi non durables")
    check_a11y(region, "non-lasting promises")
    mark_document(region)
    region.get_by_role("button", name="Accepter cette promesse").click()
    reason = region.get_by_label("Motif de l'acceptation")
    expect(reason).to_be_focused()  # refused without a reason, the field has the focus
    check_a11y(region, "acceptance refused")
    reason.fill("Renfort d'été suivi d'un CDI selon l'avis de l'employeur.")
    region.get_by_role("button", name="Accepter cette promesse").click()
    expect(region.get_by_role("status")).to_contain_text("Acceptation enregistrée")
    expect(region.locator("main")).to_contain_text("Renfort d'été suivi d'un CDI")
    expect_same_document(region)
    check_a11y(region, "promise accepted")
    visit(region, seasonal.path(), "recruitment after the acceptance")
    expect(card(region, "Où en est le recrutement").locator("tbody td").first).to_have_text("4")
    expect(
        region.get_by_role("heading", name="Promesses listées à part", exact=False)
    ).to_have_count(0)
