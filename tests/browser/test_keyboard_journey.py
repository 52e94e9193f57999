"""The main path with the keyboard only (issue 15, RGAA 12.x / WCAG 2.1.1 and 2.4.7): log in,
report a need, edit a co-design section, sign a convention — Tab, Shift+Tab, Enter, Space,
arrows and typing, never a click. Every element that takes focus on the way must show it
(a computed outline or ring), and an action must leave focus somewhere useful, not on
<body>. axe-core runs on each page.

Moving between areas goes by the address (``visit``), which is also a keyboard path; what
the journey checks is what happens inside each page.
"""

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.conventions.models import Convention, ConventionVersion, VersionStatus
from portal.demo import DEMO_PASSWORD
from portal.extensions import db
from portal.operations.models import Operation
from tests.browser.support import HTMX_BUSY, OF_EMAIL, check_a11y, heading, visit

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo")]

DESIGN_OPERATION = "Préparateur·rice de commandes et cariste"
SIGNED_OPERATION = "Préparateur·rice de commandes — session de Saran"
EMPLOYER_EMAIL = "employeur@demo.defi.test"
MAX_TABS = 120

# What the focused element is and whether its focus shows: an outline or a box-shadow ring.
FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) { return null; }
  const s = getComputedStyle(e);
  const label = e.labels && e.labels.length ? e.labels[0].innerText : "";
  const box = e.getBoundingClientRect();
  return {
    tag: e.tagName.toLowerCase(),
    name: (label || e.innerText || e.value || "").replace(/\\s+/g, " ").trim(),
    outline: s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0,
    ring: s.boxShadow !== "none",
    sized: box.width > 0 && box.height > 0,
    html: e.outerHTML.slice(0, 160),
  };
}"""


def focused(page: Page) -> dict | None:
    return page.evaluate(FOCUSED)


def assert_focus_visible(page: Page, where: str) -> dict:
    """Something has focus, it is on screen and its focus indicator shows."""
    element = focused(page)
    assert element is not None, f"{where}: focus is nowhere (on <body>)"
    assert element["sized"], f"{where}: the focused element is not visible: {element['html']}"
    assert element["outline"] or element["ring"], f"{where}: no visible focus on {element['html']}"
    return element


def tab_to(page: Page, name: str, *, backwards: bool = False) -> dict:
    """Press Tab (Shift+Tab) until the focused element's name starts with ``name``, checking
    that every element passed on the way shows its focus."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(MAX_TABS):
        page.keyboard.press(key)
        element = assert_focus_visible(page, f"tabbing to « {name} »")
        if element["name"].startswith(name):
            return element
    pytest.fail(f"« {name} » is not reachable with {key} on {page.url}")


def type_into(page: Page, name: str, value: str) -> None:
    tab_to(page, name)
    page.keyboard.type(value)


def choose(page: Page, name: str, option: str) -> None:
    """Focus a <select> and move through its options with the arrow keys to ``option``."""
    tab_to(page, name)
    for _ in range(40):
        if page.evaluate("document.activeElement.selectedOptions[0].text.trim()") == option:
            return
        page.keyboard.press("ArrowDown")
    pytest.fail(f"no option « {option} » in « {name} »")


def keyboard_log_in(page: Page, email: str) -> None:
    visit(page, "/connexion", "login form")
    page.keyboard.press("Tab")
    assert assert_focus_visible(page, "skip link")["name"] == "Aller au contenu principal"
    type_into(page, "Adresse électronique", email)
    type_into(page, "Mot de passe", DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(heading(page)).to_contain_text("Bonjour")


def keyboard_log_out(page: Page) -> None:
    visit(page, "/", "home")  # a fresh page: Tab starts from its top
    tab_to(page, "Se déconnecter")
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("Connexion")


def _operation_id(app, title: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Operation.id).where(Operation.title == title))


def _pending_version(app, operation_id: int) -> int:
    with app.app_context():
        return db.session.scalar(
            select(ConventionVersion.number)
            .join(Convention)
            .where(
                Convention.operation_id == operation_id,
                ConventionVersion.status.in_(
                    [VersionStatus.TO_SIGN, VersionStatus.PARTIALLY_SIGNED]
                ),
            )
            .order_by(ConventionVersion.number.desc())
        )


