"""The tutor's space over HTTP: their trainees across operations, the assessment form (only
for the immersion's tutor or an admin of the host), read-only for the others who may see
the trainee, refused to another employer, hidden from outsiders."""

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.immersions.models import TutorAssessment
from portal.notifications.models import Notification
from tests.immersions.factories import OF_STAFF, OUTSIDER, TUTOR_E, TUTOR_E2, TUTOR_F
from tests.operations.factories import EMPLOYER, EMPLOYER2, OF_A, REGION_ADMIN
from tests.support import count, login_as, text


def saved_assessment(app, immersion_id: int) -> TutorAssessment:
    with app.app_context():
        saved = db.session.scalar(
            select(TutorAssessment).where(TutorAssessment.immersion_id == immersion_id)
        )
        db.session.expunge(saved)
        return saved


def assessment(site, **overrides) -> dict:
    data = {
        "presence": "full",
        "would_hire": "maybe",
        "feedback": "Très bonne intégration dans l'équipe.",
        f"level-{site.skills[0]}": "acquired",
        f"comment-{site.skills[0]}": "Autonome dès la deuxième semaine.",
        f"level-{site.skills[1]}": "",
    }
    data.update(overrides)
    return data


def test_the_tutor_sees_their_trainees_and_the_nav_link(client, site):
    login_as(client, TUTOR_E)
    home = text(client.get("/"))
    assert "Mes stagiaires en immersion" in home and "1 immersion(s) en cours ou à venir" in home
    page = text(client.get("/tutorat"))
    assert "Alice Durand" in page and "Bob Petit" not in page  # Bob has no tutor yet
    assert "Évaluer" in page and "Terminées récemment" in page
    # An admin of the host sees every immersion it hosts.
    login_as(client, EMPLOYER)
    page = text(client.get("/tutorat"))
    assert "Alice Durand" in page and "Bob Petit" in page and "Chloé Roux" not in page


def test_the_tutor_records_then_updates_an_assessment(app, client, site):
    login_as(client, TUTOR_E)
    url = f"/tutorat/immersions/{site.alice_past}/evaluation"
    form = text(client.get(url))
    assert "Utiliser une autolaveuse" in form and "Trier les déchets" not in form  # objectives
    response = client.post(url, data={"feedback": "Sans réponse"})
    assert response.status_code == 422
    page = text(response)
    assert "Indiquez l'assiduité." in page and "Répondez à la question de l'embauche." in page
    assert count(app, TutorAssessment) == 0
    response = client.post(url, data=assessment(site, **{f"level-{site.skills[1]}": "bogus"}))
    assert response.status_code == 422 and "Choisissez une valeur de la liste." in text(response)
    response = client.post(url, data=assessment(site))
    assert response.status_code == 303 and response.headers["Location"] == "/tutorat"
    saved = saved_assessment(app, site.alice_past)
    assert (saved.presence.value, saved.would_hire.value) == ("full", "maybe")
    assert saved.tutor_id == site.tutor_e
    assert count(app, Notification, Notification.kind == "immersion_assessed") == 2
    # Editable afterwards, prefilled.
    form = text(client.get(url))
    assert "Très bonne intégration" in form and '<option selected value="acquired">' in form
    client.post(url, data=assessment(site, would_hire="yes"))
    assert saved_assessment(app, site.alice_past).would_hire.value == "yes"


def test_an_assessment_waits_for_the_immersion_to_start(client, site):
    login_as(client, TUTOR_E)
    url = f"/tutorat/immersions/{site.alice_next}/evaluation"
    assert "vous pourrez l'évaluer à partir de cette date" in text(client.get(url))
    response = client.post(url, data=assessment(site))
    assert response.status_code == 422
    assert "L'immersion n'a pas encore commencé" in text(response)


@pytest.mark.parametrize("email", [OF_A, OF_STAFF, REGION_ADMIN])
def test_others_who_see_the_trainee_read_the_assessment_only(client, site, email):
    login_as(client, email)
    url = f"/tutorat/immersions/{site.alice_past}/evaluation"
    page = text(client.get(url))
    assert "n'a pas encore évalué cette immersion" in page
    assert "Enregistrer l'évaluation" not in page
    assert client.post(url, data=assessment(site)).status_code == 403


@pytest.mark.parametrize("email", [EMPLOYER2, TUTOR_F, TUTOR_E2])
def test_another_employer_is_refused(client, site, email):
    """Another employer is refused; so is Inès, a tutor of Entreprise E who does not tutor
    Alice: a tutor sees only the trainees she is designated for."""
    login_as(client, email)
    url = f"/tutorat/immersions/{site.alice_past}/evaluation"
    assert client.get(url).status_code == 403
    assert client.post(url, data=assessment(site)).status_code == 403


def test_outsiders_get_404_and_csrf_is_required(app, client, site):
    login_as(client, OUTSIDER)
    url = f"/tutorat/immersions/{site.alice_past}/evaluation"
    assert client.get(url).status_code == 404
    assert client.get("/tutorat/immersions/999999/evaluation").status_code == 404
    login_as(client, TUTOR_E)
    assert client.post(url, data=assessment(site), csrf=False).status_code == 400
    assert count(app, TutorAssessment) == 0


def test_the_tutor_home_counts_the_assessments_due_until_they_are_recorded(client, site):
    # Alice's past immersion is over and not assessed: the home page says so, instead of
    # telling the tutor that nobody is entrusted to them.
    login_as(client, TUTOR_E)
    home = text(client.get("/"))
    assert "1 immersion(s) attendent votre évaluation." in home
    assert "Aucun·e stagiaire ne vous est encore confié·e" not in home
    url = f"/tutorat/immersions/{site.alice_past}/evaluation"
    assert client.post(url, data=assessment(site)).status_code == 303
    assert "attendent votre évaluation" not in text(client.get("/"))
