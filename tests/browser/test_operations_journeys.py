"""Journeys through DEFI operations in a real browser, each step checked with axe-core.

From the need an organisme reports (refused when another organisme holds the lot, or
outside any lot) to the needs analysis shared by the employer, the organisme and the
Région, and the htmx widgets of the list and of the participants.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from portal.core.french import de
from tests.browser.support import (
    OF_EMAIL,
    check_a11y,
    expect_same_document,
    log_in,
    log_out,
    mark_document,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo")]

REGION_EMAIL = "region@demo.defi.test"
EMPLOYER = "Transports et Logistique du Loiret"
SE_FORMER = "Se former au métier de"


def main_nav(page: Page):
    return page.get_by_role("navigation", name="Navigation principale")


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def section(page: Page, title: str, *, exact: bool = True):
    """The card (``<section>``) whose heading is ``title``."""
    return page.locator("section").filter(has=page.get_by_role("heading", name=title, exact=exact))


def chosen(select):
    """The selected option of a ``<select>`` locator."""
    return select.locator("option:checked")


def flash(page: Page):
    return page.locator("#flashes")


def open_report_form(page: Page) -> None:
    main_nav(page).get_by_role("link", name="Opérations DEFI").click()
    page.get_by_role("link", name="Signaler un besoin repéré").click()
    expect(heading(page)).to_have_text("Signaler un besoin repéré")
    check_a11y(page, "report need form")


def fill_need(
    page: Page,
    *,
    title: str,
    territory: str,
    rome: str,
    context: str,
    employers: tuple[str, ...] = (),
    new_employer: tuple[str, str, str] | None = None,
) -> None:
    """Fill the "report a need" form (category: « Se former au métier de »)."""
    page.get_by_label("Intitulé du besoin (métier visé)").fill(title)
    page.get_by_label("Catégorie Parcours Métiers").select_option(label=SE_FORMER)
    page.get_by_label("Bassin d'emploi").select_option(label=territory)
    page.get_by_label("Code ROME du métier").fill(rome)
    page.get_by_label("Contexte du besoin").fill(context)
    for name in employers:
        page.get_by_role("checkbox", name=name, exact=True).check()
    if new_employer:
        name, email, siret = new_employer
        page.get_by_label("Nom de l'employeur 1", exact=True).fill(name)
        page.get_by_label(
            "Adresse électronique du ou de la responsable de l'employeur 1", exact=True
        ).fill(email)
        page.get_by_label("SIRET de l'employeur 1", exact=True).fill(siret)


def send_need(page: Page) -> None:
    page.get_by_role("button", name="Signaler le besoin à la Région").click()


def open_operation(page: Page, title: str) -> None:
    """From anywhere: the operations list, then the operation's page."""
    main_nav(page).get_by_role("link", name="Opérations DEFI").click()
    page.locator("#operation-results").get_by_role("link", name=title, exact=True).click()
    expect(heading(page)).to_have_text(title)
    check_a11y(page, f"operation {title}")


def current_status(page: Page):
    return page.locator("main .lead .status")


def advance_to(page: Page, step: str) -> None:
    next_step = section(page, "Étape suivante")
    expect(next_step).to_contain_text(
        f"Toutes les conditions sont réunies pour passer à « {step} »"
    )
    next_step.get_by_role("button", name=f"Passer à « {step} »").click()
    expect(flash(page)).to_contain_text(f"L'opération passe à l'étape « {step} ».")
    expect(current_status(page)).to_have_text(step)
    check_a11y(page, f"advanced to {step}")


# --- 1. Exclusivity ------------------------------------------------------------------


