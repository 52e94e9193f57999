"""Two people from two organisations write the same section of the co-design at once, in
two browsers: edits on different lines merge, edits on the same line give the conflict view,
which the second resolves; nothing typed is lost, the history holds both, and each page
follows the other's saves by itself (polling, no reload). axe-core runs in every state."""

import re
import time

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from portal.core.french import de
from portal.design.models import DesignPresence
from portal.extensions import db
from portal.operations.models import Operation
from tests.browser.support import (
    OF_EMAIL,
    TIMEOUT_MS,
    check_a11y,
    expect_same_document,
    keep_csp_refusal,
    log_in,
    mark_document,
    visit,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo")]

EMPLOYER_EMAIL = "employeur@demo.defi.test"
OPERATION = "Préparateur·rice de commandes et cariste"
JULIEN = "Julien Moreau (Forma'Centre Loiret)"
NATHALIE = "Nathalie Girard (Transports et Logistique du Loiret)"
SECTION = "Modalités pédagogiques"  # not validated in the demo: every participant edits it
LIVE_MS = 5_000  # the promise: another page shows a save within 5 seconds, without reload


@pytest.fixture
def second_page(browser, live_server, browser_errors):
    """Another person's browser: a context of its own (cookies), same checks as ``page``."""
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    context.set_default_timeout(TIMEOUT_MS)
    other = context.new_page()
    other.on("console", lambda message: keep_csp_refusal(browser_errors, message.text))
    other.on("pageerror", lambda error: browser_errors.append(f"JS error (2nd): {error}"))
    yield other
    context.close()


@pytest.fixture
def design_url(app) -> str:
    with app.app_context():
        operation_id = db.session.scalar(select(Operation.id).where(Operation.title == OPERATION))
    return f"/operations/{operation_id}/conception"


def section(page: Page):
    return page.locator("#section-pedagogy")


def open_form(page: Page) -> None:
    section(page).get_by_role("link", name=f"Modifier « {SECTION} »").click()
    expect(section(page)).to_have_attribute("data-mode", "edit")


def edit_line(page: Page, index: int, new_line: str) -> None:
    """Replace line ``index`` of the text being edited (as a person would retype it)."""
    textarea = section(page).get_by_label("Texte", exact=True)
    lines = textarea.input_value().split("\n")
    lines[index] = new_line
    textarea.fill("\n".join(lines))


def save(page: Page) -> None:
    section(page).get_by_role("button", name=f"Enregistrer « {SECTION} »").click()


def shown_by_itself(page: Page, text: str, since: float) -> float:
    """Wait (no reload) until the section shows ``text``; seconds since ``since``."""
    expect(section(page)).to_contain_text(text, timeout=LIVE_MS)
    return time.monotonic() - since


def presences(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(DesignPresence.id)))


