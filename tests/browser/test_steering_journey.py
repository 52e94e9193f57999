"""The steering committee in three browsers, axe-core on every page and state.

The Région's referent convenes the committee of Organisme A's operation; the employer
finds the meeting on its home page and opens it. The day comes: the organisme records
the attendance, writes the minutes with the co-design editor, records a decision and an
action item for the employer, then approves the minutes. The employer finds the action in
its « À faire » (home card and operation page) and marks it done.
"""

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.core.time import utcnow
from portal.extensions import db
from portal.steering.models import SteeringMeeting
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
from tests.steering.factories import Committee

pytestmark = pytest.mark.browser
ACTION = "Transmettre les fiches de poste"


@dataclass
class Journey:
    operation_id: int
    region_email: str
    of_email: str
    employer_email: str


@pytest.fixture
def journey(app, live_server) -> Journey:
    with app.test_request_context(base_url=live_server.url):
        world = Committee()
        m = world.market
        m.referent.first_name, m.referent.last_name = "Karim", "Référent"
        m.a_user.first_name, m.a_user.last_name = "Louise", "Formatrice"
        m.employer_user.first_name, m.employer_user.last_name = "Nathalie", "Gérante"
        db.session.commit()
        return Journey(world.operation.id, m.referent.email, m.a_user.email, m.employer_user.email)


def region_convenes(region: Page, journey: Journey) -> None:
    visit(region, f"/operations/{journey.operation_id}", "operation page with its committee card")
    card(region, "Comité de pilotage").get_by_role(
        "link", name="Ouvrir le comité de pilotage"
    ).click()
    expect(heading(region)).to_have_text("Comité de pilotage")
    check_a11y(region, "committee page")
    region.get_by_role("link", name="Convoquer une réunion").click()
    expect(heading(region)).to_have_text("Convoquer le comité de pilotage")
    check_a11y(region, "meeting form")
    region.get_by_role("button", name="Convoquer").click()
    expect(region.locator("#error-summary")).to_be_visible()
    check_a11y(region, "meeting form refused")
    day = date.today() + timedelta(days=14)
    region.get_by_label("Titre de la réunion").fill("Comité de lancement")
    region.get_by_label("Début (date et heure)").fill(f"{day.isoformat()}T14:00")
    region.get_by_label("Heure de fin").fill("16:00")
    region.get_by_label("Lieu", exact=True).fill("Salle du conseil, Tours")
    region.get_by_label("Ordre du jour").fill("1. Recrutement\n2. Immersions")
    region.get_by_role("button", name="Convoquer").click()
    expect(flash(region)).to_contain_text("Réunion convoquée")
    expect(heading(region)).to_have_text("Comité de lancement")
    check_a11y(region, "meeting convened")


def employer_sees_it(employer: Page) -> None:
    home = card(employer, "Comités de pilotage")
    expect(home).to_contain_text("Comité de lancement")
    home.get_by_role("link", name="Comité de lancement").click()
    expect(heading(employer)).to_have_text("Comité de lancement")
    expect(employer.get_by_role("link", name="Ajouter à mon agenda (fichier .ics)")).to_be_visible()
    check_a11y(employer, "meeting seen by a participant")


def the_day_comes(app) -> None:
    """The meeting took place an hour ago (convened meetings are in the future)."""
    with app.app_context():
        meeting = db.session.scalar(select(SteeringMeeting))
        length = meeting.ends_at - meeting.starts_at
        meeting.starts_at = utcnow() - timedelta(hours=3)
        meeting.ends_at = meeting.starts_at + length
        db.session.commit()


def of_keeps_the_record(of: Page, journey: Journey) -> None:
    visit(of, f"/operations/{journey.operation_id}/comite", "committee, meeting held")
    of.get_by_role("link", name="Comité de lancement").click()
    check_a11y(of, "meeting held, nothing recorded")
    mark_document(of)
    attendance = of.locator("#steering-attendance")
    attendance.get_by_label("Présence : Louise Formatrice (Organisme A)").select_option("present")
    attendance.get_by_label("Présence : Karim Référent (Région Centre-Val de Loire)").select_option(
        "present"
    )
    attendance.get_by_label("Présence : Entreprise E").select_option("excused")
    attendance.get_by_role("button", name="Enregistrer les présences").click()
    expect(attendance.get_by_role("status")).to_have_text("Présences enregistrées.")
    expect_same_document(of)
    check_a11y(of, "attendance recorded")
    of.get_by_role("button", name="Rédiger le compte rendu").click()
    expect(flash(of)).to_contain_text("Compte rendu ouvert")
    check_a11y(of, "minutes opened")
    of.get_by_role("link", name="Modifier « Compte rendu »").click()
    section = of.locator("section.design-section")
    section.get_by_label("Texte").fill("Le comité valide le rythme de l'alternance.")
    check_a11y(of, "minutes in edit mode")
    section.get_by_role("button", name="Enregistrer").click()
    expect(section).to_contain_text("Le comité valide le rythme de l'alternance.")
    outcomes = of.locator("#steering-outcomes")
    outcomes.get_by_label("Décision").fill("Une information collective est organisée.")
    outcomes.get_by_role("button", name="Enregistrer la décision").click()
    expect(outcomes.get_by_role("status")).to_have_text("Décision enregistrée.")
    outcomes.get_by_label("Action").fill(ACTION)
    outcomes.get_by_label("Responsable").select_option(label="Entreprise E (toute l'organisation)")
    outcomes.get_by_label("Échéance").fill((date.today() + timedelta(days=10)).isoformat())
    outcomes.get_by_role("button", name="Enregistrer l'action").click()
    expect(outcomes.get_by_role("status")).to_contain_text("Action enregistrée")
    expect(outcomes.get_by_role("table")).to_contain_text(ACTION)
    check_a11y(of, "decision and action recorded")
    of.reload()
    of.get_by_role("button", name="Approuver le compte rendu").click()
    expect(flash(of)).to_contain_text("Compte rendu approuvé")
    expect(card(of, "Approbation du compte rendu")).to_contain_text(
        "Approuvé par l'organisme porteur"
    )
    check_a11y(of, "minutes approved")


def employer_does_the_action(employer: Page, journey: Journey) -> None:
    visit(employer, f"/operations/{journey.operation_id}", "operation page of the owner")
    expect(card(employer, "À faire pour Entreprise E")).to_contain_text(ACTION)
    visit(employer, "/", "home of the owner")
    home = employer.locator("#steering-home")
    expect(home).to_contain_text(ACTION)
    mark_document(employer)
    home.get_by_role("button", name=f"Marquer comme faite : {ACTION}").click()
    expect(employer.locator("#steering-home").get_by_role("status")).to_have_text(
        "Action marquée comme faite."
    )
    expect(employer.locator("#steering-home")).not_to_contain_text(ACTION)
    expect_same_document(employer)
    check_a11y(employer, "action done")


def test_steering_committee(app, browsers, journey):
    region = logged_in(browsers, journey.region_email, "Karim")
    region_convenes(region, journey)
    employer = logged_in(browsers, journey.employer_email, "Nathalie")
    employer_sees_it(employer)
    the_day_comes(app)
    of = logged_in(browsers, journey.of_email, "Louise")
    of_keeps_the_record(of, journey)
    employer_does_the_action(employer, journey)