def test_need_under_another_holders_lot_is_refused_and_the_region_told(page):
    title = "Agent·e d'entretien des locaux"
    context = "Deux cliniques de Tours Nord cherchent des agents d'entretien."
    log_in(page, OF_EMAIL)
    open_report_form(page)
    fill_need(page, title=title, territory="Tours", rome="k2204", context=context)
    send_need(page)

    refusal = page.locator("#error-summary")
    expect(refusal).to_be_focused()
    expect(refusal).to_have_attribute("role", "alert")
    expect(refusal).to_contain_text("Ce besoin relève du lot n° 2024-37-12")
    expect(refusal).to_contain_text("attribué à Touraine Compétences Formation")
    expect(refusal).to_contain_text("La Région en est informée.")
    # Nothing typed is lost: the organisme can correct or keep a copy.
    expect(page.get_by_label("Intitulé du besoin (métier visé)")).to_have_value(title)
    expect(chosen(page.get_by_label("Bassin d'emploi"))).to_have_text("Tours")
    expect(chosen(page.get_by_label("Catégorie Parcours Métiers"))).to_have_text(SE_FORMER)
    expect(page.get_by_label("Code ROME du métier")).to_have_value("K2204")
    expect(page.get_by_label("Contexte du besoin")).to_have_value(context)
    check_a11y(page, "exclusivity refusal")
    log_out(page)

    # The Région hears of it through the bassin's referent (Tours has one: Claire Dubois).
    log_in(page, "referente.tours@demo.defi.test")
    badge = main_nav(page).locator("#notification-badge .badge")
    expect(badge).to_have_text(re.compile(r"^\d+$"))
    unread = int(badge.inner_text())
    main_nav(page).get_by_role("link", name="Notifications").click()
    expect(heading(page)).to_have_text("Notifications")
    notice = page.locator("#notifications li").filter(has_text="signalement refusé")
    expect(notice).to_have_count(1)
    expect(notice).to_contain_text(f"Forma'Centre Loiret a signalé un besoin « {title} »")
    expect(notice).to_contain_text("lot n° 2024-37-12 attribué à Touraine Compétences Formation")
    expect(notice.get_by_text("Nouveau", exact=True)).to_be_visible()
    check_a11y(page, "notifications")

    mark_document(page)
    notice.get_by_role("button", name="Marquer comme lu").click()
    expect(notice.get_by_text("Nouveau", exact=True)).to_have_count(0)
    if unread > 1:  # the header badge follows, out of band
        expect(badge).to_have_text(str(unread - 1))
    else:
        expect(badge).to_have_count(0)
    expect_same_document(page)
    check_a11y(page, "notification read")


# --- 2. Outside any lot ----------------------------------------------------------------


def test_need_outside_any_lot_goes_to_a_fref_consultation(page):
    title = "Opérateur·rice de production"
    newcomer = ("Plasturgie de la Beauce", "rh@plasturgie-beauce.example", "900 000 000 080 38")
    log_in(page, OF_EMAIL)
    open_report_form(page)
    fill_need(
        page,
        title=title,
        territory="Chartres",
        rome="H2102",
        context="Deux usines de la zone de Chartres recrutent sur leurs lignes.",
        employers=("Menuiserie Berrichonne",),
        new_employer=newcomer,
    )
    send_need(page)

    expect(heading(page)).to_have_text(title)
    expect(flash(page)).to_contain_text("Besoin signalé : la Région")
    expect(current_status(page)).to_have_text("Besoin repéré")
    expect(page.locator("main .lead")).to_contain_text("bassin de Chartres")
    off_market = section(page, "Hors marché : décision de la Région")
    expect(off_market).to_contain_text("Aucun lot du marché ne couvre ce besoin")
    expect(off_market.get_by_role("button")).to_have_count(0)  # the Région decides
    participants = section(page, "Participants")
    expect(participants).to_contain_text("Menuiserie Berrichonne — Employeur")
    expect(participants).to_contain_text(f"{newcomer[0]} — Employeur")
    check_a11y(page, "need reported outside any lot")
    operation_url = page.url
    log_out(page)

    log_in(page, REGION_EMAIL)
    for list_title in ("Nouveaux besoins signalés", "Besoins hors marché : décision attendue"):
        # The first heading ends with a count badge.
        item = section(page, list_title, exact=False).get_by_role("listitem")
        item = item.filter(has_text="bassin de Chartres")
        expect(item.get_by_role("link", name=title)).to_be_visible()
        expect(item).to_contain_text("hors marché")
    check_a11y(page, "region home")
    section(page, "Nouveaux besoins signalés", exact=False).get_by_role("listitem").filter(
        has_text="bassin de Chartres"
    ).get_by_role("link", name=title).click()
    expect(heading(page)).to_have_text(title)
    assert page.url == operation_url
    check_a11y(page, "operation seen by the Région")

    page.get_by_label("Commentaire (facultatif)").fill("Reçu, étude en cours.")
    page.get_by_role("button", name="Accuser réception du besoin").click()
    expect(flash(page)).to_contain_text("Accusé de réception enregistré")
    expect(section(page, "Le besoin signalé")).to_contain_text(
        "Accusé de réception de la Région le"
    )
    check_a11y(page, "acknowledged")

    off_market = section(page, "Hors marché : décision de la Région")
    off_market.get_by_label("Référence de la consultation FREF").fill("FREF-2026-099")
    off_market.get_by_label("Organisme de formation retenu").select_option(
        label="Forma'Centre Loiret"
    )
    off_market.get_by_role("button", name="Enregistrer la consultation").click()
    expect(flash(page)).to_contain_text("Consultation FREF enregistrée.")
    expect(off_market).to_contain_text(
        "Consultation FREF FREF-2026-099 — organisme retenu : Forma'Centre Loiret."
    )
    expect(section(page, "Chiffres clés")).to_contain_text("réf. FREF-2026-099")
    check_a11y(page, "FREF recorded")
    page.get_by_role("link", name="Accueil").click()
    expect(
        section(page, "Besoins hors marché : décision attendue").filter(has_text="Chartres")
    ).to_have_count(0)
    check_a11y(page, "region home after decision")


