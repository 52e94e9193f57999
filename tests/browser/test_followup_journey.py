"""Employment follow-up in three browsers, axe-core on every page and state.

Alice left the training a hundred days ago: her follow-up at three months is due. The
organisme records that she is in a CDI at Entreprise E; the employer, from its own page
« Suivi de mes recrutés », says a CDD of four months (after forgetting the duration). The
answers disagree: the organisme sees them side by side and retains its own, with a note.
The Région opens the follow-up and reads the retained value and its source. On the way,
the organisme opens the « Fin de formation » page and records a promise kept.
"""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from portal.core.french import de
from portal.extensions import db
from portal.operations.models import Status
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
from tests.followup.factories import TODAY, Training

pytestmark = pytest.mark.browser

ALICE = "Alice Durand"
EXIT = TODAY - timedelta(days=100)


@dataclass
class Journey:
    operation_id: int
    title: str
    of_email: str
    employer_email: str
    region_email: str


@pytest.fixture
def journey(app, live_public_url) -> Journey:
    """Organisme A's operation in follow-up; Alice, Bob and Chloé left a hundred days ago."""
    with app.test_request_context(base_url=live_public_url):
        world = Training(started=300)
        world.exit_all(EXIT)
        world.operation.status = Status.FOLLOW_UP
        m = world.market
        m.a_user.first_name, m.a_user.last_name = "Louise", "Formatrice"
        m.employer_user.first_name, m.employer_user.last_name = "Nadia", "Gérante"
        m.region_admin.first_name, m.region_admin.last_name = "Sophie", "Région"
        db.session.commit()
        return Journey(
            world.operation.id,
            world.operation.title,
            m.a_user.email,
            m.employer_user.email,
            m.region_admin.email,
        )


def answer_form(page: Page, organisation: str):
    return card(page, f"Votre réponse ({organisation})")


def fill_answer(form, situation: str, employer: str, months: str | None = None) -> None:
    form.get_by_label("Situation").select_option(label=situation)
    if months is not None:
        form.get_by_label("Durée du contrat (en mois)").fill(months)
    form.get_by_label("Employeur de l'opération").select_option(label=employer)
    form.get_by_label("Poste occupé").fill("Agente de propreté")
    form.get_by_label("Date du contact").fill(TODAY.isoformat())
    form.get_by_role("group", name="Moyen de contact", exact=True).get_by_label("Téléphone").check()


def end_of_training(of: Page, journey: Journey) -> None:
    """The operation page's card leads to the exits, then to the promises kept."""
    visit(of, f"/operations/{journey.operation_id}", "operation page in follow-up")
    followup = card(of, "Suivi dans l'emploi")
    expect(followup).to_contain_text("3 enregistrée(s), 0 à enregistrer")
    followup.get_by_role("link", name="Fin de formation").click()
    expect(heading(of)).to_have_text("Fin de formation")
    alice = of.locator("section[id^='sortie-']").filter(has=of.get_by_role("heading", name=ALICE))
    expect(alice).to_contain_text("Fin de formation")
    check_a11y(of, "end of training")
    of.get_by_role("navigation", name="Fin de formation et suivi dans l'emploi").get_by_role(
        "link", name="Promesses tenues"
    ).click()
    expect(heading(of)).to_have_text("Promesses d'embauche tenues")
    check_a11y(of, "promise ledger")
    promise = "Enregistrer le résultat de la promesse « Agent·e de propreté » d'Entreprise E"
    of.get_by_role("link", name=promise).first.click()
    expect(heading(of)).to_have_text("Résultat de la promesse « Agent·e de propreté »")
    check_a11y(of, "promise outcome form")
    of.get_by_role("button", name="Enregistrer le résultat").click()
    expect(of.locator("#error-summary")).to_be_focused()
    expect(of.locator("#error-summary")).to_contain_text("Indiquez si la promesse a été tenue.")
    check_a11y(of, "promise outcome refused")
    of.get_by_role("group", name="La promesse d'embauche a-t-elle été tenue ?").get_by_label(
        "Oui, le contrat est signé"
    ).check()
    of.get_by_label("Contrat signé").select_option(label="CDI")
    of.get_by_label("Date d'embauche").fill((EXIT + timedelta(days=7)).isoformat())
    of.get_by_label("Heures par semaine").fill("35")
    of.get_by_role("button", name="Enregistrer le résultat").click()
    expect(flash(of)).to_contain_text("Résultat de la promesse enregistré.")
    ledger = of.get_by_role(
        "table", name="Promesses d'embauche promises, tenues et non tenues, par employeur"
    )
    row = ledger.get_by_role("row").filter(has_text="Entreprise E")
    expect(row.get_by_role("cell")).to_have_text(["2", "2", "1", "0", "1"])
    check_a11y(of, "promise kept")


