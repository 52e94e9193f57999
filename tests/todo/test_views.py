"""« À faire » over HTTP: its page, the header's count, the home card and the operation
page, each showing only the current organisation's duties."""

import pytest

from tests.operations.factories import (
    EMPLOYER,
    EMPLOYER2,
    OF_A,
    REFERENT,
    build_market,
    report,
)
from tests.support import HTMX, login_as, text


@pytest.fixture
def market(app):
    return build_market(app)


@pytest.fixture
def op(app, market) -> int:
    """Reported by Organisme A with Entreprise E, in Tours: not acknowledged yet."""
    return report(app, title="Propreté Tours Nord")


@pytest.mark.parametrize("path", ["/a-faire", "/a-faire/compte"])
def test_login_required(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/connexion" in response.headers["Location"]


def test_the_page_lists_duties_grouped_by_operation(client, op):
    login_as(client, REFERENT)
    page = text(client.get("/a-faire"))
    assert "<h1>Ce qu'il vous reste à faire</h1>" in page
    assert f'<a href="/operations/{op}">Propreté Tours Nord</a>' in page
    assert f'<a href="/operations/{op}">Accuser réception du besoin signalé.</a>' in page


def test_the_header_count_is_loaded_after_the_page(client, op):
    login_as(client, REFERENT)
    page = text(client.get("/operations/"))
    assert 'hx-get="/a-faire/compte" hx-trigger="load"' in page
    count = text(client.get("/a-faire/compte", headers=HTMX))
    assert '<span class="badge" id="todo-count">1<' in count
    assert "tâche(s) en attente" in count


def test_an_employer_sees_its_needs_to_fill_on_home_and_operation_pages(client, op):
    login_as(client, EMPLOYER)
    home = text(client.get("/"))
    assert "Ce qu'il vous reste à faire" in home
    assert "Indiquer vos postes à pourvoir et vos besoins de compétences." in home
    assert "Accuser réception" not in home  # the Région's
    operation_page = text(client.get(f"/operations/{op}"))
    assert "Indiquer vos postes à pourvoir" in operation_page
    assert "Rien n'est attendu de vous" not in operation_page


def test_another_organisation_never_sees_these_duties(client, op):
    login_as(client, EMPLOYER2)
    page = text(client.get("/a-faire"))
    assert "Propreté Tours Nord" not in page
    assert "Rien n'est attendu de vous pour l'instant." in page
    assert "Rien n'est attendu de vous pour l'instant." in text(client.get("/"))
    assert '<span id="todo-count">' in text(client.get("/a-faire/compte", headers=HTMX))
    assert client.get(f"/operations/{op}").status_code == 404


def test_the_carrier_sees_what_it_waits_for_on_its_home(client, op):
    login_as(client, OF_A)
    home = text(client.get("/"))
    assert "Ce qu'il vous reste à faire" in home
    assert "Accuser réception" not in home
