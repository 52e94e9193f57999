"""Recruitment over HTTP: the recruitment page and its htmx list, the trainee record's
actions (edit, status, match), the early-start decision, the operation page's card, and
the refusals (403, 404, CSRF, French errors with nothing saved)."""

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.operations.models import OperationEvent, Status
from portal.recruitment.models import JobPromise, Trainee, TraineeStatus
from tests.operations.factories import EMPLOYER, OF_A, OF_B, PARTNER, REGION_ADMIN, set_status
from tests.recruitment.factories import EMPLOYER3
from tests.support import HTMX, client_as, count, flashes, load, login_as, text


def page_url(rec) -> str:
    return f"/operations/{rec.op}/recrutement"


def record_url(rec, trainee_id: int, action: str = "") -> str:
    return f"{page_url(rec)}/stagiaires/{trainee_id}{action}"


# --- The recruitment page ----------------------------------------------------------------


def test_page_shows_promises_target_recruits_and_warnings(client, rec):
    login_as(client, OF_A)
    page = text(client.get(page_url(rec)))
    figures = page.split("Promesses à pourvoir</th>", 1)[1].split("</tr>", 2)[1]
    cells = [c.split("</td>")[0].strip() for c in figures.split("<td>")[1:]]
    assert cells == ["3", "4", "2", "2", "1"]  # promises, target, recruited, matched, open
    assert "Le recrutement reste sous l'effectif ciblé : 2 stagiaire(s) retenu·e(s)" in page
    assert "1 stagiaire pour 1 promesse, au plus près de l'effectif ciblé" in page
    assert "Les employeurs ont promis 3 emploi(s) pour un effectif ciblé de 4" in page
    open_block = page.split('id="open-promises-title"', 1)[1].split("</section>", 1)[0]
    assert "Entreprise E — Agent·e de propreté (CDI)" in open_block
    assert "Entreprise F" not in open_block
    assert "Ajouter des candidatures" in page and "Importer un fichier CSV" in page


def test_page_warns_when_recruitment_exceeds_the_promises(app, client, rec):
    with app.app_context():
        for name in ("Un", "Deux"):
            db.session.add(
                Trainee(
                    operation_id=rec.op,
                    first_name=name,
                    last_name="Retenu",
                    status=TraineeStatus.RETAINED,
                )
            )
        db.session.commit()
    login_as(client, REGION_ADMIN)
    page = text(client.get(page_url(rec)))
    assert "Le recrutement dépasse les promesses d'embauche : 4 stagiaire(s)" in page
    assert "2 stagiaire(s) retenu·e(s) sans promesse d'embauche" in page
    assert "Ajouter des candidatures" not in page  # the Région reads, the organisme records


def test_htmx_filter_returns_the_list_only(client, rec):
    login_as(client, OF_A)
    response = client.get(page_url(rec) + "?statut=candidate", headers=HTMX)
    body = text(response)
    assert response.status_code == 200 and "Vary" in response.headers
    assert body.lstrip().startswith('<div id="trainee-results"')
    assert "Petit" in body and "Moreau" not in body and "<html" not in body


def test_filter_without_js_and_an_unknown_status(client, rec):
    login_as(client, OF_A)
    page = text(client.get(page_url(rec) + "?statut=in_training"))
    results = page.split('id="trainee-results"', 1)[1]
    assert "Garnier" in results and "Petit" not in results
    results = text(client.get(page_url(rec) + "?statut=nimporte")).split('id="trainee-results"')[1]
    assert "Petit" in results and "Moreau" in results


def test_page_before_recruitment_has_no_promise_yet(app, client, rec):
    set_status(app, rec.op, Status.CONVENTION)
    with app.app_context():
        db.session.execute(JobPromise.__table__.update().values(position_id=None))
        db.session.commit()
    login_as(client, OF_A)
    page = text(client.get(page_url(rec)))
    assert "Points d'attention" not in page
    assert "Ajouter des candidatures" not in page


def test_operation_page_has_the_recruitment_card_from_the_recruitment_step(app, client, rec):
    login_as(client, EMPLOYER3)
    page = text(client.get(f"/operations/{rec.op}"))
    card = page.split('id="recruitment-card-title"', 1)[1].split("</section>", 1)[0]
    assert "Promesses d'embauche" in card and "Stagiaires retenu·e·s" in card
    assert "1 promesse d'embauche encore à pourvoir." in card
    assert f'href="/operations/{rec.op}/recrutement"' in card
    set_status(app, rec.op, Status.CONVENTION)
    assert 'id="recruitment-card-title"' not in text(client.get(f"/operations/{rec.op}"))


# --- The record's actions ----------------------------------------------------------------