def of_answers(of: Page, journey: Journey) -> None:
    of.get_by_role("navigation", name="Fin de formation et suivi dans l'emploi").get_by_role(
        "link", name="Suivi dans l'emploi"
    ).click()
    expect(heading(of)).to_have_text("Suivi dans l'emploi")
    check_a11y(of, "follow-up list")
    of.get_by_role("link", name=f"Ouvrir le suivi à 3 mois {de(ALICE)}").click()
    expect(heading(of)).to_have_text(f"Suivi à 3 mois {de(ALICE)}")
    check_a11y(of, "milestone awaiting")
    mark_document(of)
    form = answer_form(of, "Organisme A")
    fill_answer(form, "CDI", "Entreprise E")
    form.get_by_role("button", name="Enregistrer la réponse").click()
    expect(of.locator("#suivi").get_by_role("status")).to_have_text("Réponse enregistrée.")
    state = card(of, "État du suivi")
    expect(state.locator(".status")).to_have_text("Renseigné")
    expect(state).to_contain_text("CDI — Entreprise E (emploi durable)")
    expect_same_document(of)
    check_a11y(of, "milestone answered by the organisme")


def employer_answers(employer: Page) -> None:
    mine = card(employer, "Suivi de mes recrutés")
    mine.get_by_role("link", name="Suivi de mes recrutés").click()
    expect(heading(employer)).to_have_text("Suivi de mes recrutés")
    results = employer.locator("#mine-results")
    expect(results.get_by_role("rowheader")).to_have_count(2)  # Alice and Bob, not Chloé
    check_a11y(employer, "employer's follow-ups")
    results.get_by_role("link", name=f"Ouvrir le suivi à 3 mois {de(ALICE)}").click()
    expect(heading(employer)).to_have_text(f"Suivi à 3 mois {de(ALICE)}")
    check_a11y(employer, "milestone seen by the employer")
    mark_document(employer)
    form = answer_form(employer, "Entreprise E")
    fill_answer(form, "CDD", "Entreprise E")  # the duration forgotten
    form.get_by_role("button", name="Enregistrer la réponse").click()
    duration = answer_form(employer, "Entreprise E").get_by_label("Durée du contrat (en mois)")
    expect(duration).to_have_attribute("aria-invalid", "true")
    expect(employer.locator("#suivi").get_by_role("alert")).to_be_focused()
    expect(answer_form(employer, "Entreprise E").get_by_label("Poste occupé")).to_have_value(
        "Agente de propreté"
    )
    check_a11y(employer, "employer's answer refused")
    duration.fill("4")
    form = answer_form(employer, "Entreprise E")
    form.get_by_role("button", name="Enregistrer la réponse").click()
    expect(employer.locator("#suivi").get_by_role("status")).to_have_text("Réponse enregistrée.")
    expect(card(employer, "État du suivi").locator(".status")).to_have_text("À rapprocher")
    expect_same_document(employer)
    check_a11y(employer, "answers disagree (employer)")


def of_reconciles(of: Page) -> None:
    of.reload()
    compare = of.get_by_role("table", name="La dernière réponse de chaque organisation")
    situations = compare.get_by_role("row").filter(has_text="Situation").get_by_role("cell")
    expect(situations).to_have_text(["CDI", "CDD de 4 mois"])
    check_a11y(of, "answers side by side")
    mark_document(of)
    reconcile = card(of, "Rapprocher les réponses")
    reconcile.get_by_role("group", name="Réponse retenue").get_by_label(
        "Organisme A : CDI — Entreprise E"
    ).check()
    reconcile.get_by_label("Note : pourquoi cette réponse").fill(
        "Contrat de travail en CDI présenté lors de l'entretien de suivi."
    )
    reconcile.get_by_role("button", name="Retenir cette réponse").click()
    expect(of.locator("#suivi").get_by_role("status")).to_have_text("Réponse retenue enregistrée.")
    expect(card(of, "État du suivi").locator(".status")).to_have_text("Renseigné")
    expect(card(of, "Rapprocher les réponses")).to_have_count(0)
    expect_same_document(of)
    check_a11y(of, "answers reconciled")


def region_reads(region: Page, journey: Journey) -> None:
    visit(region, f"/operations/{journey.operation_id}/suivi-emploi", "region's follow-up list")
    expect(region.locator("#followup-results")).to_contain_text(ALICE)
    region.get_by_label("État", exact=True).select_option(label="Renseigné")
    expect(region.locator("#followup-results").get_by_role("heading")).to_contain_text("Renseigné")
    check_a11y(region, "region's list filtered")
    region.get_by_role("link", name=f"Ouvrir le suivi à 3 mois {de(ALICE)}").click()
    retained = region.locator("#retained")
    expect(retained).to_contain_text("CDI — Entreprise E (emploi durable)")
    expect(retained).to_contain_text(
        "Source : Organisme A (organisme de formation) — réponse choisie par l'organisme de "
        "formation"
    )
    expect(retained).to_contain_text("Contrat de travail en CDI présenté")
    expect(card(region, "Historique des réponses")).to_contain_text("CDD de 4 mois")
    expect(card(region, "Votre réponse (Région Centre-Val de Loire)")).to_have_count(0)
    check_a11y(region, "retained value for the Région")


def test_two_parties_disagree_the_organisme_reconciles_the_region_reads(journey, browsers):
    of = logged_in(browsers, journey.of_email, "Louise")
    end_of_training(of, journey)
    of_answers(of, journey)
    employer_answers(logged_in(browsers, journey.employer_email, "Nadia"))
    of_reconciles(of)
    region_reads(logged_in(browsers, journey.region_email, "Sophie"), journey)