def test_two_organisations_write_the_same_section(app, page, second_page, design_url):
    julien, nathalie = page, second_page
    log_in(julien, OF_EMAIL)
    log_in(nathalie, EMPLOYER_EMAIL)
    visit(julien, design_url, "design, view")
    visit(nathalie, design_url, "design, view (employer)")
    mark_document(julien)
    mark_document(nathalie)

    # Presence: each sees the other, then who is editing the section.
    expect(julien.locator("#presence")).to_contain_text(NATHALIE, timeout=LIVE_MS)
    expect(nathalie.locator("#presence")).to_contain_text(JULIEN, timeout=LIVE_MS)
    check_a11y(julien, "design, view, with presence")
    open_form(julien)
    open_form(nathalie)
    expect(julien.locator("#editing-pedagogy")).to_contain_text(
        f"En cours de modification par {NATHALIE}", timeout=LIVE_MS
    )
    expect(julien.locator("#presence")).to_contain_text(f"modifie « {SECTION} »")
    check_a11y(julien, "design, edit")

    # Round 1, different lines: Julien saves first, Nathalie (still typing) is warned,
    # keeps her text, and her save merges both.
    julien_line = "Alternance de séquences en centre et en entreprise, rentrée en septembre."
    nathalie_line = "Séances de conduite par groupes de quatre, chariot de l'entreprise compris."
    edit_line(nathalie, 2, nathalie_line)
    edit_line(julien, 0, julien_line)
    save(julien)
    expect(section(julien)).to_contain_text("Section enregistrée.")
    saved_at = time.monotonic()
    warning = nathalie.locator("#changed-pedagogy").get_by_role("status")
    expect(warning).to_have_text(
        f"Cette section a été modifiée par {JULIEN} pendant votre saisie : à l'enregistrement, "
        "vos modifications seront fusionnées.",
        timeout=LIVE_MS,
    )
    warned_after = time.monotonic() - saved_at
    expect(section(nathalie).get_by_label("Texte", exact=True)).to_have_value(
        re.compile(re.escape(nathalie_line))
    )
    check_a11y(nathalie, "design, edit, warned of another save")
    save(nathalie)
    expect(section(nathalie)).to_contain_text(
        f"Vos modifications ont été fusionnées avec celles {de(JULIEN)}."
    )
    expect(section(nathalie)).to_contain_text(julien_line)
    expect(section(nathalie)).to_contain_text(nathalie_line)
    merged_seen_after = shown_by_itself(julien, nathalie_line, time.monotonic())

    # Round 2, the same line: the second save meets a conflict, resolved by hand.
    open_form(julien)
    open_form(nathalie)
    edit_line(julien, 1, "Pédagogie par situations professionnelles, en binôme.")
    edit_line(nathalie, 1, "Pédagogie par situations professionnelles et vraies commandes.")
    save(julien)
    expect(section(julien)).to_contain_text("Section enregistrée.")
    save(nathalie)
    expect(section(nathalie)).to_have_attribute("data-mode", "conflict")
    expect(section(nathalie).get_by_role("alert")).to_contain_text(
        "votre version est conservée en brouillon"
    )
    expect(
        section(nathalie).get_by_role("region", name="Votre version (brouillon)")
    ).to_contain_text("et vraies commandes.")
    check_a11y(nathalie, "design, conflict")
    resolved_line = "Pédagogie par situations professionnelles et vraies commandes, en binôme."
    section(nathalie).get_by_label("Le texte ci-dessous, que je fusionne à la main").check()
    custom = section(nathalie).get_by_label("Texte fusionné à la main")
    lines = custom.input_value().split("\n")
    lines[1] = resolved_line
    custom.fill("\n".join(lines))
    section(nathalie).get_by_role("button", name="Enregistrer ce choix").click()
    expect(section(nathalie)).to_have_attribute("data-mode", "view")
    expect(section(nathalie)).to_contain_text(resolved_line)
    resolved_seen_after = shown_by_itself(julien, resolved_line, time.monotonic())

    # The final section holds both people's words; neither page was reloaded.
    for text in (julien_line, nathalie_line, resolved_line):
        expect(section(julien)).to_contain_text(text)
        expect(section(nathalie)).to_contain_text(text)
    expect_same_document(julien)
    expect_same_document(nathalie)
    check_a11y(julien, "design, view, after the other's saves")
    print(
        f"\nlive updates: warning {warned_after:.1f} s, merge shown {merged_seen_after:.1f} s, "
        f"resolution shown {resolved_seen_after:.1f} s after the save"
    )

    # The history names both authors and keeps every version.
    visit(julien, f"{design_url}/pedagogy/historique", "section history")
    history = julien.locator("#history-pedagogy")
    expect(history).to_contain_text("Julien Moreau")
    expect(history).to_contain_text("Nathalie Girard")
    for text in ("rentrée en septembre", "groupes de quatre", "vraies commandes, en binôme"):
        expect(history).to_contain_text(text)
    check_a11y(julien, "section history")

    # Leaving the page frees the presence at once (a beacon), not 30 seconds later.
    visit(nathalie, "/", "home")
    deadline = time.monotonic() + LIVE_MS / 1000
    while presences(app) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert presences(app) == 0
