"""« Mes sessions » in a browser (issue #17), axe-core on every page: one person logged in
on two devices (two browser contexts) ends the other session from « Mon compte »; that
other device is logged out, in French, on its next click."""

import re

import pytest
from playwright.sync_api import expect

from portal.accounts.models import OrgKind
from tests.browser.support import check_a11y, flash, heading, logged_in
from tests.factories import make_org, make_user
from tests.support import committed

pytestmark = pytest.mark.browser

EMAIL = "deux.appareils@example.fr"


def test_end_the_other_session_from_my_sessions(app, browsers):
    with committed(app):
        make_user(make_org(OrgKind.PROVIDER, "Organisme nomade"), email=EMAIL, first_name="Sacha")
    laptop = logged_in(browsers, EMAIL, "Sacha")
    phone = logged_in(browsers, EMAIL, "Sacha")

    laptop.goto("/compte")
    check_a11y(laptop, "account")
    laptop.get_by_role("link", name="Voir mes sessions").click()
    expect(heading(laptop)).to_have_text("Mes sessions")
    rows = laptop.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="cette session")).to_have_count(1)
    check_a11y(laptop, "my sessions")
    laptop.get_by_role("button", name=re.compile("^Terminer —")).click()
    expect(flash(laptop)).to_contain_text("Session terminée")
    expect(rows).to_have_count(1)
    check_a11y(laptop, "my sessions: the other one ended")

    phone.get_by_role("link", name="À faire").click()
    expect(heading(phone)).to_have_text("Connexion")
    expect(flash(phone)).to_contain_text("Cette session a été terminée.")
    check_a11y(phone, "logged out")
