"""A trainee's rights over HTTP (issue #17): the page of what is held, the JSON and Word
exports (re-authentication, audit, access log), the erasure on request and its refusal
while a retention applies; outsiders, host employers, anonymous visitors and requests
without a CSRF token refused."""

import json
from io import BytesIO

from docx import Document
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.recruitment.models import Trainee, TraineeAccess
from tests.operations.factories import EMPLOYER, OF_A, OF_B, PARTNER, REGION_ADMIN
from tests.support import age_authentication, flashes, load, login_as, text


def url(rec, trainee_id: int, action: str = "") -> str:
    return f"/operations/{rec.op}/recrutement/stagiaires/{trainee_id}/donnees-personnelles{action}"


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_the_carrier_sees_what_is_held_and_the_actions(client, rec):
    login_as(client, OF_A)
    page = text(client.get(url(rec, rec.placed)))
    assert "Données personnelles d’Inès Moreau" in page or "Inès Moreau" in page
    assert "Historique des statuts" in page and "Consultations de la fiche" in page
    assert url(rec, rec.placed, "/export.docx") in page
    assert url(rec, rec.placed, "/export.json") in page
    assert "Corriger l'identité ou les coordonnées" in page
    # Retained for a promise: no erasure until the candidacy is settled.
    assert "Effacement refusé" in page
    record = text(client.get(f"/operations/{rec.op}/recrutement/stagiaires/{rec.placed}"))
    assert url(rec, rec.placed) in record


def test_the_json_export_holds_everything_and_is_audited(app, client, rec):
    login_as(client, OF_A)
    response = client.get(url(rec, rec.placed, "/export.json"))
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="donnees-stagiaire-{rec.placed}.json"'
    )
    data = json.loads(response.data)
    [row] = data["data"]["trainees"]
    assert (row["email"], row["birth_year"], row["status"]) == (
        "ines.moreau@example.fr",
        1998,
        "retained",
    )
    assert data["prescriber"] == "Partenaire P"
    assert {"immersions", "followup_answers", "trainee_accesses"} <= set(data["data"])
    [event] = _events(app, "trainee.exported")
    assert (event.object_id, event.detail) == (rec.placed, {"fmt": "json"})
    with app.app_context():
        actions = db.session.scalars(
            select(TraineeAccess.action).where(TraineeAccess.trainee_id == rec.placed)
        ).all()
    assert "export" in actions


def test_the_word_export_is_readable(client, rec):
    login_as(client, OF_A)
    response = client.get(url(rec, rec.placed, "/export.docx"))
    assert response.status_code == 200
    assert response.mimetype.endswith("wordprocessingml.document")
    document = Document(BytesIO(response.data))
    body = "\n".join(p.text for p in document.paragraphs)
    assert "Données détenues sur Inès Moreau" in body
    assert "Fiche du ou de la stagiaire" in body
    cells = {c.text for t in document.tables for r in t.rows for c in r.cells}
    assert "ines.moreau@example.fr" in cells


def test_an_export_asks_for_the_password_again_past_the_delay(app, client, rec):
    login_as(client, OF_A)
    age_authentication(client, 60)
    response = client.get(url(rec, rec.placed, "/export.json"))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion/confirmer?next=")
    assert _events(app, "trainee.exported") == []


def test_the_prescriber_may_export_but_not_erase(client, rec):
    login_as(client, PARTNER)
    assert client.get(url(rec, rec.placed, "/export.json")).status_code == 200
    page = text(client.get(url(rec, rec.placed)))
    assert "Droit à l'effacement" not in page
    assert client.post(url(rec, rec.placed, "/effacement")).status_code == 403


def test_outsiders_and_host_employers_are_refused(client, rec):
    login_as(client, OF_B)
    for action in ("", "/export.json", "/export.docx"):
        assert client.get(url(rec, rec.placed, action)).status_code == 404
    assert client.post(url(rec, rec.candidate, "/effacement")).status_code == 404
    login_as(client, EMPLOYER)  # hosts the trainee: sees the name, not the personal data
    for action in ("", "/export.json", "/export.docx"):
        assert client.get(url(rec, rec.placed, action)).status_code == 403
    assert client.post(url(rec, rec.placed, "/effacement")).status_code == 403


def test_anonymous_visitors_are_sent_to_the_login(client, rec):
    response = client.get(url(rec, rec.placed, "/export.json"))
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


def test_erasure_without_csrf_token_is_refused(app, client, rec):
    login_as(client, OF_A)
    response = client.post(url(rec, rec.candidate, "/effacement"), csrf=False)
    assert response.status_code == 400
    assert load(app, Trainee, rec.candidate).anonymised_at is None


def test_the_carrier_erases_a_candidate_on_request(app, client, rec):
    login_as(client, OF_A)
    response = client.post(url(rec, rec.candidate, "/effacement"))
    assert response.status_code == 303
    trainee = load(app, Trainee, rec.candidate)
    assert trainee.full_name == f"Stagiaire n° {rec.candidate}"
    assert trainee.anonymised_at is not None
    [event] = _events(app, "trainee.anonymised")
    assert event.detail == {"basis": "request"}
    assert "sa fiche porte désormais un pseudonyme" in flashes(client)[0][1]


def test_erasure_is_refused_in_french_while_the_trainee_is_in_training(app, client, rec):
    login_as(client, REGION_ADMIN)
    response = client.post(url(rec, rec.at_f, "/effacement"))
    assert response.status_code == 303
    [(category, message)] = flashes(client)
    assert category == "error" and message.startswith("Effacement refusé")
    assert load(app, Trainee, rec.at_f).anonymised_at is None
    assert _events(app, "trainee.anonymised") == []


def test_the_region_admin_sees_the_register(client, rec):
    login_as(client, REGION_ADMIN)
    page = text(client.get("/administration/registre-des-traitements"))
    assert "Registre des traitements" in page
    assert "trainees.email" in page and "RETENTION" not in page
    assert "24 mois" in page and "12 mois" in page
    login_as(client, OF_A)
    assert client.get("/administration/registre-des-traitements").status_code == 403


def test_an_erased_trainee_cannot_be_given_an_identity_again(app, client, rec):
    login_as(client, OF_A)
    assert client.post(url(rec, rec.candidate, "/effacement")).status_code == 303
    response = client.post(
        f"/operations/{rec.op}/recrutement/stagiaires/{rec.candidate}/modification",
        data={"last_name": "Petit", "first_name": "Léa", "email": "", "phone": ""},
    )
    assert response.status_code == 422
    assert "anonymisées : elles ne changent plus" in text(response)
    assert load(app, Trainee, rec.candidate).last_name == f"n° {rec.candidate}"


def test_erasure_asks_for_the_password_again_past_the_delay(app, client, rec):
    login_as(client, OF_A)
    age_authentication(client, 60)
    response = client.post(url(rec, rec.candidate, "/effacement"))
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/connexion/confirmer?next=")
    assert load(app, Trainee, rec.candidate).anonymised_at is None