# --- 3. Needs analysis, up to co-design -----------------------------------------------


def test_needs_analysis_shared_then_co_design(page):
    title = "Préparateur·rice de commandes en entrepôt frais"
    log_in(page, OF_EMAIL)
    open_report_form(page)
    fill_need(
        page,
        title=title,
        territory="Orléans",
        rome="N1103",
        context="Ouverture d'un entrepôt frigorifique à Saran.",
        employers=(EMPLOYER,),
    )
    send_need(page)
    expect(heading(page)).to_have_text(title)
    expect(section(page, "Chiffres clés")).to_contain_text("Lot n° 2024-45-03")
    expect(page.get_by_role("button", name="Passer à « Analyse des besoins »")).to_be_visible()
    expect(section(page, "Étape suivante")).to_contain_text(
        "La Région n'a pas encore accusé réception du besoin."
    )
    check_a11y(page, "need reported under own lot")
    log_out(page)

    log_in(page, REGION_EMAIL)
    open_operation(page, title)
    page.get_by_role("button", name="Accuser réception du besoin").click()
    expect(flash(page)).to_contain_text("Accusé de réception enregistré")
    check_a11y(page, "acknowledged")
    log_out(page)

    log_in(page, OF_EMAIL)
    open_operation(page, title)
    advance_to(page, "Analyse des besoins")
    log_out(page)

    # The employer fills in its own need.
    log_in(page, "employeur@demo.defi.test")
    mine = section(page, "Mes formations DEFI")
    expect(mine.get_by_role("listitem").filter(has_text=title)).to_contain_text(
        "Analyse des besoins"
    )
    mine.get_by_role("link", name=title).click()
    expect(section(page, f"À faire pour {EMPLOYER}")).to_contain_text(
        "Indiquer vos postes à pourvoir et vos besoins de compétences."
    )
    check_a11y(page, "operation seen by the employer")
    page.get_by_role("link", name="Voir l'analyse des besoins").click()
    expect(heading(page)).to_have_text("Analyse des besoins")
    check_a11y(page, "employer's analysis page")

    mark_document(page)
    need = page.locator("section.card").filter(
        has=page.get_by_role("heading", name=EMPLOYER, exact=True)
    )
    need.get_by_label("Intitulé du poste").fill("Préparateur·rice de commandes")
    need.get_by_label("Nombre de postes").fill("5")
    need.get_by_label("Type de contrat").select_option(label="CDI")
    need.get_by_role("button", name="Ajouter ces postes").click()
    expect(need.get_by_role("rowheader", name="Préparateur·rice de commandes")).to_be_visible()
    expect(need.get_by_label("Intitulé du poste")).to_have_value("")
    totals = page.locator("#analysis-totals")
    expect(totals.locator("dd").first).to_have_text("5")  # out-of-band update
    expect_same_document(page)
    check_a11y(page, "position added")

    need.get_by_role("link", name="Modifier les compétences et contraintes").click()
    need.get_by_label("Compétences attendues").fill("Lecture de bons, scanner, rigueur")
    need.get_by_label("Contraintes d'horaires").fill("Travail au froid, 6h-13h")
    check_a11y(page, "employer need in edit mode")
    need.get_by_role("button", name="Enregistrer").click()
    expect(need.get_by_role("status")).to_have_text("Besoins enregistrés.")
    expect(need).to_contain_text("Lecture de bons, scanner, rigueur")
    expect(need).to_contain_text("Travail au froid, 6h-13h")
    expect_same_document(page)
    check_a11y(page, "employer need saved")
    log_out(page)

    # The organisme completes the analysis and sends it to the Région.
    log_in(page, OF_EMAIL)
    open_operation(page, title)
    page.get_by_role("link", name="Voir l'analyse des besoins").click()
    expect(heading(page)).to_have_text("Analyse des besoins")
    check_a11y(page, "carrier's analysis page")
    mark_document(page)
    page.get_by_role("link", name="Modifier les publics, le diagnostic et les adaptations").click()
    publics = page.get_by_role("group", name="Publics visés")
    publics.get_by_label("Demandeurs d'emploi").check()
    publics.get_by_label("Jeunes de moins de 26 ans").check()
    page.get_by_label("Adaptations souhaitables").fill("Module froid et sécurité de 21 h")
    check_a11y(page, "analysis in edit mode")
    page.get_by_role("button", name="Enregistrer").click()
    content = page.locator("#analysis-content")
    expect(content.get_by_role("status")).to_have_text("Analyse des besoins enregistrée.")
    expect(content).to_contain_text("Jeunes de moins de 26 ans")
    expect(content).to_contain_text("Module froid et sécurité de 21 h")
    page.get_by_role("button", name="Transmettre l'analyse à la Région").click()
    expect(page.locator("#exchange")).to_contain_text("En attente de la réponse de la Région.")
    expect_same_document(page)
    check_a11y(page, "analysis sent")
    log_out(page)

    # The bassin's referent answers.
    log_in(page, "referent.orleans@demo.defi.test")
    open_operation(page, title)
    expect(section(page, "À faire pour Région Centre-Val de Loire")).to_contain_text(
        "Répondre à l'analyse des besoins transmise par l'organisme."
    )
    page.get_by_role("link", name="Voir l'analyse des besoins").click()
    mark_document(page)
    page.get_by_label("Réponse de la Région sur les adaptations proposées").fill("Module validé.")
    page.get_by_role("button", name="Accuser réception et répondre").click()
    exchange = page.locator("#exchange")
    expect(exchange).to_contain_text("Réponse de la Région le")
    expect(exchange).to_contain_text("Module validé.")
    expect_same_document(page)
    check_a11y(page, "analysis answered")
    log_out(page)

    # Every condition met: the organisme moves on to co-design.
    log_in(page, OF_EMAIL)
    open_operation(page, title)
    expect(section(page, "Étape suivante").locator(".unmet")).to_have_count(0)
    advance_to(page, "Co-conception")
    steps = page.get_by_role("navigation", name="Étapes de l'opération")
    expect(steps.locator("[aria-current='step']")).to_have_count(1)
    expect(steps.locator("[aria-current='step']")).to_contain_text("Co-conception")
    expect(steps.get_by_role("listitem").filter(has_text="Analyse des besoins")).to_contain_text(
        "(terminée)"
    )
    timeline = section(page, "Chronologie").get_by_role("listitem")
    for event in [
        "Passage de « Analyse des besoins » à « Co-conception »",
        "La Région répond à l'analyse des besoins",
        "Analyse des besoins et adaptations transmises à la Région",
        "Analyse des besoins (publics, diagnostic) mise à jour",
        f"Besoins {de(EMPLOYER)} mis à jour",
        f"{EMPLOYER} : 5 poste(s) de Préparateur·rice de commandes ajouté(s)",
        "Passage de « Besoin repéré » à « Analyse des besoins »",
        "La Région accuse réception du besoin",
        "Besoin repéré et signalé à la Région",
    ]:
        expect(timeline.filter(has_text=event)).to_have_count(1)
    expect(timeline.first).to_contain_text("Co-conception")  # newest first


