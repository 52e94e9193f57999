"""Tutors, in two browsers, axe-core on every page and state (issue #12).

Entreprise E's admin marks Lucie, a member of the company, as tutor on the members page
(in place, htmx); in « Immersions et tutorat » she designates Lucie as the tutor of
Alice's finished immersion (the widget of that row swaps in place). Lucie then logs in
(a browser of her own), finds Alice among what is due on her tutor's home, with the
period and the place, and records the assessment; the organisme is told.

The starting state — an operation in training with Entreprise E as signatory employer, a
design with skills, Alice's immersions generated from the rhythm — comes from the
immersion factories, apart from the demo.
"""

from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from portal.core.french import de
from portal.extensions import db
from tests.browser.support import check_a11y, expect_same_document, log_in, mark_document, visit
from tests.immersions.factories import EMPLOYER_MEMBER, PAST, Running, generate, make_trainee
from tests.support import PASSWORD

pytestmark = pytest.mark.browser

ADMIN = "e.admin@example.fr"  # Entreprise E's admin (tests/operations/factories.py)
ALICE = "Alice Durand"
LUCIE = "Lucie Bernard"  # a member of Entreprise E, neither admin nor tutor yet


@dataclass
class Journey:
    employer_id: int
    period: str  # « du JJ/MM/AAAA au JJ/MM/AAAA » of Alice's finished immersion


@pytest.fixture
def journey(app, live_server) -> Journey:
    with app.test_request_context(base_url=live_server.url):
        running = Running()
        running.employer_member.first_name, running.employer_member.last_name = "Lucie", "Bernard"
        make_trainee(running, "Alice", "Durand", employer=running.market.employer)
        generate(running)
        db.session.commit()
        return Journey(running.market.employer.id, f"du {PAST[0]:%d/%m/%Y} au {PAST[1]:%d/%m/%Y}")


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def card(page: Page, title: str):
    """The ``<section>`` whose heading is ``title``."""
    return page.locator("section").filter(has=page.get_by_role("heading", name=title, exact=True))


def nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name=name
    ).click()


def logged_in(open_for, email: str, first_name: str) -> Page:
    page = open_for(email)
    log_in(page, email, PASSWORD)
    expect(heading(page)).to_have_text(f"Bonjour {first_name}")
    check_a11y(page, f"home ({first_name})")
    return page


def mark_lucie_as_tutor(admin: Page) -> None:
    """On the members page, in place: Lucie becomes a tutor."""
    nav(admin, "Mon organisation")
    expect(heading(admin)).to_have_text("Entreprise E")
    check_a11y(admin, "members page")
    mark_document(admin)
    row = admin.locator("#members tr").filter(has=admin.get_by_role("rowheader", name=LUCIE))
    expect(row).to_contain_text("Membre")
    row.get_by_role("button", name="Nommer tuteur·rice").click()
    notice = admin.locator("#members").get_by_role("status")
    expect(notice).to_have_text(f"{LUCIE} est désormais tuteur·rice.")
    expect(notice).to_be_focused()
    row = admin.locator("#members tr").filter(has=admin.get_by_role("rowheader", name=LUCIE))
    expect(row).to_contain_text("Membre, tuteur·rice")
    expect(row.get_by_role("button", name="Retirer le rôle de tuteur·rice")).to_be_visible()
    expect_same_document(admin)
    check_a11y(admin, "Lucie marked as tutor")


def designate_lucie(admin: Page, journey: Journey) -> None:
    """In « Immersions et tutorat », Lucie becomes the tutor of Alice's past immersion."""
    nav(admin, "Immersions et tutorat")
    expect(heading(admin)).to_have_text("Immersions et tutorat")
    todo = card(admin, "À faire")
    expect(todo).to_contain_text("attendent la désignation de leur tuteur·rice")
    check_a11y(admin, "immersions and tutoring")
    recent = card(admin, "Terminées récemment")
    row = recent.get_by_role("row").filter(has=admin.get_by_role("rowheader", name=ALICE))
    expect(row).to_contain_text("Tuteur·rice à désigner")
    mark_document(admin)
    row.get_by_label(f"Tuteur·rice {de(ALICE)}, {journey.period}").select_option(label=LUCIE)
    row.get_by_role("button", name=f"Désigner le ou la tuteur·rice {de(ALICE)}").click()
    notice = row.get_by_role("status")
    expect(notice).to_have_text(
        f"{LUCIE} est désigné·e tuteur·rice {de(ALICE)} ; l'organisme de formation en est informé."
    )
    expect(notice).to_be_focused()
    expect(row.locator(".designation")).to_contain_text(LUCIE)
    expect_same_document(admin)
    check_a11y(admin, "Lucie designated")


def lucie_assesses(tutor: Page, journey: Journey) -> None:
    """Lucie's home: Alice is due, with the period and the place; she assesses."""
    expect(card(tutor, "Mes stagiaires en immersion")).to_contain_text(
        "1 immersion(s) attendent votre évaluation."
    )
    nav(tutor, "Mes stagiaires en immersion")
    expect(heading(tutor)).to_have_text("Mes stagiaires en immersion")
    todo = card(tutor, "À faire")
    expect(todo).to_contain_text(f"Évaluer l'immersion {de(ALICE)}")
    recent = card(tutor, "Terminées récemment")
    alice = recent.get_by_role("row").filter(has=tutor.get_by_role("rowheader", name=ALICE))
    expect(alice).to_contain_text(journey.period)
    expect(alice).to_contain_text("Entreprise E")
    check_a11y(tutor, "tutor's home")
    todo.get_by_role("link", name=f"Évaluer l'immersion {de(ALICE)}").click()
    expect(heading(tutor)).to_have_text(f"Évaluation de l'immersion {de(ALICE)}")
    check_a11y(tutor, "assessment form")
    tutor.get_by_label("Utiliser une autolaveuse", exact=True).select_option(label="Acquis")
    tutor.get_by_role("group", name="Assiduité").get_by_label("Assidu·e").check()
    tutor.get_by_label("Appréciation générale").fill("Rigoureuse, à l'aise avec l'équipe.")
    tutor.get_by_role("group", name="Embaucheriez-vous ce ou cette stagiaire ?").get_by_label(
        "Oui"
    ).check()
    tutor.get_by_role("button", name="Enregistrer l'évaluation").click()
    expect(heading(tutor)).to_have_text("Mes stagiaires en immersion")
    expect(tutor.locator("#flashes")).to_contain_text(
        "Évaluation enregistrée : l'organisme de formation en est informé."
    )
    expect(card(tutor, "À faire")).to_contain_text("Rien à faire pour l'instant.")
    check_a11y(tutor, "assessment recorded")


def test_an_employer_makes_a_tutor_who_assesses_their_trainee(browsers, journey):
    admin = logged_in(browsers, ADMIN, "Camille")
    mark_lucie_as_tutor(admin)
    designate_lucie(admin, journey)
    tutor = logged_in(browsers, EMPLOYER_MEMBER, "Lucie")
    lucie_assesses(tutor, journey)
    visit(tutor, "/notifications/", "tutor's notifications")
    expect(tutor.locator("main")).to_contain_text(
        f"Entreprise E vous désigne tuteur·rice {de(ALICE)}"
    )
