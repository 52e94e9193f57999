"""Keeping the training up to date after signature, through an amendment, in four browsers.

Version 1 of the convention is in force and the operation recruits. The organisme changes
the alternance rhythm on the design page, which says it edits the draft of the amendment
while the signed version stays in force; it associates a third employer, which joins the
convention by the amendment; that employer promises two jobs and names its signer. The
organisme reads on the convention page what the amendment will change and submits it.
Entreprise E, which signed version 1, sees what changed since and signs; the employer
joining sees what the amendment changes and signs; the organisme signs; the Région
validates. Version 2 is in force: the design page says the draft no longer differs, and
the new employer's promises exist. axe-core runs on every page and significant state.

The starting state is built with the services, on organisations of its own.
"""

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.design.models import Design
from portal.extensions import db
from portal.operations.models import Participant
from portal.recruitment.models import JobPromise
from tests.browser.support import check_a11y, log_in, visit
from tests.conventions.factories import in_force, make_convention_ready
from tests.support import PASSWORD

pytestmark = pytest.mark.browser

RHYTHM = "Rythme de l'alternance"
NEW_LABEL = "Accueil, sécurité et visite des entrepôts"
NAMES = {
    "provider": ("Julie", "Organisme"),
    "employer": ("Émile", "Employeur"),
    "employer2": ("Fanny", "Nouvelle"),
    "region": ("Régis", "Région"),
}


@dataclass
class Journey:
    operation_id: int
    employer2_id: int
    emails: dict[str, str]

    def url(self, path: str = "") -> str:
        return f"/operations/{self.operation_id}{path}"

    def version_url(self, number: int) -> str:
        return self.url(f"/convention/versions/{number}")


@pytest.fixture
def journey(app, live_server) -> Journey:
    """Version 1 in force (Organisme A, Entreprise E), the operation recruiting."""
    with app.test_request_context(base_url=live_server.url):
        ready = in_force(make_convention_ready(partner=False))
        market = ready.market
        people = {
            "provider": market.a_user,
            "employer": market.employer_user,
            "employer2": market.employer2_user,
            "region": market.referent,
        }
        for key, user in people.items():
            user.first_name, user.last_name = NAMES[key]
        db.session.commit()
        return Journey(
            operation_id=ready.operation.id,
            employer2_id=market.employer2.id,
            emails={key: user.email for key, user in people.items()},
        )


