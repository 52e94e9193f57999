"""The public pages (issue 15): accessibility statement, legal notice, personal data and site
map — open without an account, their facts from the configuration (escaped), linked from
the footer of every page; the site map lists only the pages its reader can open."""

import re
from datetime import date

import pytest

from portal.accounts.models import Organisation
from portal.config import load_config
from portal.extensions import db
from tests.factories import make_user
from tests.operations.factories import (
    EMPLOYER,
    OF_A,
    OF_B,
    PARTNER,
    REFERENT,
    REGION_ADMIN,
    build_market,
    report,
)
from tests.support import login_as, text

PAGES = {
    "/accessibilite": "Déclaration d'accessibilité",
    "/mentions-legales": "Mentions légales",
    "/donnees-personnelles": "Données personnelles",
    "/plan-du-site": "Plan du site",
}
FOOTER = [
    ("/accessibilite", "Accessibilité : partiellement conforme"),
    ("/mentions-legales", "Mentions légales"),
    ("/donnees-personnelles", "Données personnelles"),
    ("/plan-du-site", "Plan du site"),
    ("/verification/", "Vérifier un document"),
]
HOSTILE = '<script>alert("x")</script> & Cie'


def footer(page: str) -> str:
    found = re.search(r'<footer class="site-footer">.*?</footer>', page, re.S)
    assert found, "no footer"
    return found.group(0)


def main(page: str) -> str:
    return re.search(r"<main\b.*?</main>", page, re.S).group(0)


def links(page: str) -> list[str]:
    return re.findall(r'href="(/[^"#]*)"', main(page))


@pytest.fixture
def site(app, monkeypatch):
    """Every fact of the public pages set to a recognisable (and hostile) value."""
    values = {
        "SITE_PUBLISHER": f"Éditeur {HOSTILE}",
        "SITE_DIRECTOR": f"Directrice {HOSTILE}",
        "SITE_HOST": f"Hébergeur {HOSTILE}",
        "SITE_CONTACT_EMAIL": "accessibilite@region.example.fr",
        "SITE_DPO_EMAIL": "dpo@region.example.fr",
        "SITE_DATA_RETENTION": f"trois ans {HOSTILE}",
    }
    for key, value in values.items():
        monkeypatch.setitem(app.config, key, value)
    return values


@pytest.mark.parametrize(("path", "title"), PAGES.items())
def test_each_public_page_opens_without_an_account(client, path, title):
    response = client.get(path)
    assert response.status_code == 200
    assert f"<h1>{title}</h1>" in text(response)


def test_the_accessibility_statement_says_what_rgaa_asks(client, site):
    page = text(client.get("/accessibilite"))
    assert "partiellement conforme avec le référentiel général d'amélioration" in page
    assert "RGAA), version 4.1" in page
    for heading in (
        "État de conformité",
        "Contenus non accessibles",
        "Dérogations pour charge disproportionnée",
        "Établissement de cette déclaration d'accessibilité",
        "Retour d'information et contact",
        "Voies de recours",
    ):
        assert f"<h2>{heading}</h2>" in page or f"<h3>{heading}</h3>" in page, heading
    assert 'href="mailto:accessibilite@region.example.fr"' in page
    assert "Défenseur des droits" in page and "Libre réponse 71120" in page
    assert 'href="https://formulaire.defenseurdesdroits.fr/"' in page


@pytest.mark.parametrize(
    ("setting", "state"),
    [
        ("full", "totalement conforme"),
        ("partial", "partiellement conforme"),
        ("none", "non conforme"),
    ],
)
def test_the_state_of_compliance_comes_from_the_setting(app, client, monkeypatch, setting, state):
    monkeypatch.setitem(app.config, "ACCESSIBILITY_COMPLIANCE", setting)
    page = text(client.get("/accessibilite"))
    assert f"Le Portail DEFI est {state} avec" in page
    assert f"Accessibilité : {state}" in footer(page)
    assert ("Aucun audit de conformité" in page) == (setting != "full")


def test_the_statement_gives_the_day_it_was_established(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "ACCESSIBILITY_STATEMENT_DATE", date(2027, 3, 1))
    assert "Cette déclaration a été établie le 1 mars 2027" in text(client.get("/accessibilite"))


def test_the_setting_defaults_to_partial_and_refuses_anything_else(monkeypatch, tmp_path):
    monkeypatch.delenv("ACCESSIBILITY_COMPLIANCE", raising=False)
    assert load_config(str(tmp_path))["ACCESSIBILITY_COMPLIANCE"] == "partial"
    monkeypatch.setenv("ACCESSIBILITY_COMPLIANCE", "Full")
    assert load_config(str(tmp_path))["ACCESSIBILITY_COMPLIANCE"] == "full"
    monkeypatch.setenv("ACCESSIBILITY_COMPLIANCE", "conforme")
    with pytest.raises(ValueError, match="ACCESSIBILITY_COMPLIANCE must be one of"):
        load_config(str(tmp_path))


