"""Adding candidates over HTTP: several in one form (with « Ajouter une ligne », with and
without htmx), the CSV import and its report, the template — all-or-nothing."""

import io
import re

import pytest
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from portal.operations.models import Status
from portal.recruitment.forms import BULK_MAX_ROWS
from portal.recruitment.models import Trainee
from tests.operations.factories import OF_A, OF_B, REGION_ADMIN, set_status
from tests.support import HTMX, count, flashes, login_as, text

EXISTING = 3  # trainees of the ``rec`` world


def url(rec, path="/candidats") -> str:
    return f"/operations/{rec.op}/recrutement{path}"


def rows(*people, total=5) -> dict:
    """The bulk form's data: ``people`` as (last name, first name, extra fields) rows, then
    blank rows up to ``total``."""
    data = {}
    for index in range(total):
        last, first, extra = people[index] if index < len(people) else ("", "", {})
        data[f"rows-{index}-last_name"] = last
        data[f"rows-{index}-first_name"] = first
        for name, value in extra.items():
            data[f"rows-{index}-{name}"] = value
    return data


def test_the_form_opens_with_five_rows(client, rec):
    login_as(client, OF_A)
    page = text(client.get(url(rec)))
    assert len(re.findall(r'name="rows-\d+-last_name"', page)) == 5
    assert "Candidat·e n° 5" in page and "Ajouter une ligne" in page
    assert "Partenaire P" in page and "Jeunes de moins de 26 ans" in page
    assert "required" not in page.split('id="rows-0-last_name"', 1)[1].split(">", 1)[0]


def test_add_a_row_keeps_what_was_typed_with_htmx(app, client, rec):
    login_as(client, OF_A)
    data = rows(("Lefèvre", "Chloé", {"email": "chloe@example.fr"}))
    response = client.post(url(rec), data={**data, "add_row": "1"}, headers=HTMX)
    body = text(response)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="bulk-form"') and "<html" not in body
    assert len(re.findall(r'name="rows-\d+-last_name"', body)) == 6
    assert 'value="Lefèvre"' in body and 'value="chloe@example.fr"' in body
    assert "data-autofocus" in body.split("Candidat·e n° 6")[0].rsplit("<fieldset", 1)[1]
    assert count(app, Trainee) == EXISTING


def test_add_a_row_without_js_answers_the_page(client, rec):
    login_as(client, OF_A)
    response = client.post(url(rec), data={**rows(), "add_row": "1"})
    page = text(response)
    assert response.status_code == 200 and "<html" in page
    assert len(re.findall(r'name="rows-\d+-last_name"', page)) == 6


def test_rows_have_a_ceiling_said_in_french_and_nothing_typed_is_lost(app, client, rec):
    """Issue #15: « Ajouter une ligne » up to BULK_MAX_ROWS; beyond, a French message (the
    button gives way to it); rows posted beyond it are refused, not dropped unsaid."""
    login_as(client, OF_A)
    full = rows(("Lefèvre", "Chloé", {}), total=BULK_MAX_ROWS)
    body = text(client.post(url(rec), data={**full, "add_row": "1"}, headers=HTMX))
    assert len(re.findall(r'name="rows-\d+-last_name"', body)) == BULK_MAX_ROWS
    assert "50 candidatures au plus par envoi" in body and 'name="add_row"' not in body
    assert 'value="Lefèvre"' in body
    too_many = rows(("Lefèvre", "Chloé", {}), total=BULK_MAX_ROWS + 1)
    too_many[f"rows-{BULK_MAX_ROWS}-last_name"] = "Bernard"
    too_many[f"rows-{BULK_MAX_ROWS}-first_name"] = "Hugo"
    response = client.post(url(rec), data=too_many)
    page = text(response)
    assert response.status_code == 422
    assert "50 candidatures au plus par envoi" in page and 'value="Bernard"' in page
    assert count(app, Trainee) == EXISTING


def test_blank_rows_are_ignored_and_the_others_recorded(app, client, rec):
    login_as(client, OF_A)
    data = rows(
        ("Lefèvre", "Chloé", {"birth_year": "1999", "prescriber_id": str(rec.partner)}),
        ("", "", {}),
        ("Bernard", "Hugo", {"public_category": "rsa", "phone": "06 00 00 00 00"}),
    )
    response = client.post(url(rec), data=data)
    assert response.status_code == 303
    assert response.headers["Location"] == url(rec, "")
    assert count(app, Trainee) == EXISTING + 2
    assert ("success", "2 candidatures enregistrées.") in flashes(client)


def test_a_bad_row_refuses_all_and_keeps_everything_typed(app, client, rec):
    login_as(client, OF_A)
    data = rows(
        ("Lefèvre", "Chloé", {"email": "chloe@example.fr"}),
        ("", "Hugo", {"email": "hugo@example.fr"}),
        ("Moreau", "Inès", {"birth_year": "1998"}),
    )
    response = client.post(url(rec), data=data)
    page = text(response)
    assert response.status_code == 422
    assert 'value="Lefèvre"' in page and 'value="hugo@example.fr"' in page
    assert "Candidat·e n° 2 — Nom : Ce champ est obligatoire." in page
    assert count(app, Trainee) == EXISTING


