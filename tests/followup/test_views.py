"""The follow-up pages over HTTP: who sees whose follow-up (404 outside the operation, 403
inside it), htmx fragments, answers, attempts, reconciliation, the access log."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.followup.models import Answer, Attempt, Milestone, MilestoneStatus
from portal.immersions.models import Immersion
from portal.recruitment.models import TraineeAccess
from tests.followup.factories import EMPLOYER_MEMBER, OF_STAFF, OUTSIDER, TODAY
from tests.operations.factories import EMPLOYER, OF_A, OF_B, PARTNER, REFERENT, REGION_ADMIN
from tests.support import HTMX, client_as, committed, count, load, login_as, text, user_with

EMPLOYER2 = "f.admin@example.fr"
NAMES = ("Alice Durand", "Bob Petit", "Chloé Roux")
STALE = "Ce suivi vient d'être modifié par quelqu'un d'autre"


def answer_data(**values) -> dict:
    data = {
        "reponse-situation": "cdi",
        "reponse-employer_id": "",
        "reponse-employer_name": "",
        "reponse-job_title": "",
        "reponse-working_time": "",
        "reponse-contacted_on": TODAY.isoformat(),
        "reponse-channel": "phone",
        "reponse-comment": "",
    }
    data.update({f"reponse-{k}": v for k, v in values.items()})
    return data


@pytest.mark.parametrize(
    ("email", "seen"),
    [
        (OF_A, NAMES),
        (OF_STAFF, NAMES),
        (REGION_ADMIN, NAMES),
        (REFERENT, NAMES),
        (EMPLOYER, ("Alice Durand", "Bob Petit")),  # the trainees it promised a job to
        (EMPLOYER_MEMBER, ()),  # a member who tutors none of them: not even the record
        (EMPLOYER2, ("Chloé Roux",)),
        (PARTNER, ("Alice Durand",)),  # the trainee it prescribed
    ],
)
def test_each_party_sees_its_trainees_follow_ups(client, site, email, seen):
    login_as(client, email)
    page = text(client.get(f"{site.base}/suivi-emploi"))
    for name in NAMES:
        assert (name in page) == (name in seen), (email, name)
    mine = text(client.get("/suivi-emploi"))
    for name in NAMES:
        assert (name in mine) == (name in seen), (email, name)


@pytest.mark.parametrize("email", [OF_B, OUTSIDER])
def test_outsiders_get_404_everywhere(client, site, email):
    login_as(client, email)
    for path in (
        "/suivi-emploi",
        f"/suivi-emploi/{site.alice_m3}",
        "/fin-de-formation",
        f"/fin-de-formation/{site.alice}",
        f"/fin-de-formation/{site.alice}/modification",
        "/promesses-tenues",
        f"/promesses-tenues/{site.alice_promise}",
    ):
        assert client.get(site.base + path).status_code == 404, path
    for path in ("/reponse", "/tentative", "/rapprochement"):
        response = client.post(
            f"{site.base}/suivi-emploi/{site.alice_m3}{path}", data=answer_data()
        )
        assert response.status_code == 404, path
    assert "Alice Durand" not in text(client.get("/suivi-emploi"))


def test_participants_without_the_right_get_403(client, site):
    login_as(client, EMPLOYER2)  # Entreprise F: Chloé's, not Alice's
    assert client.get(f"{site.base}/suivi-emploi/{site.alice_m3}").status_code == 403
    assert client.get(f"{site.base}/suivi-emploi/{site.chloe_m3}").status_code == 200
    login_as(client, PARTNER)  # prescribed Alice only
    assert client.get(f"{site.base}/suivi-emploi/{site.bob_m3}").status_code == 403
    login_as(client, EMPLOYER_MEMBER)  # Entreprise E's, but tutors neither Alice nor Bob
    assert client.get(f"{site.base}/suivi-emploi/{site.bob_m3}").status_code == 403
    for path in ("/reponse", "/tentative", "/rapprochement"):
        response = client.post(f"{site.base}/suivi-emploi/{site.bob_m3}{path}", data=answer_data())
        assert response.status_code == 403, path
    login_as(client, REGION_ADMIN)  # reads everything, answers nothing
    response = client.post(f"{site.base}/suivi-emploi/{site.bob_m3}/reponse", data=answer_data())
    assert response.status_code == 403


def test_the_list_filters_by_state_with_htmx(client, site):
    login_as(client, OF_A)
    page = text(client.get(f"{site.base}/suivi-emploi"))
    assert "<html" in page and "Indicateurs de l'opération" in page
    response = client.get(f"{site.base}/suivi-emploi?etat=to_reconcile", headers=HTMX)
    fragment = text(response)
    assert response.status_code == 200 and "<html" not in fragment
    assert 'id="followup-results"' in fragment and "HX-Request" in response.headers["Vary"]
    assert "1 stagiaire suivi·e — À rapprocher" in fragment
    assert "Alice Durand" in fragment and "Bob Petit" not in fragment
    login_as(client, EMPLOYER)
    assert "Indicateurs de l'opération" not in text(client.get(f"{site.base}/suivi-emploi"))


def test_every_page_showing_a_follow_up_is_logged(app, client, site):
    login_as(client, EMPLOYER)
    client.get(f"{site.base}/suivi-emploi")
    client.get(f"{site.base}/suivi-emploi/{site.alice_m3}")
    client.get("/suivi-emploi")
    with app.app_context():
        rows = db.session.execute(
            select(TraineeAccess.trainee_id, TraineeAccess.action).order_by(TraineeAccess.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        (site.alice, "followup_list"),
        (site.bob, "followup_list"),
        (site.alice, "followup"),
        (site.alice, "followup_list"),
        (site.bob, "followup_list"),
    ]


def test_the_milestone_page_shows_answers_side_by_side_and_who_may_act(client, site):
    login_as(client, OF_A)
    page = text(client.get(f"{site.base}/suivi-emploi/{site.alice_m3}"))
    assert "Suivi à 3 mois d'Alice Durand" in page
    assert "Réponses côte à côte" in page and "CDD de 4 mois" in page
    assert "Rapprocher les réponses" in page and "Votre réponse (Organisme A)" in page
    login_as(client, EMPLOYER)
    page = text(client.get(f"{site.base}/suivi-emploi/{site.alice_m3}"))
    assert "Votre réponse (Entreprise E)" in page and "Rapprocher les réponses" not in page
    login_as(client, REGION_ADMIN)
    page = text(client.get(f"{site.base}/suivi-emploi/{site.alice_m3}"))
    assert "Les réponses divergent" in page
    assert "Votre réponse" not in page and "Rapprocher les réponses" not in page


def test_an_employer_answers_with_htmx_and_errors_keep_what_was_typed(app, client, site):
    login_as(client, EMPLOYER)
    url = f"{site.base}/suivi-emploi/{site.bob_m3}/reponse"
    data = answer_data(situation="cdd", employer_id=str(site.employer), job_title="Cariste")
    response = client.post(url, data=data, headers=HTMX)
    assert response.status_code == 422
    fragment = text(response)
    assert "<html" not in fragment and 'id="suivi"' in fragment
    assert "Indiquez la durée du contrat." in fragment and 'value="Cariste"' in fragment
    data["reponse-duration_months"] = "9"
    response = client.post(url, data=data, headers=HTMX)
    fragment = text(response)
    assert response.status_code == 200 and "Réponse enregistrée." in fragment
    assert "CDD de 9 mois — Entreprise E (emploi durable)" in fragment
    milestone = load(app, Milestone, site.bob_m3)
    assert milestone.status == MilestoneStatus.RETAINED


def test_without_javascript_an_answer_redirects(client, site):
    login_as(client, PARTNER)
    response = client.post(
        f"{site.base}/suivi-emploi/{site.alice_m3}/reponse",
        data=answer_data(employer_id=str(site.employer)),
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/suivi-emploi/{site.alice_m3}")


def test_an_answer_without_csrf_is_refused(app, client, site):
    login_as(client, OF_A)
    before = count(app, Answer)
    response = client.post(
        f"{site.base}/suivi-emploi/{site.bob_m3}/reponse", data=answer_data(), csrf=False
    )
    assert response.status_code == 400 and count(app, Answer) == before


def test_contact_attempts(app, client, site):
    login_as(client, OF_A)
    url = f"{site.base}/suivi-emploi/{site.bob_m3}/tentative"
    response = client.post(url, data={"tentative-attempted_on": ""}, headers=HTMX)
    assert response.status_code == 422
    assert "Indiquez la date de la tentative." in text(response)
    data = {
        "tentative-attempted_on": TODAY.isoformat(),
        "tentative-channel": "email",
        "tentative-note": "Courriel sans réponse.",
    }
    response = client.post(url, data=data, headers=HTMX)
    assert "Tentative de contact enregistrée." in text(response)
    assert "Courriel sans réponse." in text(response)
    assert count(app, Attempt) == 1


def _version(page: str) -> str:
    return re.search(r'name="rapprochement-version" type="hidden" value="(\d+)"', page).group(1)


def test_reconciling_over_http_one_wins_and_the_region_sees_the_source(app, client, site):
    admin, staff = client_as(app, OF_A), client_as(app, OF_STAFF)
    url = f"{site.base}/suivi-emploi/{site.alice_m3}"
    seen = _version(text(admin.get(url)))
    assert _version(text(staff.get(url))) == seen
    with app.app_context():
        ours, theirs = db.session.scalars(
            select(Answer.id).where(Answer.milestone_id == site.alice_m3).order_by(Answer.id)
        ).all()
    decision = {
        "rapprochement-version": seen,
        "rapprochement-choice": str(ours),
        "rapprochement-note": "Contrat de travail vu en entretien.",
    }
    response = admin.post(f"{url}/rapprochement", data=decision, headers=HTMX)
    assert response.status_code == 200 and "Réponse retenue enregistrée." in text(response)
    late = {**decision, "rapprochement-choice": str(theirs), "rapprochement-note": "Autre avis."}
    response = staff.post(f"{url}/rapprochement", data=late, headers=HTMX)
    assert response.status_code == 422 and STALE in text(response)
    region = client_as(app, REGION_ADMIN)
    page = text(region.get(url))
    assert "CDI — Entreprise E (emploi durable)" in page
    assert (
        "Source : Organisme A (organisme de formation) — réponse choisie par l'organisme de "
        "formation" in page
    )
    assert "Contrat de travail vu en entretien." in page
    assert "CDD de 4 mois" in page  # the history keeps the other answer


def test_a_reconciliation_needs_a_note_and_a_complete_written_answer(client, site):
    login_as(client, OF_A)
    url = f"{site.base}/suivi-emploi/{site.alice_m3}"
    seen = _version(text(client.get(url)))
    data = {
        "rapprochement-version": seen,
        "rapprochement-choice": "written",
        "rapprochement-note": "",
        "retenue-situation": "interim",
        "retenue-contacted_on": TODAY.isoformat(),
        "retenue-channel": "phone",
        "retenue-employer_name": "Intérim Loire",
    }
    response = client.post(f"{url}/rapprochement", data=data, headers=HTMX)
    page = text(response)
    assert response.status_code == 422
    assert "Expliquez votre choix dans la note." in page
    assert "Indiquez la durée du contrat." in page and 'value="Intérim Loire"' in page
    data.update({"rapprochement-note": "Vu avec la personne.", "retenue-duration_months": "7"})
    response = client.post(f"{url}/rapprochement", data=data, headers=HTMX)
    assert "Intérim de 7 mois — Intérim Loire (emploi durable)" in text(response)
    assert "réponse rédigée par l'organisme de formation" in text(response)


def test_operation_page_card_and_to_do_links(client, site):
    login_as(client, OF_A)
    page = text(client.get(site.base))
    assert "Suivi dans l'emploi" in page
    assert "3 enregistrée(s), 0 à enregistrer" in page
    assert f'href="{site.base}/suivi-emploi?etat=to_reconcile"' in page
    assert "Rapprocher 1 suivi(s) aux réponses divergentes." in page
    assert "Renseigner 5 suivi(s) dans l'emploi, dont 3 en retard." in page
    assert "Indiquer si 3 promesse(s) d'embauche ont été tenues." in page
    login_as(client, EMPLOYER)
    page = text(client.get(site.base))
    assert "Renseigner 3 suivi(s) dans l'emploi de vos recrutés." in page
    assert "Indiquer si vos 2 promesse(s) d'embauche ont été tenues." in page
    login_as(client, REGION_ADMIN)
    assert "3 suivi(s) dans l'emploi en retard" in text(client.get(site.base))


def test_one_s_own_follow_ups_across_operations(client, site):
    login_as(client, EMPLOYER)
    page = text(client.get("/suivi-emploi"))
    assert "<h1>Suivi de mes recrutés</h1>" in page
    home = text(client.get("/"))
    assert "Suivi de mes recrutés" in home and "/suivi-emploi?etat=overdue" in home
    response = client.get("/suivi-emploi?etat=to_reconcile", headers=HTMX)
    fragment = text(response)
    assert "<html" not in fragment and 'id="mine-results"' in fragment
    assert "Alice Durand" in fragment and "Bob Petit" not in fragment
    login_as(client, PARTNER)
    assert "<h1>Suivi de mes orienté·es</h1>" in text(client.get("/suivi-emploi"))
    login_as(client, OF_B)
    assert "Aucun suivi dans l'emploi pour l'instant" in text(client.get("/suivi-emploi"))
    assert "Suivis dans l'emploi de mes opérations" not in text(client.get("/"))  # no card


def test_an_employer_s_tutor_sees_only_the_follow_ups_of_the_trainees_it_tutors(app, client, site):
    # Never more than the record (issue #12): Entreprise E's member, one of its tutors (not
    # its admin) and designated tutor of Alice's immersion, sees Alice's follow-up — not
    # Bob's — and does not answer it. (Since the review of #11, the tutor role is required,
    # as for the tutor's space: tests/recruitment/test_access.py.)
    with committed(app):
        member = user_with(EMPLOYER_MEMBER)
        member.memberships[0].is_tutor = True
        db.session.add(
            Immersion(
                operation_id=site.operation,
                trainee_id=site.alice,
                employer_id=site.employer,
                tutor_id=member.id,
                starts_on=TODAY - timedelta(days=150),
                ends_on=TODAY - timedelta(days=140),
            )
        )
    login_as(client, EMPLOYER_MEMBER)
    page = text(client.get(f"{site.base}/suivi-emploi"))
    assert "Alice Durand" in page and "Bob Petit" not in page
    assert "Alice Durand" in text(client.get("/suivi-emploi"))
    page = text(client.get(f"{site.base}/suivi-emploi/{site.alice_m3}"))
    assert "Réponses côte à côte" in page and "Votre réponse" not in page
    assert client.get(f"{site.base}/suivi-emploi/{site.bob_m3}").status_code == 403
    response = client.post(f"{site.base}/suivi-emploi/{site.alice_m3}/reponse", data=answer_data())
    assert response.status_code == 403
