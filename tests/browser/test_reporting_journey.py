"""The Région's dashboard in a real browser, axe-core on every state: the charts and their
data tables, the filters swapped by htmx with the URL kept, the back button, an export.

On the demo data: ten operations, three of them taken over as history in Tours, Blois and
Chartres (portal/demo/history.py).
"""

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import (
    check_a11y,
    expect_same_document,
    heading,
    log_in,
    mark_document,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("demo", "export_worker")]

REGION_EMAIL = "region@demo.defi.test"
BLOIS_CHANTIER = "Chantier formation — aménagement des espaces verts, session de Blois"


def summary(page: Page):
    """The count of operations, announced (a status) when the filters change."""
    return page.locator("#dashboard-results p.dashboard-summary[role=status]")


def chosen(select):
    return select.locator("option:checked")


def test_the_region_pilots_with_the_dashboard(page):
    log_in(page, REGION_EMAIL)
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Pilotage"
    ).click()
    expect(heading(page)).to_have_text("Pilotage des opérations DEFI")
    expect(summary(page)).to_contain_text("10 opération(s)")
    charts = page.get_by_role("img")
    expect(charts).to_have_count(4)
    expect(page.get_by_role("img", name="Stagiaires et emploi durable par bassin")).to_be_visible()
    check_a11y(page, "dashboard")

    # Every chart's figures, as a table, behind « Voir les données ».
    bassins = page.locator("section").filter(
        has=page.get_by_role("heading", name="Stagiaires et emploi durable par bassin")
    )
    bassins.get_by_text("Voir les données").click()
    table = bassins.get_by_role("table")
    expect(table).to_be_visible()
    expect(table.get_by_role("row", name=re.compile("^Blois"))).to_be_visible()
    check_a11y(page, "chart data table open")

    # Filters change the figures without reloading the page; the URL follows.
    mark_document(page)
    page.get_by_label("Bassin", exact=True).select_option(label="Blois")
    expect(page).to_have_url(re.compile(r"bassin=\d+"))
    expect(summary(page)).to_contain_text("1 opération(s)")
    expect_same_document(page)
    check_a11y(page, "filtered by bassin")

    page.get_by_label("Catégorie", exact=True).select_option(label="Prépa Métiers")
    expect(page).to_have_url(re.compile(r"categorie=prepa_metiers"))
    expect(summary(page)).to_contain_text("0 opération(s)")
    expect_same_document(page)
    check_a11y(page, "filtered by bassin and category")

    # The back button restores the previous filters, form included.
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"categorie=prepa"))
    expect(summary(page)).to_contain_text("1 opération(s)")
    expect(chosen(page.get_by_label("Bassin", exact=True))).to_have_text("Blois")
    expect(chosen(page.get_by_label("Catégorie", exact=True))).to_have_text("Toutes")
    check_a11y(page, "back to the bassin filter")

    # The export carries the filters; it is written in the background, its progress in
    # the page, then offered for download.
    page.get_by_role("button", name="CSV — Opérations et leurs chiffres").click()
    ready = page.get_by_role("link", name=re.compile(r"Télécharger defi-operations-\d+\.csv"))
    expect(ready).to_be_visible()
    expect(page.locator("#export-announce")).to_contain_text("Export prêt")
    expect_same_document(page)
    check_a11y(page, "an export ready")
    with page.expect_download() as download:
        ready.click()
    path = download.value.path()
    with open(path, encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read()), delimiter=";"))
    assert [row["Opération"] for row in rows] == [BLOIS_CHANTIER]

    page.go_back()
    expect(summary(page)).to_contain_text("10 opération(s)")
    expect(chosen(page.get_by_label("Bassin", exact=True))).to_have_text("Tous")
    check_a11y(page, "back to every operation")
