"""« À faire » in a browser: the employer sees the signature awaited from its organisation
on its home page and in the header's count, follows the link, signs, and the duty is gone.

The starting state (version 1 of a convention out for signature) is built with the
services on the Market factory, so that the journey does not depend on the demo.
"""

import pytest
from playwright.sync_api import Page, expect

from portal.extensions import db
from tests.browser.support import check_a11y, log_in, visit
from tests.conventions.factories import make_convention_ready
from tests.support import PASSWORD

pytestmark = pytest.mark.browser

DUTY = "Signer la version 1 de la convention."


@pytest.fixture
def version_out(app, live_server) -> dict:
    """Version 1 out for signature; the employer's admin is its designated signer."""
    with app.test_request_context(base_url=live_server.url):
        ready = make_convention_ready(partner=False)
        ready.submit()
        db.session.commit()
        return {"employer": ready.market.employer_user.email, "operation": ready.operation.id}


def todo_card(page: Page):
    return page.get_by_role("region", name="Ce qu'il vous reste à faire")


def test_employer_signs_from_its_todo_and_the_duty_disappears(page: Page, version_out):
    log_in(page, version_out["employer"], PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bonjour")
    link = todo_card(page).get_by_role("link", name=DUTY)
    expect(link).to_be_visible()
    nav = page.get_by_role("navigation", name="Navigation principale")
    expect(nav.get_by_role("link", name="À faire 1 tâche(s) en attente")).to_be_visible()
    check_a11y(page, "home with the signature awaited")

    link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("version 1")
    check_a11y(page, "version 1 to sign")
    block = page.locator("#version-signatures")
    block.get_by_label("J'ai pris connaissance de la version 1").check()
    block.get_by_label("Votre mot de passe, pour confirmer votre identité").fill(PASSWORD)
    block.get_by_role("button", name="Signer la version 1").click()
    expect(block.get_by_role("status")).to_contain_text("Votre signature pour Entreprise E")
    check_a11y(page, "version 1 signed")

    visit(page, "/a-faire", "the todo page after signing")
    expect(page.get_by_role("link", name=DUTY)).to_have_count(0)
    visit(page, "/", "home after signing")
    expect(todo_card(page).get_by_role("link", name=DUTY)).to_have_count(0)
