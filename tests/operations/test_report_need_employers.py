"""Reporting a need with as many employers to invite as needed (issue #15): « Ajouter un
employeur » and « Retirer » with and without htmx, each row labelled for screen readers,
French errors per row, nothing typed lost, a ceiling said in French."""

import re

import pytest
from sqlalchemy import select

from portal.accounts.models import Organisation
from portal.extensions import db
from portal.operations.forms import NEW_EMPLOYERS_MAX, ReportNeedForm
from portal.operations.models import Operation
from tests.operations.factories import EMPLOYER, OF_A, build_market, need_form
from tests.support import HTMX, count, login_as, text

URL = "/operations/nouveau-besoin"
SIRETS = ["90000000008012", "90000000009010", "90000000007014"]
ROWS = re.compile(r'name="new_employers-(\d+)-name"')


@pytest.fixture
def market(app):
    return build_market(app)


def employers(*rows, total: int | None = None) -> dict:
    """The new-employer rows: ``rows`` as (name, email, siret), then blank ones up to
    ``total``."""
    data = {}
    rows = list(rows) + [("", "", "")] * ((total or len(rows)) - len(rows))
    for index, (name, email, siret) in enumerate(rows):
        data[f"new_employers-{index}-name"] = name
        data[f"new_employers-{index}-email"] = email
        data[f"new_employers-{index}-siret"] = siret
    return data


def posted(market, *rows, total=None, **extra) -> dict:
    form = {k: v for k, v in need_form(market).items() if not k.startswith("new_employers")}
    return {**form, **employers(*rows, total=total), **extra}


def test_each_row_is_labelled_for_screen_readers(app):
    with app.test_request_context(method="POST", data=employers(("A", "", ""), ("B", "", ""))):
        form = ReportNeedForm(meta={"csrf": False})
    labels = [
        [str(entry.form[name].label.text) for name in ("name", "email", "siret")]
        for entry in form.new_employers
    ]
    assert labels[1] == [
        "Nom de l'employeur 2",
        "Adresse électronique du ou de la responsable de l'employeur 2",
        "SIRET de l'employeur 2",
    ]
    assert len({label for row in labels for label in row}) == 6


def test_the_form_opens_with_one_row_and_the_button(client, market):
    login_as(client, OF_A)
    page = text(client.get(URL))
    assert ROWS.findall(page) == ["0"]
    assert '<label for="new_employers-0-name">Nom de l\'employeur 1</label>' in page
    assert 'name="add_employer"' in page and "Ajouter un employeur" in page


def test_adding_an_employer_with_htmx_answers_the_rows_with_one_more(app, client, market):
    login_as(client, OF_A)
    typed = ("Conserverie du Boischaut", "rh@conserverie.example", SIRETS[0])
    data = posted(market, typed, ("Biscuiterie", "", ""), add_employer="1")
    response = client.post(URL, data=data, headers=HTMX)
    body = text(response)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert body.lstrip().startswith('<fieldset id="new-employers">') and "<html" not in body
    assert ROWS.findall(body) == ["0", "1", "2"]
    assert 'value="Conserverie du Boischaut"' in body and 'value="Biscuiterie"' in body
    assert "Nom de l'employeur 3" in body
    new_row = body.split('id="new-employer-3"', 1)[1].split(">", 1)[0]
    assert "data-autofocus" in new_row
    assert "aria-invalid" not in body  # nothing validated yet
    assert count(app, Operation) == 0


def test_adding_an_employer_without_js_keeps_the_whole_page(client, market):
    login_as(client, OF_A)
    response = client.post(URL, data=posted(market, ("A", "", ""), add_employer="1"))
    page = text(response)
    assert response.status_code == 200 and "<html" in page
    assert 'value="Agent·e de propreté en résidence"' in page and 'value="K2204"' not in page
    assert 'value="k2204"' in page  # as typed: not validated
    assert ROWS.findall(page) == ["0", "1"]


def test_removing_a_row_moves_the_next_ones_up(client, market):
    login_as(client, OF_A)
    data = posted(market, ("A", "a@example.fr", ""), ("B", "b@example.fr", ""), remove_employer="0")
    body = text(client.post(URL, data=data, headers=HTMX))
    assert ROWS.findall(body) == ["0"]
    assert 'value="B"' in re.search(r'<input[^>]*name="new_employers-0-name"[^>]*>', body)[0]
    assert "Employeur 1 retiré de la liste." in body and 'role="status"' in body
    # The last row removed leaves one blank row.
    data = posted(market, ("A", "", ""), remove_employer="0")
    body = text(client.post(URL, data=data, headers=HTMX))
    assert ROWS.findall(body) == ["0"] and 'value="A"' not in body


def test_three_new_employers_are_all_invited(app, client, market):
    login_as(client, OF_A)
    rows = [(f"Entreprise n° {i}", f"rh{i}@example.fr", siret) for i, siret in enumerate(SIRETS)]
    assert client.post(URL, data=posted(market, *rows, total=4)).status_code == 303
    with app.app_context():
        names = set(db.session.scalars(select(Organisation.name)).all())
    assert {name for name, _e, _s in rows} <= names


def test_errors_are_told_per_row_and_nothing_is_lost(app, client, market):
    login_as(client, OF_A)
    rows = [("A", "a@example.fr", SIRETS[0]), ("B", "", ""), ("C", "c@example.fr", "123")]
    response = client.post(URL, data=posted(market, *rows))
    page = text(response)
    assert response.status_code == 422
    assert (
        '<a href="#new_employers-1-name">Nom de l\'employeur 2 : '
        "Indiquez à la fois le nom et l'adresse électronique.</a>"
    ) in page
    assert '<a href="#new_employers-2-siret">SIRET de l\'employeur 3 : ' in page
    assert 'value="a@example.fr"' in page and 'value="C"' in page
    assert count(app, Operation) == 0


def test_the_number_of_rows_has_a_ceiling_said_in_french(app, client, market):
    login_as(client, OF_A)
    full = posted(market, total=NEW_EMPLOYERS_MAX, add_employer="1")
    body = text(client.post(URL, data=full, headers=HTMX))
    assert len(ROWS.findall(body)) == NEW_EMPLOYERS_MAX
    assert "20 employeurs à inviter au plus par signalement" in body
    assert 'name="add_employer"' not in body
    too_many = posted(market, total=NEW_EMPLOYERS_MAX + 1)
    response = client.post(URL, data=too_many)
    assert response.status_code == 422
    assert "20 employeurs à inviter au plus par signalement" in text(response)
    assert count(app, Operation) == 0


def test_another_kind_of_organisation_may_not_add_rows(client, market):
    login_as(client, EMPLOYER)
    assert client.post(URL, data=posted(market, add_employer="1"), headers=HTMX).status_code == 403
    assert client.post(URL, data=posted(market, remove_employer="0")).status_code == 403