def test_record_shows_identity_status_history_and_promise(client, rec):
    login_as(client, OF_A)
    page = text(client.get(record_url(rec, rec.placed)))
    assert "<h1>Inès Moreau</h1>" in page
    assert "1998" in page and "Partenaire P" in page
    assert "Entreprise E — Agent·e de propreté (CDI)" in page
    assert "Historique du statut" in page and "Changer le statut" in page
    assert "Retirer de la promesse" in page


def test_edit_the_record(app, client, rec):
    login_as(client, OF_A)
    form = text(client.get(record_url(rec, rec.candidate, "/modification")))
    assert 'value="Petit"' in form and "Partenaires de l&#39;opération" not in form
    response = client.post(
        record_url(rec, rec.candidate, "/modification"),
        data={"last_name": "Petit", "first_name": "Léa", "phone": "06 01 02 03 04",
              "birth_year": "2001", "prescriber_id": str(rec.partner), "public_category": "youth"},
    )  # fmt: skip
    assert response.status_code == 303
    trainee = load(app, Trainee, rec.candidate)
    assert (trainee.phone, trainee.birth_year, trainee.prescriber_id) == (
        "06 01 02 03 04",
        2001,
        rec.partner,
    )
    assert ("success", "Fiche enregistrée.") in flashes(client)


def test_edit_errors_are_french_and_nothing_is_saved(app, client, rec):
    login_as(client, OF_A)
    response = client.post(
        record_url(rec, rec.candidate, "/modification"),
        data={"last_name": "", "first_name": "Léa", "email": "pas-une-adresse",
              "birth_year": "1890"},
    )  # fmt: skip
    page = text(response)
    assert response.status_code == 422
    assert "Ce champ est obligatoire." in page
    assert "Saisissez une adresse électronique valide" in page
    assert "Année de naissance attendue entre 1940 et 2015." in page
    assert load(app, Trainee, rec.candidate).last_name == "Petit"


def test_edit_refuses_a_duplicate_in_french(app, client, rec):
    login_as(client, OF_A)
    response = client.post(
        record_url(rec, rec.candidate, "/modification"),
        data={"last_name": "Petit", "first_name": "Léa", "email": "ines.moreau@example.fr"},
    )
    assert response.status_code == 422
    assert "Une candidature avec cette adresse existe déjà." in text(response)


def test_change_status_without_js(app, client, rec):
    login_as(client, OF_A)
    response = client.post(record_url(rec, rec.candidate, "/statut"), data={"status": "retained"})
    assert response.status_code == 303
    assert load(app, Trainee, rec.candidate).status == TraineeStatus.RETAINED
    assert ("success", "Statut enregistré : Retenu·e.") in flashes(client)


def test_change_status_with_htmx_returns_the_record_widget(app, client, rec):
    login_as(client, OF_A)
    response = client.post(
        record_url(rec, rec.placed, "/statut"),
        data={"status": "not_retained", "comment": "Désistement"},
        headers=HTMX,
    )
    body = text(response)
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="trainee-record"')
    assert "Statut enregistré : Non retenu·e." in body
    assert "est de nouveau à pourvoir" in body
    assert load(app, Trainee, rec.placed).promise_id is None


