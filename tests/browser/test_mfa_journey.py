"""Two-factor authentication in a browser (issue #17), axe-core on every page: a person
enrols from « Mon compte » (QR code drawn as inline SVG under the strict CSP, the key for
typing, a first code), keeps the ten recovery codes, then logs in with a password and a
code computed here by pyotp; a wrong code is refused in French."""

import time

import pyotp
import pytest
from playwright.sync_api import expect

from portal.accounts.models import OrgKind
from tests.browser.support import check_a11y, heading, log_in, log_out, visit
from tests.factories import make_org, make_user
from tests.support import PASSWORD, committed

pytestmark = pytest.mark.browser

EMAIL = "double.facteur@example.fr"


def test_enrol_then_log_in_with_a_code(app, page):
    with committed(app):
        make_user(make_org(OrgKind.PROVIDER, "Organisme 2FA"), email=EMAIL, first_name="Dominique")
    log_in(page, EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Bonjour Dominique")

    visit(page, "/compte", "account")
    page.get_by_role("link", name="Gérer la double authentification").click()
    expect(heading(page)).to_have_text("Double authentification")
    check_a11y(page, "enrolment: start")
    page.get_by_role("button", name="Commencer").click()
    qr = page.get_by_role("img", name="Code QR à scanner avec votre application d’authentification")
    expect(qr.locator("svg")).to_be_visible()
    check_a11y(page, "enrolment: QR code")
    secret = page.locator(".totp-secret").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)

    page.get_by_label("Code de vérification").fill(f"{(int(totp.now()) + 1) % 1_000_000:06d}")
    page.get_by_role("button", name="Activer la double authentification").click()
    expect(page.locator("#error-summary")).to_contain_text("Code incorrect ou expiré")
    check_a11y(page, "enrolment: wrong code")
    page.get_by_label("Code de vérification").fill(totp.now())
    page.get_by_role("button", name="Activer la double authentification").click()
    expect(heading(page)).to_have_text("Double authentification activée")
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    check_a11y(page, "recovery codes")

    log_out(page)
    log_in(page, EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Code de vérification")
    check_a11y(page, "login: second step")
    # The enrolment used this step's code: the next step's, accepted a step early, logs in.
    page.get_by_label("Code de vérification").fill(totp.at(time.time() + 30))
    page.get_by_role("button", name="Valider").click()
    expect(heading(page)).to_have_text("Bonjour Dominique")
    check_a11y(page, "home after the second step")