def test_the_legal_notice_and_personal_data_pages_show_the_configuration_escaped(client, site):
    legal = client.get("/mentions-legales").get_data(as_text=True)
    personal = client.get("/donnees-personnelles").get_data(as_text=True)
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Cie"
    for page in (legal, personal):
        assert "<script>alert" not in page
    for fact in ("Éditeur", "Directrice", "Hébergeur"):
        assert f"{fact} {escaped}" in legal
    assert 'href="mailto:accessibilite@region.example.fr"' in legal
    assert f"Éditeur {escaped}" in personal  # the controller
    assert f"trois ans {escaped}" in personal
    assert personal.count('href="mailto:dpo@region.example.fr"') == 2
    for topic in ("Finalités", "Base légale", "Destinataires", "Durée de conservation"):
        assert f"<h2>{topic}</h2>" in personal
    assert "CNIL" in personal and 'href="https://www.cnil.fr/fr/plaintes"' in personal


# --- The footer ---------------------------------------------------------------------------


def _assert_footer(page: str, where: str) -> None:
    shown = footer(page)
    for href, label in FOOTER:
        assert f'<a href="{href}"' in shown and label in shown, (where, label)


@pytest.mark.parametrize(
    "path", ["/connexion", "/mot-de-passe-oublie", "/verification/", *PAGES, "/nulle-part"]
)
def test_the_footer_links_the_public_pages_for_visitors(client, path):
    _assert_footer(text(client.get(path)), path)


@pytest.mark.parametrize("path", ["/", "/operations/", "/compte", "/plan-du-site"])
def test_the_footer_links_the_public_pages_once_logged_in(client, world, path):
    login_as(client, world.emails["a_admin"])
    _assert_footer(text(client.get(path)), path)


def test_the_login_page_links_the_public_verification(client):
    page = text(client.get("/connexion"))
    assert 'href="/verification/">Vérifier un document édité par le portail' in main(page)


# --- The site map -------------------------------------------------------------------------


def test_the_site_map_shows_only_public_pages_to_a_visitor(client):
    page = text(client.get("/plan-du-site"))
    assert sorted(set(links(page))) == sorted(
        ["/accessibilite", "/connexion", "/donnees-personnelles", "/mentions-legales",
         "/mot-de-passe-oublie", "/plan-du-site", "/verification/"]
    )  # fmt: skip
    for href in links(page):
        assert client.get(href).status_code == 200, href


@pytest.fixture
def market_operation(app):
    """The Market factory and one operation of Organisme A with Entreprise E."""
    build_market(app)
    return report(app)


@pytest.mark.parametrize(
    ("email", "sees", "never"),
    [
        (REGION_ADMIN, {"/administration/utilisateurs", "/lots", "/operations/cumuls"}, set()),
        (REFERENT, {"/lots", "/operations/cumuls"}, {"/administration/utilisateurs"}),
        (OF_A, {"/lots", "/operations/nouveau-besoin"}, {"/operations/cumuls", "/tutorat"}),
        (OF_B, {"/lots"}, {"/administration/utilisateurs"}),
        (EMPLOYER, {"/tutorat", "/suivi-emploi"}, {"/lots", "/operations/nouveau-besoin"}),
        (PARTNER, {"/suivi-emploi"}, {"/lots", "/tutorat", "/administration/organisations"}),
    ],
)
def test_every_link_of_the_site_map_opens_for_its_reader(
    client, market_operation, email, sees, never
):
    login_as(client, email)
    page = text(client.get("/plan-du-site"))
    shown = set(links(page))
    assert sees <= shown and not never & shown, shown
    assert {"/", "/compte", "/accessibilite", "/verification/"} <= shown
    assert "/connexion" not in shown
    operation = f"/operations/{market_operation}"
    # Organisme B and the partner take no part in the operation: no link to it.
    assert (operation in shown) == (email not in (OF_B, PARTNER))
    for href in shown:
        response = client.get(href)
        assert response.status_code == 200, href


def test_a_tutor_finds_their_trainees_in_the_site_map(app, client, world):
    with app.app_context():
        employer = db.session.get(Organisation, world.employer)
        make_user(employer, tutor=True, email="tuteur@example.fr")
        db.session.commit()
    login_as(client, "tuteur@example.fr")
    page = text(client.get("/plan-du-site"))
    assert '<a href="/tutorat">Mes stagiaires en immersion</a>' in page
    assert "Immersions et tutorat" not in main(page)
    assert client.get("/tutorat").status_code == 200
