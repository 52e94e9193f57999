"""Evaluations over HTTP: planning one with tutors preselected (in Paris time), invitations,
attendance and results as htmx widgets after the event, the count on the pages."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.immersions.models import Evaluation, EvaluationInvitation, EvaluationResult
from portal.notifications.models import Notification
from portal.recruitment.models import Trainee, TraineeStatus
from tests.immersions.factories import OUTSIDER, TUTOR_E, TUTOR_F
from tests.operations.factories import EMPLOYER, EMPLOYER2, OF_A, REGION_ADMIN
from tests.support import HTMX, count, load, login_as, text


def plan(client, site, *, when: datetime, kind="jury", invitees=None) -> int:
    """Plan an evaluation as the organisme; returns its id."""
    invitees = invitees if invitees is not None else [site.tutor_e, site.tutor_f]
    response = client.post(
        f"{site.base}/evaluations/nouvelle",
        data={
            "kind": kind,
            "held_at": when.strftime("%Y-%m-%dT%H:%M"),
            "place": "Centre de Tours",
            "invitee_ids": [str(i) for i in invitees],
        },
    )
    assert response.status_code == 303, text(response)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_the_form_preselects_tutors_and_stores_utc(app, client, site):
    login_as(client, OF_A)
    form = text(client.get(f"{site.base}/evaluations/nouvelle"))
    assert f'value="{site.tutor_e}" id="invitee-{site.tutor_e}" checked' in form
    assert f'value="{site.tutor_f}" id="invitee-{site.tutor_f}" checked' in form
    assert "Entreprise E" in form and "Entreprise F" in form
    evaluation_id = plan(client, site, when=datetime(2026, 6, 15, 14, 0))
    evaluation = load(app, Evaluation, evaluation_id)
    assert evaluation.held_at == datetime(2026, 6, 15, 12, 0)  # 14:00 in Paris, summer time
    page = text(client.get(f"{site.base}/evaluations/{evaluation_id}"))
    assert "Jury de certification du 15 juin 2026" in page and "14:00" in page
    assert count(app, Notification, Notification.kind == "evaluation_invitation") == 2


def test_french_errors_and_only_the_carrier_plans(app, client, site):
    login_as(client, OF_A)
    url = f"{site.base}/evaluations/nouvelle"
    response = client.post(url, data={"kind": "jury", "held_at": "demain", "place": ""})
    assert response.status_code == 422
    page = text(response)
    assert "Date et heure attendues" in page and "Indiquez le lieu." in page
    assert count(app, Evaluation) == 0
    for email in (EMPLOYER, TUTOR_E, REGION_ADMIN):
        login_as(client, email)
        assert client.get(url).status_code == 403
    login_as(client, OUTSIDER)
    assert client.get(url).status_code == 404
    assert client.get(f"{site.base}/evaluations").status_code == 404


def test_attendance_and_results_after_the_event(app, client, site):
    login_as(client, OF_A)
    coming = plan(client, site, when=datetime.now() + timedelta(days=10))
    page = text(client.get(f"{site.base}/evaluations/{coming}"))
    assert "Les présences se notent après l'événement." in page
    assert "Les résultats se notent après l'événement." in page
    # Held yesterday (planned in the past, as when recorded afterwards).
    held = plan(client, site, when=datetime.now() - timedelta(days=1))
    url = f"{site.base}/evaluations/{held}"
    response = client.post(
        f"{url}/presences", data={"attended_ids": [str(site.tutor_e)]}, headers=HTMX
    )
    assert response.status_code == 200
    fragment = text(response)
    assert fragment.lstrip().startswith('<section id="attendance"')
    assert "Présences enregistrées : 1." in fragment
    response = client.post(f"{url}/presences", data={"attended_ids": ["999999"]}, headers=HTMX)
    assert response.status_code == 422 and "Vérifiez les présences." in text(response)
    figures = text(client.get(f"{site.base}/evaluations"))
    assert "1 évaluation(s) sur 1 tenue(s) avec au moins un employeur" in figures
    assert "1 sur 1 tenue(s)" in text(client.get(site.base))  # the operation page's card

    results = {
        f"outcome-{site.alice}": "full",
        f"outcome-{site.bob}": "partial",
        f"blocks-{site.bob}": "",
        f"outcome-{site.chloe}": "not_obtained",
    }
    response = client.post(f"{url}/resultats", data=results, headers=HTMX)
    assert response.status_code == 422
    assert "Indiquez les blocs de compétences obtenus par Bob Petit." in text(response)
    assert count(app, EvaluationResult) == 0
    results[f"blocks-{site.bob}"] = "BC01"
    response = client.post(f"{url}/resultats", data=results, headers=HTMX)
    assert response.status_code == 200 and "Résultats enregistrés : 3." in text(response)
    assert load(app, Trainee, site.alice).status == TraineeStatus.CERTIFIED
    assert load(app, Trainee, site.bob).status == TraineeStatus.IN_TRAINING
    response = client.post(f"{url}/resultats", data={f"outcome-{site.alice}": "passed"})
    assert response.status_code == 422  # not a jury's result
    path = text(client.get(f"{site.base}/stagiaires/{site.alice}/parcours"))
    assert "Certification obtenue" in path


def test_invited_employers_see_the_event_and_their_trainees_results_only(app, client, site):
    login_as(client, OF_A)
    held = plan(client, site, when=datetime.now() - timedelta(days=1), kind="final")
    client.post(
        f"{site.base}/evaluations/{held}/resultats",
        data={f"outcome-{site.alice}": "passed", f"outcome-{site.chloe}": "to_improve"},
    )
    login_as(client, TUTOR_F)
    page = text(client.get(f"{site.base}/evaluations/{held}"))
    assert "Chloé Roux" in page and "À consolider" in page
    assert "Alice Durand" not in page and "Enregistrer les résultats" not in page
    assert client.post(f"{site.base}/evaluations/{held}/resultats", data={}).status_code == 403
    assert (
        client.post(
            f"{site.base}/evaluations/{held}/presences", data={"attended_ids": [str(site.tutor_f)]}
        ).status_code
        == 403
    )
    login_as(client, EMPLOYER2)
    assert client.get(f"{site.base}/evaluations/{held}").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count(EvaluationInvitation.id))) == 2
        assert all(i.attended is None for i in db.session.scalars(select(EvaluationInvitation)))


@pytest.mark.parametrize("path", ["", "/presences", "/resultats"])
def test_an_unknown_evaluation_is_404(client, site, path):
    login_as(client, OF_A)
    method = client.get if not path else client.post
    assert method(f"{site.base}/evaluations/999999{path}").status_code == 404
