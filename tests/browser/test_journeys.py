"""Journeys through the portal in a real browser, each page checked with axe-core."""

import pytest
from playwright.sync_api import Page, expect

from portal.demo import DEMO_PASSWORD
from tests.browser.support import (
    OF_EMAIL,
    check_a11y,
    expect_same_document,
    log_in,
    log_out,
    mark_document,
    visit,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo")]

OF_HOME_ORG = "Forma'Centre Loiret"
OF_OTHER_ORG = "Touraine Compétences Formation"


def expect_home(page: Page, first_name: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Bonjour {first_name}")
    check_a11y(page, "home")


def current_org_select(page: Page):
    return page.get_by_role("banner").get_by_label("Organisation courante")


@pytest.mark.parametrize(
    ("email", "first_name", "organisation"),
    [
        ("region@demo.defi.test", "Sophie", "Région Centre-Val de Loire"),
        (OF_EMAIL, "Julien", OF_HOME_ORG),
        ("employeur@demo.defi.test", "Nathalie", "Transports et Logistique du Loiret"),
        ("tuteur@demo.defi.test", "Thomas", "Transports et Logistique du Loiret"),
        ("partenaire@demo.defi.test", "Isabelle", "France Travail — agence Orléans Est"),
    ],
    ids=["region", "provider", "employer", "tutor", "partner"],
)
def test_each_role_logs_in_and_reaches_home(page, email, first_name, organisation):
    log_in(page, email)
    expect_home(page, first_name)
    header = page.get_by_role("banner")
    if email == OF_EMAIL:  # member of two organisations: the header offers a switcher
        expect(current_org_select(page).locator("option:checked")).to_have_text(organisation)
    else:
        expect(header.locator(".org-switcher")).to_contain_text(organisation)


def test_wrong_password_shows_french_error(page):
    log_in(page, OF_EMAIL, "pas le bon mot de passe")
    expect(page.get_by_role("alert")).to_have_text(
        "Adresse électronique ou mot de passe incorrect."
    )
    expect(page.get_by_label("Adresse électronique")).to_have_value(OF_EMAIL)
    check_a11y(page, "login error")


def test_keyboard_only_login(page):
    visit(page, "/connexion")
    expect(page.locator("body")).to_be_focused()  # nothing grabs focus on load
    skip_link = page.get_by_role("link", name="Aller au contenu principal")
    page.keyboard.press("Tab")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()  # hidden off-screen until it has focus
    check_a11y(page, "skip link shown")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Adresse électronique")).to_be_focused()
    page.keyboard.type(OF_EMAIL)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Mot de passe")).to_be_focused()
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect_home(page, "Julien")


def test_invitation_from_outbox_to_first_login(page):
    newcomer = "nouveau.stagiaire.formateur@example.fr"
    password = "une phrase de passe solide 2026"
    log_in(page, OF_EMAIL)
    expect_home(page, "Julien")

    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Mon organisation"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(OF_HOME_ORG)
    check_a11y(page, "members")
    mark_document(page)
    invitee = page.get_by_label("Adresse électronique de la personne invitée")
    invitee.fill("pas-une-adresse")
    page.get_by_role("button", name="Envoyer l'invitation").click()
    expect(invitee).to_have_attribute("aria-invalid", "true")
    expect(invitee).to_be_focused()  # static/js/app.js moves focus to the swapped-in error
    expect(page.locator("#members")).to_contain_text("Saisissez une adresse électronique valide")
    check_a11y(page, "members, htmx form error")
    invitee.fill(newcomer)
    page.get_by_role("button", name="Envoyer l'invitation").click()
    pending = page.get_by_role("region", name="Invitations en attente")
    expect(pending.get_by_role("listitem").filter(has_text=newcomer)).to_be_visible()
    expect(invitee).to_have_value("")
    expect_same_document(page)
    check_a11y(page, "members after htmx invite")
    log_out(page)

    # Without a mail server the invitation waits in the demo outbox, which only shows a
    # person their own e-mails: the newcomer has no account yet, the Région's admin reads
    # every e-mail and passes the link on.
    log_in(page, "region@demo.defi.test")
    expect_home(page, "Sophie")
    page.get_by_role("link", name="Voir les courriels envoyés").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Courriels envoyés (démonstration)")
    check_a11y(page, "demo outbox")
    mail = page.get_by_role("listitem").filter(has_text=f"À : {newcomer}")
    link = mail.get_by_role("link", name="/invitation/").get_attribute("href")
    log_out(page)
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Rejoindre {OF_HOME_ORG}")
    check_a11y(page, "accept invitation")

    page.get_by_label("Prénom").fill("Lucas")
    page.get_by_label("Nom", exact=True).fill("Bernard")
    page.get_by_label("Mot de passe (12 caractères minimum)").fill("trop court")
    page.get_by_label("Confirmez le mot de passe").fill("trop court")
    page.get_by_role("button", name="Accepter l'invitation").click()
    too_short = "Le mot de passe doit contenir au moins 12 caractères."
    expect(page.get_by_role("alert")).to_contain_text(too_short)
    expect(page.get_by_label("Mot de passe (12 caractères minimum)")).to_have_attribute(
        "aria-invalid", "true"
    )
    check_a11y(page, "accept invitation with errors")

    page.get_by_label("Mot de passe (12 caractères minimum)").fill(password)
    page.get_by_label("Confirmez le mot de passe").fill(password)
    page.get_by_role("button", name="Accepter l'invitation").click()
    expect_home(page, "Lucas")
    expect(page.get_by_role("status")).to_contain_text(f"Vous avez rejoint {OF_HOME_ORG}")
    log_out(page)

    log_in(page, newcomer, password)
    expect_home(page, "Lucas")


def test_provider_switches_organisation(page):
    log_in(page, OF_EMAIL)
    expect_home(page, "Julien")
    current_org_select(page).select_option(label=OF_OTHER_ORG)
    page.get_by_role("banner").get_by_role("button", name="Changer").click()
    expect(page.get_by_role("status")).to_contain_text("Organisation courante changée.")
    expect(current_org_select(page).locator("option:checked")).to_have_text(OF_OTHER_ORG)
    expect(page.locator("main .lead")).to_contain_text(OF_OTHER_ORG)
    check_a11y(page, "home after switching organisation")


def test_region_admin_pages_and_inline_referent_edit(page):
    log_in(page, "region@demo.defi.test")
    expect_home(page, "Sophie")
    nav = page.get_by_role("navigation", name="Navigation principale")
    for link, heading in [
        ("Organisations", "Organisations"),
        ("Utilisateurs", "Utilisateurs"),
        ("Bassins et référents", "Bassins d'emploi et référent·es territoriaux·ales formation"),
    ]:
        nav.get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        expect(nav.get_by_role("link", name=link)).to_have_attribute("aria-current", "page")
        check_a11y(page, link)

    mark_document(page)
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Blois"))
    expect(row).to_contain_text("À désigner")
    page.get_by_role("link", name="Modifier Blois").click()
    editing = page.locator("tr", has=page.get_by_role("button", name="Enregistrer"))
    expect(editing).to_be_visible()
    check_a11y(page, "territory row in edit mode")
    editing.get_by_label("Référent·e territorial·e formation").select_option(
        label="Karim Benali (referent.orleans@demo.defi.test)"
    )
    editing.get_by_role("button", name="Enregistrer").click()
    expect(row).to_contain_text("Karim Benali")
    expect(page.get_by_role("link", name="Modifier Blois")).to_be_visible()
    expect_same_document(page)
    check_a11y(page, "territory row saved")


def test_strict_csp_leaves_htmx_working(page, browser_errors):
    """The page fixture keeps the real CSP (no bypass); nothing the portal ships is refused."""
    log_in(page, OF_EMAIL)
    expect_home(page, "Julien")
    page.get_by_role("link", name="Mon organisation").click()
    check_a11y(page, "members")
    assert page.evaluate("typeof htmx") == "object"
    assert page.evaluate("htmx.config.selfRequestsOnly && !htmx.config.allowEval") is True
    # An htmx round trip, so the CSRF header script and the swap run under the policy too.
    page.get_by_label("Adresse électronique de la personne invitée").fill("csp@example.fr")
    page.get_by_role("button", name="Envoyer l'invitation").click()
    expect(page.get_by_role("listitem").filter(has_text="csp@example.fr")).to_be_visible()
    assert browser_errors == []