def test_the_main_path_with_the_keyboard_only(app, page):
    # 1. The organisme logs in and reports a need from the navigation.
    keyboard_log_in(page, OF_EMAIL)
    check_a11y(page, "home, keyboard")
    tab_to(page, "Opérations DEFI")
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("Opérations DEFI")
    tab_to(page, "Signaler un besoin repéré")
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("Signaler un besoin repéré")
    check_a11y(page, "report form, keyboard")
    title = "Cariste d'entrepôt — au clavier"
    type_into(page, "Intitulé du besoin", title)
    choose(page, "Catégorie Parcours Métiers", "Se former au métier de")
    choose(page, "Bassin d'emploi", "Orléans")
    type_into(page, "Code ROME du métier", "N1101")
    type_into(page, "Contexte du besoin", "Saisi au clavier seul.")
    tab_to(page, "Transports et Logistique du Loiret")
    page.keyboard.press("Space")
    tab_to(page, "Signaler le besoin à la Région")
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text(title)
    check_a11y(page, "need reported, keyboard")

    # 2. Co-design: open a section, type, save; focus follows each swap.
    visit(page, f"/operations/{_operation_id(app, DESIGN_OPERATION)}/conception", "design")
    section = page.locator("#section-pedagogy")
    tab_to(page, "Modalités pédagogiques")  # the table of contents: Tab goes on from there
    page.keyboard.press("Enter")
    tab_to(page, "Modifier « Modalités pédagogiques »")
    page.keyboard.press("Enter")
    expect(section).to_have_attribute("data-mode", "edit")
    # app.js moves focus once htmx has settled the swap, and the others' view is refreshed
    # at once (a poll): let both land before typing, as a person reading the form would.
    expect(section.locator("#pedagogy-text")).to_be_focused()
    expect(page.locator(HTMX_BUSY)).to_have_count(0)
    field = assert_focus_visible(page, "form opened by « Modifier »")
    assert field["tag"] == "textarea", field
    page.keyboard.press("Control+End")
    page.keyboard.type(" Ajouté au clavier.")
    tab_to(page, "Enregistrer « Modalités pédagogiques »")
    page.keyboard.press("Enter")
    expect(section).to_have_attribute("data-mode", "view")
    expect(section.get_by_role("status")).to_be_visible()
    assert_focus_visible(page, "section saved")
    check_a11y(page, "design section saved, keyboard")
    # « Annuler » replaces the form by the section: focus goes to the section's heading.
    tab_to(page, "Modifier « Modalités pédagogiques »")
    page.keyboard.press("Enter")
    expect(section).to_have_attribute("data-mode", "edit")
    expect(section.locator("#pedagogy-text")).to_be_focused()
    # The others' view is refreshed at once (a poll): let it land before moving on, as a
    # person reading the form would.
    expect(page.locator(HTMX_BUSY)).to_have_count(0)
    tab_to(page, "Annuler")
    page.keyboard.press("Enter")
    expect(section).to_have_attribute("data-mode", "view")
    expect(section.get_by_role("heading", name="Modalités pédagogiques")).to_be_focused()
    title = assert_focus_visible(page, "edit cancelled")
    assert (title["tag"], title["name"]) == ("h2", "Modalités pédagogiques"), title
    tab_to(page, "Historique « Modalités pédagogiques »")
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("Historique : Modalités pédagogiques")
    expect(page.locator(".timeline__item").first).to_contain_text("Ajouté au clavier.")
    check_a11y(page, "section history, keyboard")
    keyboard_log_out(page)

    # 3. The employer signs the amendment that awaits it.
    keyboard_log_in(page, EMPLOYER_EMAIL)
    operation_id = _operation_id(app, SIGNED_OPERATION)
    number = _pending_version(app, operation_id)
    visit(page, f"/operations/{operation_id}/convention/versions/{number}", "version to sign")
    tab_to(page, f"J'ai pris connaissance de la version {number}")
    page.keyboard.press("Space")
    type_into(page, "Votre mot de passe", DEMO_PASSWORD)
    tab_to(page, f"Signer la version {number}")
    page.keyboard.press("Enter")
    signatures = page.locator("#version-signatures")
    expect(signatures.get_by_role("status")).to_contain_text("Votre signature pour")
    status = assert_focus_visible(page, "after signing")
    assert status["name"].startswith("Votre signature pour"), status
    check_a11y(page, "signed, keyboard")