# --- 4. The list's htmx filters ---------------------------------------------------------


def test_operations_list_filters_without_reload(page):
    log_in(page, REGION_EMAIL)
    main_nav(page).get_by_role("link", name="Opérations DEFI").click()
    expect(heading(page)).to_have_text("Opérations DEFI")
    results = page.locator("#operation-results")
    expect(results.get_by_role("heading", level=2)).to_have_text("10 opération(s)")
    check_a11y(page, "operations list")

    mark_document(page)
    page.get_by_label("Étape", exact=True).select_option(label="Besoin repéré")
    expect(page).to_have_url(re.compile(r"statut=need_reported"))
    expect(results.get_by_role("heading", level=2)).to_have_text("2 opération(s)")
    expect(results.get_by_role("link", name="Assistant·e de vie aux familles")).to_be_visible()
    expect(results.get_by_role("link", name="Agent·e de propreté et d'hygiène")).to_have_count(0)
    expect_same_document(page)
    check_a11y(page, "filtered by step")

    page.get_by_label("Recherche (intitulé, métier, code ROME)").press_sequentially("familles")
    expect(page).to_have_url(re.compile(r"q=familles"))
    expect(results.get_by_role("heading", level=2)).to_have_text("1 opération(s)")
    expect(results.get_by_role("link", name="Assistant·e de vie aux familles")).to_be_visible()
    expect(results.get_by_role("link", name="Opérateur·rice de production")).to_have_count(0)
    expect_same_document(page)
    check_a11y(page, "filtered by step and search")

    page.go_back()
    expect(page).not_to_have_url(re.compile(r"q=familles"))
    expect(page).to_have_url(re.compile(r"statut=need_reported"))
    expect(results.get_by_role("heading", level=2)).to_have_text("2 opération(s)")
    expect(chosen(page.get_by_label("Étape", exact=True))).to_have_text("Besoin repéré")
    expect(page.get_by_label("Recherche (intitulé, métier, code ROME)")).to_have_value("")
    check_a11y(page, "back to the step filter")

    page.go_back()
    expect(page).not_to_have_url(re.compile(r"statut=need_reported"))
    expect(results.get_by_role("heading", level=2)).to_have_text("10 opération(s)")
    expect(chosen(page.get_by_label("Étape", exact=True))).to_have_text("Toutes")
    check_a11y(page, "back to the full list")