def test_an_exit_without_date_is_refused_in_french(app, client, rec):
    login_as(client, OF_A)
    response = client.post(
        record_url(rec, rec.at_f, "/statut"),
        data={"status": "exited", "exit_reason": "dropout"},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "Indiquez la date de sortie." in text(response)
    assert load(app, Trainee, rec.at_f).status == TraineeStatus.IN_TRAINING


def test_a_refused_transition_says_why(app, client, rec):
    login_as(client, OF_A)
    response = client.post(
        record_url(rec, rec.candidate, "/statut"), data={"status": "in_training"}
    )
    assert response.status_code == 422
    assert "Une candidature doit d'abord être retenue" in text(response)


def test_an_exit_with_date_and_reason(app, client, rec):
    login_as(client, OF_A)
    response = client.post(
        record_url(rec, rec.at_f, "/statut"),
        data={"status": "exited", "exit_reason": "early_hire", "exit_date": "2024-03-01"},
    )
    assert response.status_code == 303
    trainee = load(app, Trainee, rec.at_f)
    assert trainee.status == TraineeStatus.EXITED and trainee.promise_id is not None


def test_match_and_unmatch(app, client, rec):
    login_as(client, OF_A)
    url = record_url(rec, rec.placed)
    response = client.post(url + "/promesse", data={"promise_id": rec.promises[1]}, headers=HTMX)
    assert response.status_code == 200
    assert "Positionné·e sur la promesse « Agent·e de propreté » d'Entreprise E." in text(response)
    assert load(app, Trainee, rec.placed).promise_id == rec.promises[1]
    response = client.post(url + "/retrait-promesse")
    assert response.status_code == 303
    assert load(app, Trainee, rec.placed).promise_id is None


def test_a_taken_promise_is_refused_in_french(app, client, rec):
    login_as(client, OF_A)
    response = client.post(
        record_url(rec, rec.placed, "/promesse"), data={"promise_id": rec.promises[2]}
    )
    assert response.status_code == 422
    assert "Cette promesse est déjà pourvue par un·e autre stagiaire." in text(response)
    assert load(app, Trainee, rec.placed).promise_id == rec.promises[0]


def test_a_candidate_is_not_offered_a_promise(client, rec):
    login_as(client, OF_A)
    page = text(client.get(record_url(rec, rec.candidate)))
    assert "Seul·e un·e stagiaire retenu·e ou en formation est positionné·e" in page
    response = client.post(
        record_url(rec, rec.candidate, "/promesse"), data={"promise_id": rec.promises[1]}
    )
    assert response.status_code == 422


def test_a_refused_action_still_logs_the_opening_of_the_record(app, client, rec):
    login_as(client, OF_A)
    client.post(record_url(rec, rec.candidate, "/statut"), data={"status": "certified"})
    from portal.recruitment.models import TraineeAccess

    assert count(app, TraineeAccess, TraineeAccess.trainee_id == rec.candidate) == 1


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("/statut", {"status": "not_retained"}),
        ("/promesse", {"promise_id": "1"}),
        ("/retrait-promesse", {}),
        ("/modification", {"last_name": "X", "first_name": "Y"}),
    ],
)
def test_actions_refuse_a_missing_csrf_token(app, client, rec, action, data):
    login_as(client, OF_A)
    response = client.post(record_url(rec, rec.placed, action), data=data, csrf=False)
    assert response.status_code == 400
    trainee = load(app, Trainee, rec.placed)
    assert (trainee.status, trainee.promise_id, trainee.last_name) == (
        TraineeStatus.RETAINED,
        rec.promises[0],
        "Moreau",
    )


@pytest.mark.parametrize("action", ["/statut", "/promesse", "/retrait-promesse", "/modification"])
def test_actions_are_hidden_from_outsiders(client, rec, action):
    login_as(client, OF_B)
    assert client.post(record_url(rec, rec.placed, action), data={}).status_code == 404


# --- Early start -------------------------------------------------------------------------


def test_region_records_an_early_start(app, client, rec):
    login_as(client, REGION_ADMIN)
    page = text(client.get(page_url(rec)))
    assert "Aucun·e stagiaire n'est encore entré·e en formation." not in page  # Garnier is in
    assert "attendez cette date" in page
    response = client.post(page_url(rec) + "/demarrage-anticipe", data={"reason": "Accord"})
    assert response.status_code == 303
    page = text(client.get(page_url(rec)))
    assert "Les conditions de démarrage de la formation sont réunies." in page
    assert "Accord" in page
    kinds = OperationEvent.kind == "training_start_decided"
    assert count(app, OperationEvent, kinds) == 1


def test_early_start_needs_a_reason_and_the_right_people(app, client, rec):
    login_as(client, OF_A)
    response = client.post(page_url(rec) + "/demarrage-anticipe", data={"reason": " "})
    assert response.status_code == 422
    assert "Ce champ est obligatoire." in text(response)
    employer = client_as(app, EMPLOYER)
    assert "Enregistrer la décision" not in text(employer.get(page_url(rec)))
    response = employer.post(page_url(rec) + "/demarrage-anticipe", data={"reason": "x"})
    assert response.status_code == 403
    outsider = client_as(app, OF_B)
    response = outsider.post(page_url(rec) + "/demarrage-anticipe", data={"reason": "x"})
    assert response.status_code == 404
    assert count(app, OperationEvent, OperationEvent.kind == "training_start_decided") == 0


def test_early_start_is_refused_after_recruitment(app, client, rec):
    set_status(app, rec.op, Status.TRAINING)
    login_as(client, OF_A)
    response = client.post(page_url(rec) + "/demarrage-anticipe", data={"reason": "x"})
    assert response.status_code == 422
    assert "Le démarrage se décide pendant l'étape de recrutement." in text(response)


def test_the_partner_reads_the_page(client, rec):
    login_as(client, PARTNER)
    response = client.get(page_url(rec))
    assert response.status_code == 200
    assert "Ajouter des candidatures" not in text(response)


def test_no_trainee_is_written_by_reading(app, client, rec):
    login_as(client, OF_A)
    with app.app_context():
        before = db.session.scalar(select(func.count(Trainee.id)))
    client.get(page_url(rec))
    client.get(page_url(rec) + "/candidats")
    with app.app_context():
        assert db.session.scalar(select(func.count(Trainee.id))) == before
