"""The public pages in a browser (issue 15): each one, from the footer, passes axe-core for
a visitor and for a logged-in person; the site map leads to the pages it lists; a
fingerprint copies in one piece, by its « Copier » button or by selecting it."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.conventions.models import Convention, ConventionVersion
from portal.extensions import db
from portal.operations.models import Operation
from tests.browser.support import check_a11y, heading, log_in, visit

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo")]

FOOTER = {
    "Accessibilité : partiellement conforme": "Déclaration d'accessibilité",
    "Mentions légales": "Mentions légales",
    "Données personnelles": "Données personnelles",
    "Plan du site": "Plan du site",
    "Vérifier un document": "Vérifier une convention",
}
SARAN = "Préparateur·rice de commandes — session de Saran"


def footer(page):
    return page.get_by_role("navigation", name="Informations sur le portail")


def walk_the_footer(page, step: str) -> None:
    for link, title in FOOTER.items():
        footer(page).get_by_role("link", name=link).click()
        expect(heading(page)).to_contain_text(title)
        check_a11y(page, f"{title} ({step})")


def test_the_public_pages_from_the_footer_for_a_visitor_then_a_member(page):
    visit(page, "/connexion", "login")
    page.get_by_role("link", name="Vérifier un document édité par le portail").click()
    expect(heading(page)).to_contain_text("Vérifier une convention")
    walk_the_footer(page, "visitor")
    footer(page).get_by_role("link", name="Plan du site").click()
    page.get_by_role("main").get_by_role("link", name="Mentions légales").click()
    expect(heading(page)).to_have_text("Mentions légales")

    log_in(page, "region@demo.defi.test")
    expect(heading(page)).to_contain_text("Bonjour")
    walk_the_footer(page, "logged in")
    footer(page).get_by_role("link", name="Plan du site").click()
    plan = page.get_by_role("main")
    expect(plan.get_by_role("heading", name="Administration")).to_be_visible()
    plan.get_by_role("link", name=SARAN).click()
    expect(heading(page)).to_have_text(SARAN)
    check_a11y(page, "operation from the site map")


def test_a_fingerprint_copies_in_one_piece(app, page):
    with app.app_context():
        operation_id, number, digest = db.session.execute(
            select(Operation.id, ConventionVersion.number, ConventionVersion.sha256)
            .join(Convention, Convention.operation_id == Operation.id)
            .join(ConventionVersion, ConventionVersion.convention_id == Convention.id)
            .where(Operation.title == SARAN)
            .order_by(ConventionVersion.number)
        ).first()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(page, "of@demo.defi.test")
    visit(page, f"/operations/{operation_id}/convention/versions/{number}", "version")
    value = page.locator(f'[data-fingerprint="{digest}"]')
    expect(value.locator(".fingerprint__block")).to_have_count(8)
    # Selected by hand, the blocks give the digits only (spaced by CSS, not by characters).
    selected = value.evaluate(
        "e => { getSelection().selectAllChildren(e); return getSelection().toString(); }"
    )
    assert selected == digest
    box = page.locator(".fingerprint").filter(has=value)
    box.get_by_role("button", name=f"Copier l'empreinte de la version {number}").click()
    expect(box.get_by_role("status")).to_have_text("Empreinte copiée.")
    assert page.evaluate("navigator.clipboard.readText()") == digest
    check_a11y(page, "fingerprint copied")