# --- 5. The participants widget ---------------------------------------------------------


def test_partner_added_then_withdrawn_with_a_reason(page):
    partner = "Mission locale de l'Orléanais"
    reason = "Les candidats seront orientés par France Travail."
    log_in(page, OF_EMAIL)
    open_operation(page, "Assistant·e de vie aux familles")
    page.get_by_role("link", name="Gérer les participants").click()
    expect(heading(page)).to_have_text("Participants de l'opération")
    check_a11y(page, "participants")

    # Each form's controls carry their own label (ids once clashed with the header's switcher).
    inviting = section(page, "Inviter une organisation pas encore inscrite")
    expect(inviting.get_by_role("combobox", name="Rôle dans l'opération")).to_be_visible()

    mark_document(page)
    adding = section(page, "Associer une organisation inscrite")
    adding.get_by_role("combobox", name="Organisation", exact=True).select_option(
        label=f"{partner} (Partenaire)"
    )
    adding.get_by_role("combobox", name="Rôle dans l'opération").select_option(
        label="Partenaire orientation"
    )
    adding.get_by_role("button", name="Associer").click()
    active = section(page, "Organisations engagées")
    row = active.get_by_role("row").filter(has=page.get_by_role("rowheader", name=partner))
    expect(row).to_contain_text("Partenaire orientation")
    # Once taking part, it is no longer offered.
    expect(adding.get_by_label("Organisation").locator("option", has_text=partner)).to_have_count(0)
    expect_same_document(page)
    check_a11y(page, "partner added")

    row.get_by_label(f"Motif du retrait {de(partner)}").fill(reason)
    row.get_by_role("button", name="Retirer").click()
    expect(active.get_by_role("rowheader", name=partner)).to_have_count(0)
    history = section(page, "Participants retirés")
    expect(history).to_contain_text(f"{partner} (Partenaire orientation) — retiré·e le")
    expect(history).to_contain_text(f"par Julien Moreau : {reason}")
    expect_same_document(page)
    check_a11y(page, "partner withdrawn")

    page.get_by_role("link", name="Assistant·e de vie aux familles").click()
    expect(section(page, "Participants")).not_to_contain_text(partner)
    timeline = section(page, "Chronologie")
    expect(timeline).to_contain_text(f"{partner} retiré·e de l'opération")
    expect(timeline).to_contain_text(f"{partner} rejoint l'opération (Partenaire orientation)")
    check_a11y(page, "operation after withdrawal")
