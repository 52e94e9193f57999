"""Forms that fit the real case (issue #15), in a browser with axe-core on every state.

- Reporting a need: three employers to invite, added with « Ajouter un employeur » (htmx
  swaps the rows, focus on the new one), one removed, a row's error told by its number,
  Enter in a field sending the need (not the first row button), then the need sent.
- The co-design: a skill two employers asked for is one line naming both; in the conflict
  view, typing in the hand-merged text chooses it, and saving keeps that text.
- Immersions generated from a rhythm whose second period names another employer than the
  trainee's promise: each period at its employer.
"""

import pytest
from playwright.sync_api import Page, expect

from portal.design import services as design_services
from portal.design.models import SectionKey
from tests.browser.support import (
    check_a11y,
    expect_same_document,
    flash,
    heading,
    log_in,
    mark_document,
    visit,
)
from tests.design.factories import started_with_skills
from tests.immersions.factories import alice_with_a_period_elsewhere
from tests.operations.factories import EMPLOYER, OF_A, Market
from tests.support import PASSWORD, committed

pytestmark = pytest.mark.browser

TITLE = "Préparateur·rice de commandes"


def log_in_as(page: Page, email: str) -> None:
    log_in(page, email, PASSWORD)
    expect(heading(page)).to_contain_text("Bonjour")


def row(page: Page, number: int):
    return page.get_by_role("group", name=f"Employeur {number}", exact=True)


def fill_row(page: Page, number: int, name: str, email: str = "", siret: str = "") -> None:
    page.get_by_label(f"Nom de l'employeur {number}", exact=True).fill(name)
    page.get_by_label(
        f"Adresse électronique du ou de la responsable de l'employeur {number}", exact=True
    ).fill(email)
    page.get_by_label(f"SIRET de l'employeur {number}", exact=True).fill(siret)


def add_employer(page: Page, number: int) -> None:
    """« Ajouter un employeur »: htmx brings row ``number``, focused."""
    page.get_by_role("button", name="Ajouter un employeur").click()
    expect(row(page, number)).to_be_focused()
    expect_same_document(page)
    check_a11y(page, f"employer row {number} added")


def test_reporting_a_need_with_as_many_employers_as_needed(app, page):
    with committed(app):
        Market()
    log_in_as(page, OF_A)
    visit(page, "/operations/nouveau-besoin", "report a need")
    page.get_by_label("Intitulé du besoin (métier visé)").fill(TITLE)
    page.get_by_label("Catégorie Parcours Métiers").select_option(value="se_former")
    page.get_by_label("Bassin d'emploi").select_option(label="Tours")
    page.get_by_label("Code ROME du métier").fill("K2204")
    page.get_by_label("Contexte du besoin").fill("Trois entrepôts recrutent.")
    fill_row(page, 1, "Conserverie du Boischaut", "rh@conserverie.example", "90000000008012")
    mark_document(page)
    add_employer(page, 2)
    fill_row(page, 2, "Entrepôt à retirer", "rh@retirer.example")
    add_employer(page, 3)
    fill_row(page, 3, "Fromagerie de Sologne", "rh@fromagerie.example", "90000000009010")

    page.get_by_role("button", name="Retirer l'employeur 2").click()
    announced = page.locator("#new-employers").get_by_role("status")
    expect(announced).to_have_text("Employeur 2 retiré de la liste.")
    expect(announced).to_be_focused()
    expect(page.get_by_label("Nom de l'employeur 2")).to_have_value("Fromagerie de Sologne")
    expect(page.get_by_label("Nom de l'employeur 3")).to_have_count(0)
    expect_same_document(page)
    check_a11y(page, "employer row removed")

    add_employer(page, 3)
    page.get_by_label("Nom de l'employeur 3").fill("Biscuiterie sans adresse")
    page.get_by_label("Nom de l'employeur 3").press("Enter")  # sends the need
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_text(
        [
            "Nom de l'employeur 3 : Indiquez à la fois le nom et l'adresse électronique.",
            "SIRET de l'employeur 3 : Indiquez le SIRET de l'entreprise : la Région le vérifie.",
        ]
    )
    expect(page.get_by_label("Intitulé du besoin (métier visé)")).to_have_value(TITLE)
    expect(page.get_by_label("Nom de l'employeur 2")).to_have_value("Fromagerie de Sologne")
    check_a11y(page, "an employer row refused")

    page.get_by_label(
        "Adresse électronique du ou de la responsable de l'employeur 3", exact=True
    ).fill("rh@biscuiterie.example")
    page.get_by_label("SIRET de l'employeur 3").fill("90000000007014")
    page.get_by_role("button", name="Signaler le besoin à la Région").click()
    expect(heading(page)).to_have_text(TITLE)
    expect(flash(page)).to_contain_text("Besoin signalé")
    check_a11y(page, "need reported")
    for name in ("Conserverie du Boischaut", "Fromagerie de Sologne", "Biscuiterie sans adresse"):
        expect(page.get_by_role("main")).to_contain_text(name)


def test_merged_skills_and_a_hand_merged_text_in_the_co_design(app, page):
    with committed(app):
        market = Market()
        design = started_with_skills(
            market, "Conduite de chariot ; Hygiène", "conduite de  CHARIOT"
        )
        objectives = design.section(SectionKey.OBJECTIVES)
        for text, base, user, org in (
            ("Former dix caristes.", 1, market.a_user, market.of_a),
            ("Former douze caristes.", 2, market.referent, market.region),
            ("Former dix caristes en CDI.", 2, market.employer_user, market.employer),
        ):
            design_services.save_section(
                objectives,
                {"text": text},
                base_version=base,
                by=user,
                org=org,
                steering=org is not market.employer,
            )
        url = f"/operations/{design.operation_id}/conception"
    log_in_as(page, EMPLOYER)
    visit(page, url, "co-design in conflict")
    skills = page.locator("#section-skills li")
    expect(skills).to_have_count(2)
    expect(skills.first).to_have_text(
        "Conduite de chariot — demandée par Entreprise E, Entreprise F"
    )

    custom = page.get_by_role("radio", name="Le texte ci-dessous, que je fusionne à la main")
    expect(custom).not_to_be_checked()
    merged = page.get_by_label("Texte fusionné à la main")
    merged.fill("Former douze caristes en CDI.")
    expect(custom).to_be_checked()
    check_a11y(page, "hand-merged text chosen")
    mark_document(page)
    page.get_by_role("button", name="Enregistrer ce choix").click()
    expect(page.locator("#section-objectives")).to_contain_text("Former douze caristes en CDI.")
    expect(page.get_by_role("button", name="Enregistrer ce choix")).to_have_count(0)
    expect_same_document(page)
    check_a11y(page, "conflict resolved")


def test_immersions_are_generated_at_the_employer_chosen_on_each_period(app, page):
    with committed(app):
        url = f"/operations/{alice_with_a_period_elsewhere().operation.id}/immersions"
    log_in_as(page, OF_A)
    visit(page, url, "immersions, none yet")
    page.get_by_role("button", name="Générer les immersions").click()
    expect(flash(page)).to_contain_text("2 immersion(s) créée(s) depuis le rythme.")
    periods = page.locator("table.table tbody tr")  # Alice's, in date order
    expect(periods).to_have_count(2)
    expect(periods.first).to_contain_text("Entreprise E")
    expect(periods.last).to_contain_text("Entreprise F")
    check_a11y(page, "immersions generated")
