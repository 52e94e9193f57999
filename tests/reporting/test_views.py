"""The dashboard's page: who counts which operations, the filters in the URL, htmx."""

import re
from types import SimpleNamespace

import pytest

from portal.lots.models import Category
from tests.reporting import factories as f
from tests.support import HTMX, client_as, committed, text


@pytest.fixture
def site(app):
    with committed(app):
        world = f.Pilot()
        return SimpleNamespace(
            tours=world.territories["TRS"].id,
            blois=world.territories["BLO"].id,
            of1=world.of1.id,
            of2=world.of2.id,
        )


def operations_counted(response) -> int:
    assert response.status_code == 200
    found = re.search(r"<strong>(\d+) opération\(s\)</strong>", response.get_data(as_text=True))
    assert found, "no summary on the page"
    return int(found.group(1))


# Who counts which operations (issue #14): the Région's admin all, a referent their bassin
# (all on request), the organismes, employers and partners the operations they take part in.
SEES = {
    f.REGION_ADMIN: 3,
    f.REFERENT_TOURS: 1,
    f.REGION_MEMBER: 0,  # referent of no bassin: nothing until they ask for the Région
    f.OF1: 1,
    f.OF2: 2,
    f.GARDENS: 1,
    f.GARDENS_TUTOR: 1,
    f.PARTNER: 1,
    f.OUTSIDER: 0,
}


@pytest.mark.parametrize(("email", "count"), SEES.items(), ids=list(SEES))
def test_each_role_counts_its_operations(app, site, email, count):
    assert operations_counted(client_as(app, email).get("/pilotage/")) == count


@pytest.mark.parametrize("email", [f.REFERENT_TOURS, f.REGION_MEMBER])
def test_a_region_member_asks_for_the_whole_region(app, site, email):
    browser = client_as(app, email)
    assert operations_counted(browser.get("/pilotage/?perimetre=region")) == 3
    page = text(browser.get("/pilotage/"))
    assert "Toute la Région" in page


@pytest.mark.parametrize("email", [f.OF1, f.OF2, f.GARDENS, f.PARTNER, f.OUTSIDER])
def test_nobody_else_widens_the_scope(app, site, email):
    browser = client_as(app, email)
    expected = SEES[email]
    assert operations_counted(browser.get("/pilotage/?perimetre=region")) == expected
    # Filtering on another organisme's operations finds none of them.
    other = site.of1 if email != f.OF1 else site.of2
    assert operations_counted(browser.get(f"/pilotage/?organisme={other}")) in (0, expected)
    assert "Toute la Région" not in text(browser.get("/pilotage/"))


def test_an_organisme_never_sees_another_organismes_operation(app, site):
    browser = client_as(app, f.OF1)
    assert operations_counted(browser.get(f"/pilotage/?organisme={site.of2}")) == 0
    assert operations_counted(browser.get(f"/pilotage/?bassin={site.tours}")) == 0


def test_the_filters_come_back_selected_from_the_url(app, site):
    browser = client_as(app, f.REGION_ADMIN)
    url = f"/pilotage/?bassin={site.blois}&categorie=chantier_formation&organisme={site.of2}"
    response = browser.get(url)
    assert operations_counted(response) == 1
    page = response.get_data(as_text=True)
    assert f'<option value="{site.blois}" selected>Blois</option>' in page
    assert 'value="chantier_formation" selected' in page
    # The exports carry the same filters.
    assert f"/pilotage/exports/operations/csv?bassin={site.blois}" in page.replace("&amp;", "&")
    assert "Effacer les filtres" in page


def test_invalid_filters_are_ignored(app, site):
    browser = client_as(app, f.REGION_ADMIN)
    response = browser.get("/pilotage/?annee=abc&statut=nope&categorie=x&bassin=zz&lot=-")
    assert operations_counted(response) == 3


def test_htmx_gets_the_results_only(app, site):
    browser = client_as(app, f.REGION_ADMIN)
    response = browser.get(f"/pilotage/?categorie={Category.PREPA_METIERS.value}", headers=HTMX)
    assert operations_counted(response) == 2
    page = response.get_data(as_text=True)
    assert page.lstrip().startswith('<div id="dashboard-results">')
    assert "<html" not in page
    assert "HX-Request" in response.headers["Vary"]


def test_the_form_works_without_javascript(app, site):
    page = client_as(app, f.REGION_ADMIN).get("/pilotage/").get_data(as_text=True)
    form = re.search(r"<form method=\"get\" action=\"/pilotage/\"[^>]*>", page).group(0)
    assert 'hx-push-url="true"' in form
    assert 'hx-target="#dashboard-results"' in form
    assert "Appliquer les filtres" in page


def test_the_charts_are_accessible_images_with_their_data(app, site):
    page = client_as(app, f.REGION_ADMIN).get("/pilotage/").get_data(as_text=True)
    charts = re.findall(r"<svg class=\"chart\"[^>]*>", page)
    assert len(charts) == 4
    for chart in charts:
        assert 'role="img"' in chart
        for attribute in ("aria-labelledby", "aria-describedby"):
            ident = re.search(attribute + r'="([^"]+)"', chart).group(1)
            assert f'id="{ident}"' in page
    assert page.count("<title id=") == 4
    assert page.count("<desc id=") == 4
    assert page.count("Voir les données") == 4
    # The hatched series is declared as a pattern, and the legend shows it.
    assert 'id="chart-territory-hatch"' in page
    assert 'fill="url(#chart-territory-hatch)"' in page


def test_the_navigation_links_to_the_dashboard(app, site):
    page = client_as(app, f.REGION_ADMIN).get("/").get_data(as_text=True)
    assert 'href="/pilotage/"' in page


def test_anonymous_is_sent_to_login(client, site):
    for path in ("/pilotage/", "/pilotage/exports/stagiaires.csv"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/connexion")
