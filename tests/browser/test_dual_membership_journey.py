"""A person who becomes a member of two parties of the same operations, and the Région's
decision, in a real browser with axe-core on every page (issue #11 M6).

France Travail's adviser accepts an invitation from the logistics employer, which takes part
in three open operations with France Travail: three requests reach the Orléans referent,
who refuses one (a reason is required) and approves another from « Cumuls à décider »; the
convention of the running session then carries the mention.
"""

import re

import pytest
from playwright.sync_api import expect

from portal.core.french import de
from portal.demo import DEMO_PASSWORD
from tests.browser.support import card, check_a11y, heading, logged_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo")]

EMPLOYER = "Transports et Logistique du Loiret"
PARTNER = "France Travail — agence Orléans Est"
PARTNER_EMAIL = "partenaire@demo.defi.test"
LOGISTICS = "Préparateur·rice de commandes et cariste"
RUNNING = "Préparateur·rice de commandes — session de Saran"
FOLLOW_UP = "Préparateur·rice de commandes — session d'Ingré"


def test_a_partner_joins_an_employer_and_the_region_decides_the_cumuls(browsers):
    """#11 M6: the situation arises by an accepted invitation; the Région decides it from
    its page (htmx), a refusal needs its reason, the approval is mentioned on the
    convention."""
    employer = logged_in(browsers, "employeur@demo.defi.test", "Nathalie", DEMO_PASSWORD)
    employer.get_by_role("link", name="Mon organisation").click()
    employer.get_by_label("Adresse électronique de la personne invitée").fill(PARTNER_EMAIL)
    employer.get_by_role("button", name="Envoyer l'invitation").click()
    pending = employer.get_by_role("region", name="Invitations en attente")
    expect(pending.get_by_role("listitem").filter(has_text=PARTNER_EMAIL)).to_be_visible()

    partner = logged_in(browsers, PARTNER_EMAIL, "Isabelle", DEMO_PASSWORD)
    partner.get_by_role("link", name="Voir les courriels envoyés").click()
    mail = partner.get_by_role("listitem").filter(has_text=f"Rejoindre {EMPLOYER}").first
    link = mail.get_by_role("link", name="/invitation/").get_attribute("href")
    partner.goto(link)
    expect(heading(partner)).to_have_text(f"Rejoindre {EMPLOYER}")
    check_a11y(partner, "accept invitation (existing account)")
    partner.get_by_label("Votre mot de passe actuel").fill(DEMO_PASSWORD)
    partner.get_by_role("button", name="Accepter l'invitation").click()
    expect(partner.get_by_role("status")).to_contain_text(f"Vous avez rejoint {EMPLOYER}")

    referent = logged_in(browsers, "referent.orleans@demo.defi.test", "Karim", DEMO_PASSWORD)
    nav = referent.get_by_role("navigation", name="Navigation principale")
    nav.get_by_role("link", name="Cumuls à décider").click()
    expect(heading(referent)).to_have_text("Cumuls d'appartenance à décider")
    expect(nav.get_by_role("link", name="Cumuls à décider")).to_have_attribute(
        "aria-current", "page"
    )
    check_a11y(referent, "dual memberships")
    sentence = f"Isabelle Laurent est membre {de(EMPLOYER)} et {de(PARTNER)}."
    for title in (LOGISTICS, RUNNING, FOLLOW_UP):
        expect(card(referent, title)).to_contain_text(sentence)

    logistics = card(referent, LOGISTICS)
    logistics.get_by_label("Refuser le cumul").check()
    logistics.get_by_role("button", name=re.compile("Enregistrer la décision")).click()
    expect(card(referent, LOGISTICS).locator(".error-message")).to_contain_text(
        "Indiquez le motif du refus."
    )
    check_a11y(referent, "refusal without a reason")
    logistics = card(referent, LOGISTICS)
    logistics.get_by_label("Motif (obligatoire pour un refus)").fill(
        "Elle prescrit les candidats de l'entreprise qu'elle représenterait."
    )
    logistics.get_by_role("button", name=re.compile("Enregistrer la décision")).click()
    expect(referent.get_by_role("status")).to_contain_text("Cumul refusé.")
    expect(card(referent, LOGISTICS)).to_contain_text("cumul refusé")

    running = card(referent, RUNNING)
    running.get_by_label("Approuver le cumul").check()
    running.get_by_role("button", name=re.compile("Enregistrer la décision")).click()
    expect(referent.get_by_role("status")).to_contain_text("Cumul approuvé")
    expect(card(referent, RUNNING)).to_have_count(0)
    check_a11y(referent, "after the decisions")

    nav.get_by_role("link", name="Opérations DEFI").click()
    referent.locator("#operation-results").get_by_role("link", name=RUNNING, exact=True).click()
    referent.get_by_role("link", name="Ouvrir la convention de partenariat").click()
    parties = referent.locator("#parties")
    expect(parties).to_contain_text(
        f"Isabelle Laurent est membre {de(EMPLOYER)} et {de(PARTNER)} ; cumul approuvé par la "
        "Région le "
    )
    check_a11y(referent, "convention with the mention")
