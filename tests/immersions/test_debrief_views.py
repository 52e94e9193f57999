"""Debriefs over HTTP: the due list (« à faire », « en retard »), recording an individual or a
collective debrief with levels prefilled from the tutor, French errors, nothing half
written, the debrief's page scoped to the visible trainees."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.immersions.models import Debrief, DebriefSkill, DebriefTrainee
from tests.immersions.factories import OF_STAFF, OUTSIDER, TODAY, TUTOR_E
from tests.operations.factories import EMPLOYER, EMPLOYER2, OF_A, PARTNER, REGION_ADMIN
from tests.support import count, login_as, text


def debrief_data(site, **overrides) -> dict:
    data = {
        "immersion": [site.alice_past],
        "kind": "individual",
        "held_on": (TODAY - timedelta(days=3)).isoformat(),
        f"attended-{site.alice_past}": "y",
        "attendee_ids": [str(site.of_staff), str(site.tutor_e)],
        "went_well": "Bonne intégration.",
        "difficulties": "Les horaires.",
        "decisions": "Renforcer l'hygiène.",
        "next_steps": "Bilan intermédiaire.",
        f"skill-{site.alice}-{site.skills[0]}": "in_progress",
        f"comment-{site.alice}-{site.skills[0]}": "À consolider",
    }
    data.update(overrides)
    return data


def assess_alice(client, site):
    login_as(client, TUTOR_E)
    response = client.post(
        f"/tutorat/immersions/{site.alice_past}/evaluation",
        data={"presence": "full", "would_hire": "yes", f"level-{site.skills[0]}": "acquired"},
    )
    assert response.status_code == 303


def test_the_due_list_says_late(client, site):
    login_as(client, OF_A)
    page = text(client.get(f"{site.base}/retours"))
    assert page.count("En retard") == 3
    assert "Retour individuel" in page and "Retour collectif pour les stagiaires cochés" in page
    login_as(client, EMPLOYER2)
    page = text(client.get(f"{site.base}/retours"))
    assert "Chloé Roux" in page and "Alice Durand" not in page
    assert "Retour individuel" not in page


def test_the_form_is_prefilled_from_the_tutors_assessment(client, site):
    assess_alice(client, site)
    login_as(client, OF_A)
    form = text(client.get(f"{site.base}/retours/nouveau?immersion={site.alice_past}"))
    assert "Progression des compétences d'Alice Durand" in form
    assert "Avis du ou de la tuteur·rice : Acquis" in form
    assert '<option selected value="acquired">' in form
    assert f'<input type="hidden" name="immersion" value="{site.alice_past}">' in form
    # Without a choice: the list of immersions waiting for a debrief.
    page = text(client.get(f"{site.base}/retours/nouveau"))
    assert "Immersions terminées sans retour" in page and "Chloé Roux" in page


def test_an_individual_debrief_is_recorded_and_shown(app, client, site):
    assess_alice(client, site)
    login_as(client, OF_A)
    response = client.post(f"{site.base}/retours/nouveau", data=debrief_data(site))
    assert response.status_code == 303
    page = text(client.get(response.headers["Location"]))
    assert "Retour d'expérience enregistré." in page
    assert "Alice Durand" in page and "présent·e" in page
    assert "Louise Martin (Organisme A)" in page and "Paul Martin (Entreprise E)" in page
    assert "Renforcer l'hygiène." in page
    assert "Acquis" in page and "En cours d'acquisition" in page  # tutor's, then retained
    with app.app_context():
        skill = db.session.scalar(select(DebriefSkill))
        assert skill.rating_id is not None
    listing = text(client.get(f"{site.base}/retours"))
    assert listing.count("En retard") == 2


def test_a_collective_debrief_notes_who_was_absent(app, client, site):
    login_as(client, OF_A)
    data = debrief_data(
        site,
        immersion=[site.alice_past, site.bob_past, site.chloe_past],
        kind="collective",
        attendee_ids=[],
        **{f"attended-{site.bob_past}": "y"},
    )
    response = client.post(f"{site.base}/retours/nouveau", data=data)
    assert response.status_code == 303
    with app.app_context():
        lines = db.session.execute(select(DebriefTrainee.trainee_id, DebriefTrainee.attended)).all()
    assert set(lines) == {(site.alice, True), (site.bob, True), (site.chloe, False)}
    # Entreprise F sees the debrief, but only Chloé in it.
    login_as(client, EMPLOYER2)
    with app.app_context():
        debrief_id = db.session.scalar(select(Debrief.id))
    page = text(client.get(f"{site.base}/retours/{debrief_id}"))
    assert "Chloé Roux" in page and "Alice Durand" not in page and "Bob Petit" not in page


def test_errors_are_french_and_nothing_is_written(app, client, site):
    login_as(client, OF_A)
    url = f"{site.base}/retours/nouveau"
    future = (TODAY + timedelta(days=1)).isoformat()
    cases = [
        ({"held_on": ""}, "Indiquez la date du retour."),
        ({"held_on": future}, "Le retour d'expérience ne peut pas être daté dans le futur."),
        ({"kind": "collective"}, "Un retour collectif réunit au moins deux stagiaires."),
        ({"attendee_ids": ["999999"]}, "Choisissez une valeur de la liste."),
        ({f"skill-{site.alice}-{site.skills[0]}": ""}, "Indiquez le niveau"),
        ({"immersion": []}, "Choisissez au moins une immersion."),
    ]
    for overrides, message in cases:
        response = client.post(url, data=debrief_data(site, **overrides))
        assert response.status_code == 422, message
        assert message in text(response), message
    assert count(app, Debrief) == 0 and count(app, DebriefSkill) == 0
    assert client.post(url, data=debrief_data(site), csrf=False).status_code == 400
    assert count(app, Debrief) == 0


@pytest.mark.parametrize("email", [EMPLOYER, TUTOR_E, REGION_ADMIN, PARTNER, OF_STAFF])
def test_only_the_carriers_admins_and_staff_record(client, site, email):
    login_as(client, email)
    status = 303 if email == OF_STAFF else 403
    response = client.post(f"{site.base}/retours/nouveau", data=debrief_data(site))
    assert response.status_code == status
    if status == 403:
        assert client.get(f"{site.base}/retours/nouveau").status_code == 403


def test_another_employer_and_outsiders_are_refused_a_debrief(app, client, site):
    login_as(client, OF_A)
    client.post(f"{site.base}/retours/nouveau", data=debrief_data(site))
    with app.app_context():
        debrief_id = db.session.scalar(select(func.max(Debrief.id)))
    login_as(client, EMPLOYER2)
    assert client.get(f"{site.base}/retours/{debrief_id}").status_code == 403
    docx = f"{site.base}/retours/{debrief_id}/stagiaires/{site.alice}/feuille.docx"
    assert client.get(docx).status_code == 403
    login_as(client, OUTSIDER)
    assert client.get(f"{site.base}/retours/{debrief_id}").status_code == 404
    assert client.get(docx).status_code == 404