def logged_in(open_for, journey: Journey, who: str) -> Page:
    page = open_for(who)
    log_in(page, journey.emails[who], PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Bonjour {NAMES[who][0]}")
    check_a11y(page, f"home ({who})")
    return page


def signatures(page: Page):
    return page.locator("#version-signatures")


def sign(page: Page, number: int, organisation: str) -> None:
    """Tick the exact consent, confirm the password, sign; the row names the signer."""
    signatures(page).get_by_label(f"J'ai pris connaissance de la version {number}").check()
    signatures(page).get_by_label("Votre mot de passe, pour confirmer votre identité").fill(
        PASSWORD
    )
    signatures(page).get_by_role("button", name=f"Signer la version {number}").click()
    expect(signatures(page).get_by_role("status")).to_have_text(
        f"Votre signature pour {organisation} est enregistrée sur la version {number}."
    )
    check_a11y(page, f"version {number} signed for {organisation}")


def test_the_rhythm_and_a_new_employer_go_in_force_through_an_amendment(app, browsers, journey):
    provider = logged_in(browsers, journey, "provider")

    # 1. After signature, the design is the draft of the amendment.
    visit(provider, journey.url("/conception"), "design, version 1 in force")
    draft = provider.locator("#design-draft")
    expect(draft.get_by_role("heading", level=2)).to_contain_text(
        "Brouillon de l'avenant — la version en vigueur reste celle signée le"
    )
    expect(draft).to_contain_text("Le brouillon ne diffère pas de la version en vigueur.")
    rhythm = provider.locator("#section-rhythm")
    rhythm.get_by_role("link", name=f"Modifier « {RHYTHM} »").click()
    expect(rhythm).to_have_attribute("data-mode", "edit")
    check_a11y(provider, "rhythm in edit mode")
    first_period = rhythm.get_by_role("group", name="Période n° 1")
    first_period.get_by_label("Intitulé (facultatif)").fill(NEW_LABEL)
    rhythm.get_by_role("button", name=f"Enregistrer « {RHYTHM} »").click()
    expect(rhythm).to_have_attribute("data-mode", "view")
    expect(rhythm).to_contain_text("Modifiée dans le brouillon")
    rhythm.get_by_text("Ce qui change par rapport à la version en vigueur").click()
    expect(rhythm.locator(".draft-change ins")).to_contain_text(NEW_LABEL)
    expect(draft).to_contain_text(f"Sections modifiées depuis la version en vigueur : {RHYTHM}.")
    check_a11y(provider, "rhythm changed in the draft")

    # 2. A third employer is associated: it joins the convention by the amendment.
    visit(provider, journey.url("/participants"), "participants")
    associate = provider.get_by_role("region", name="Associer une organisation inscrite")
    associate.get_by_label("Organisation", exact=True).select_option(str(journey.employer2_id))
    associate.get_by_label("Rôle dans l'opération").select_option("employer")
    associate.get_by_role("button", name="Associer").click()
    joining = provider.get_by_role("row").filter(has_text="Entreprise F")
    expect(joining).to_contain_text("rejoint la convention par l'avenant")
    check_a11y(provider, "participants, an employer joining")

    # 3. The employer joining promises two jobs and names its signer.
    newcomer = logged_in(browsers, journey, "employer2")
    visit(newcomer, journey.url("/analyse"), "analysis, the employer joining")
    positions = newcomer.locator(f"#positions-{journey.employer2_id}")
    positions.get_by_label("Intitulé du poste").fill("Agent·e de propreté")
    positions.get_by_label("Nombre de postes").fill("2")
    positions.get_by_label("Type de contrat").select_option("cdi")
    positions.get_by_role("button", name="Ajouter ces postes").click()
    expect(positions).to_contain_text("Ajout en attente de l'avenant")
    check_a11y(newcomer, "analysis, a promise added by the amendment")
    visit(newcomer, journey.url("/convention"), "convention, the employer joining")
    parties = newcomer.locator("#parties")
    parties.get_by_text("Désigner le signataire d'Entreprise F").click()
    parties.get_by_label("Signataire", exact=True).select_option(label=" ".join(NAMES["employer2"]))
    parties.get_by_label("Qualité du signataire").fill("présidente")
    parties.get_by_role("button", name="Enregistrer le signataire d'Entreprise F").click()
    expect(parties.get_by_role("status")).to_have_text("Signataire d'Entreprise F enregistré.")
    check_a11y(newcomer, "convention, signer named")

    # 4. The organisme reads what the amendment will change, and submits it.
    visit(provider, journey.url("/convention"), "convention, amendment draft")
    status = provider.locator("#convention-status")
    expect(status).to_contain_text(
        "Ont changé depuis la version 1 : Parties à la convention, Promesses d'emploi, "
        "Annexe : la formation co-conçue."
    )
    status.get_by_text("Voir le détail des changements depuis la version 1").click()
    expect(status.get_by_role("heading", name=RHYTHM)).to_be_visible()
    expect(status).to_contain_text(NEW_LABEL)
    check_a11y(provider, "convention, what the amendment changes")
    status.get_by_role("button", name="Soumettre un avenant aux signatures").click()
    expect(provider).to_have_url(re.compile(re.escape(journey.version_url(2)) + "$"))
    expect(provider.get_by_role("heading", level=1)).to_contain_text("version 2 (avenant)")
    check_a11y(provider, "version 2 submitted")

    # 5. Entreprise E signed version 1: it sees what changed since, and signs.
    employer = logged_in(browsers, journey, "employer")
    visit(employer, journey.version_url(2), "version 2, Entreprise E")
    changes = employer.get_by_role("region", name="Ce qui a changé depuis la version 1")
    expect(changes.get_by_role("heading", name=RHYTHM)).to_be_visible()
    expect(changes).to_contain_text(NEW_LABEL)
    expect(changes.get_by_role("heading", name="Promesses d'emploi")).to_be_visible()
    expect(changes).to_contain_text("Entreprise F")
    sign(employer, 2, "Entreprise E")

    # 6. The employer joining never read version 1: it sees what the amendment changes.
    visit(newcomer, journey.version_url(2), "version 2, the employer joining")
    changes = newcomer.get_by_role("region", name="Ce que cet avenant change dans la version 1")
    expect(changes).to_contain_text(NEW_LABEL)
    sign(newcomer, 2, "Entreprise F")
    visit(provider, journey.version_url(2), "version 2, the organisme")
    sign(provider, 2, "Organisme A")

    # 7. The Région validates: version 2 is in force.
    region = logged_in(browsers, journey, "region")
    visit(region, journey.version_url(2), "version 2, the Région")
    signatures(region).get_by_role("button", name="Valider la version 2").click()
    expect(signatures(region).get_by_role("status")).to_have_text(
        "Avenant validé : la version 2 est en vigueur, avec les changements qu'elle porte "
        "(formation, promesses, parties)."
    )
    check_a11y(region, "version 2 validated")

    visit(provider, journey.url("/conception"), "design, version 2 in force")
    expect(provider.locator("#design-draft")).to_contain_text(
        "Le brouillon ne diffère pas de la version en vigueur."
    )
    expect(provider.locator("#section-rhythm")).not_to_contain_text("Modifiée dans le brouillon")
    visit(provider, journey.url("/convention"), "convention, version 2 in force")
    expect(provider.locator("#convention-status")).to_contain_text("Version 2 en vigueur")
    with app.app_context():
        design = db.session.scalar(
            select(Design).where(Design.operation_id == journey.operation_id)
        )
        assert design.in_force_number == 2
        assert design.in_force["rhythm"]["items"][0]["label"] == NEW_LABEL
        joined = db.session.scalar(
            select(Participant).where(
                Participant.operation_id == journey.operation_id,
                Participant.organisation_id == journey.employer2_id,
            )
        )
        assert joined.pending_change is None
        promises = db.session.scalars(
            select(JobPromise).where(JobPromise.organisation_id == journey.employer2_id)
        ).all()
        assert len(promises) == 2
        db.session.remove()