def test_service_rules_show_on_their_row(app, client, rec):
    login_as(client, OF_A)
    data = rows(("Lefèvre", "Chloé", {}), ("Moreau", "Inès", {"birth_year": "1998"}))
    response = client.post(url(rec), data=data)
    page = text(response)
    assert response.status_code == 422
    assert "1 ligne(s) à corriger : aucun·e candidat·e n'a été enregistré·e." in page
    row = page.split("Candidat·e n° 2</legend>", 1)[1].split("</fieldset>", 1)[0]
    assert "Cette personne est déjà enregistrée dans l'opération." in row
    assert count(app, Trainee) == EXISTING


def test_an_empty_form_is_refused(client, rec):
    login_as(client, OF_A)
    response = client.post(url(rec), data=rows())
    assert response.status_code == 422
    assert "Saisissez au moins un·e candidat·e." in text(response)


def test_candidates_are_not_recorded_before_recruitment(app, client, rec):
    set_status(app, rec.op, Status.CONVENTION)
    login_as(client, OF_A)
    assert "s'enregistrent pendant le recrutement" in text(client.get(url(rec)))
    response = client.post(url(rec), data=rows(("Lefèvre", "Chloé", {})))
    assert response.status_code == 422
    assert count(app, Trainee) == EXISTING


def test_only_the_carrier_adds_rows(client, rec):
    login_as(client, OF_B)
    response = client.post(url(rec), data={**rows(), "add_row": "1"}, headers=HTMX)
    assert response.status_code in (403, 404)


def test_only_the_carrier_adds_candidates(app, client, rec, other_client):
    login_as(client, REGION_ADMIN)
    assert client.post(url(rec), data=rows(("Lefèvre", "Chloé", {}))).status_code == 403
    login_as(other_client, OF_B)
    assert other_client.get(url(rec)).status_code == 404
    assert count(app, Trainee) == EXISTING


def test_bulk_form_refuses_a_missing_csrf_token(app, client, rec):
    login_as(client, OF_A)
    response = client.post(url(rec), data=rows(("Lefèvre", "Chloé", {})), csrf=False)
    assert response.status_code == 400
    assert count(app, Trainee) == EXISTING


# --- CSV ---------------------------------------------------------------------------------


def upload(client, rec, raw: bytes, filename="candidats.csv", **kwargs):
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(raw), filename)})
    return client.post(
        url(rec, "/import"),
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        **kwargs,
    )


HEADER = "nom;prénom;email;téléphone;année de naissance;prescripteur;public\r\n"


def test_import_page_links_the_template(client, rec):
    login_as(client, OF_A)
    page = text(client.get(url(rec, "/import")))
    assert url(rec, "/modele-candidats.csv") in page
    assert "nom ; prénom ; email ; téléphone ; année de naissance ; prescripteur ; public" in page
    template = client.get(url(rec, "/modele-candidats.csv"))
    assert template.mimetype == "text/csv"
    assert template.data.startswith("\ufeffnom;prénom;".encode())


def test_import_a_good_file(app, client, rec):
    login_as(client, OF_A)
    raw = (HEADER + "Lefèvre;Chloé;;;1999;Partenaire P;\r\nBernard;Hugo;;;;;rsa\r\n").encode()
    response = upload(client, rec, "\ufeff".encode() + raw)
    assert response.status_code == 303
    assert count(app, Trainee) == EXISTING + 2
    assert ("success", "Import terminé : 2 candidatures enregistrées.") in flashes(client)


def test_import_a_bad_file_shows_the_report_and_imports_nothing(app, client, rec):
    login_as(client, OF_A)
    raw = (HEADER + "Lefèvre;Chloé;;;1999;;\r\n;Hugo;;;;;\r\nPetit;Léa;;;;Inconnu;\r\n").encode()
    response = upload(client, rec, raw)
    page = text(response)
    assert response.status_code == 422
    assert "Fichier refusé : aucune candidature n'a été importée" in page
    assert "2 lignes posent problème." in page
    assert '<th scope="row">3</th><td>nom</td><td>Indiquez le nom</td>' in page
    assert "aucun partenaire « Inconnu » dans le portail" in page
    assert count(app, Trainee) == EXISTING


@pytest.mark.parametrize(
    ("raw", "filename", "message"),
    [
        (b"nom;prenom\r\n", "candidats.txt", "Le fichier doit être au format CSV"),
        (b"\x81\x8d\x8f", "candidats.csv", "ni en UTF-8 ni en Windows-1252"),
    ],
)
def test_import_refuses_what_is_not_a_csv(app, client, rec, raw, filename, message):
    login_as(client, OF_A)
    response = upload(client, rec, raw, filename=filename)
    assert response.status_code == 422
    assert message in text(response)


def test_import_is_for_the_carrier_only(app, client, rec):
    login_as(client, REGION_ADMIN)
    raw = (HEADER + "Lefèvre;Chloé;;;;;\r\n").encode()
    assert upload(client, rec, raw).status_code == 403
    assert upload(client, rec, raw, csrf=False).status_code == 400
    assert count(app, Trainee) == EXISTING
