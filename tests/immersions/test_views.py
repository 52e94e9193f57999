"""The immersions page over HTTP: who sees which trainee, generation, adjusting an immersion,
the preparation widget (htmx), the trainee's path (logged), the operation page's card."""

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Organisation
from portal.extensions import db
from portal.immersions.models import Immersion
from portal.recruitment.models import TraineeAccess
from tests.immersions.factories import (
    OF_STAFF,
    OUTSIDER,
    TUTOR_E,
    TUTOR_F,
    alice_with_a_period_elsewhere,
)
from tests.operations.factories import (
    EMPLOYER,
    EMPLOYER2,
    OF_A,
    OF_B,
    PARTNER,
    REFERENT,
    REGION_ADMIN,
)
from tests.support import HTMX, committed, count, load, login_as, text

NAMES = ("Alice Durand", "Bob Petit", "Chloé Roux")


@pytest.mark.parametrize(
    ("email", "seen"),
    [
        (OF_A, NAMES),
        (OF_STAFF, NAMES),
        (REGION_ADMIN, NAMES),
        (REFERENT, NAMES),
        (EMPLOYER, ("Alice Durand", "Bob Petit")),
        (TUTOR_E, ("Alice Durand",)),  # the tutor of Alice's immersions, not of Bob's
        (EMPLOYER2, ("Chloé Roux",)),
        (TUTOR_F, ("Chloé Roux",)),
        (PARTNER, ("Chloé Roux",)),  # the prescriber of Chloé only
    ],
)
def test_the_page_lists_only_the_trainees_the_user_may_see(client, site, email, seen):
    login_as(client, email)
    page = text(client.get(f"{site.base}/immersions"))
    for name in NAMES:
        assert (name in page) == (name in seen), (email, name)


@pytest.mark.parametrize("email", [OF_B, OUTSIDER])
def test_outsiders_get_404_everywhere(client, site, email):
    login_as(client, email)
    for path in (
        "/immersions",
        f"/immersions/{site.alice_past}",
        f"/immersions/{site.alice_past}/preparation",
        f"/immersions/{site.alice_past}/attestation.docx",
        f"/stagiaires/{site.alice}/parcours",
        "/retours",
        "/evaluations",
    ):
        assert client.get(site.base + path).status_code == 404, path
    assert client.post(f"{site.base}/immersions/generation").status_code == 404


def test_the_page_shows_states_hosts_tutors_and_objectives(client, site):
    login_as(client, OF_A)
    page = text(client.get(f"{site.base}/immersions"))
    assert "Terminée — à débriefer" in page and "À préparer" in page
    assert "Entreprise E" in page and "Paul Martin" in page
    assert "Utiliser une autolaveuse" in page  # an objective asked by Entreprise E
    assert "Générer les immersions" in page
    login_as(client, EMPLOYER)
    page = text(client.get(f"{site.base}/immersions"))
    assert "Générer les immersions" not in page and "Compléter la préparation" not in page


def test_generation_over_http_is_idempotent_and_reserved_to_the_carrier(app, client, site):
    login_as(client, EMPLOYER)
    assert client.post(f"{site.base}/immersions/generation").status_code == 403
    login_as(client, OF_A)
    before = count(app, Immersion)
    assert client.post(f"{site.base}/immersions/generation", csrf=False).status_code == 400
    response = client.post(f"{site.base}/immersions/generation")
    assert response.status_code == 303
    assert count(app, Immersion) == before
    page = text(client.get(response.headers["Location"]))
    assert "Toutes les immersions du rythme existent déjà." in page


def test_generation_over_http_places_a_period_at_the_employer_chosen_on_it(app, client):
    """Issue #15: Alice's promise is at Entreprise E, the second period names F."""
    with committed(app):
        base = f"/operations/{alice_with_a_period_elsewhere().operation.id}"
    login_as(client, OF_B)
    assert client.post(f"{base}/immersions/generation").status_code == 404
    assert count(app, Immersion) == 0
    login_as(client, OF_A)
    response = client.post(f"{base}/immersions/generation")
    assert response.status_code == 303
    with app.app_context():
        hosts = db.session.scalars(
            select(Organisation.name)
            .join(Immersion, Immersion.employer_id == Organisation.id)
            .order_by(Immersion.starts_on)
        ).all()
    assert hosts == ["Entreprise E", "Entreprise F"]


def test_adjusting_an_immersion_with_french_errors(app, client, site):
    login_as(client, OF_A)
    url = f"{site.base}/immersions/{site.bob_past}/modification"
    form = text(client.get(url))
    assert "Entreprise d'accueil" in form and "Inès Martin" in form
    response = client.post(url, data={"employer_id": "", "starts_on": "2026-13-01"})
    assert response.status_code == 422
    page = text(response)
    assert "Ce champ est obligatoire." in page
    assert "Date attendue au format JJ/MM/AAAA." in page
    data = {
        "employer_id": str(site.employer),
        "tutor_id": str(site.tutor_f),
        "starts_on": "2026-03-10",
        "ends_on": "2026-03-20",
        "objectives": [site.skills[2]],
    }
    response = client.post(url, data=data)
    assert response.status_code == 422
    assert "n'est pas tuteur·rice d'Entreprise E" in text(response)
    data["ends_on"] = "2026-03-01"
    data["tutor_id"] = str(site.tutor_e2)
    assert "L'immersion doit finir après avoir commencé." in text(client.post(url, data=data))
    data["ends_on"] = "2026-03-20"
    response = client.post(url, data=data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"#immersion-{site.bob_past}")
    immersion = load(app, Immersion, site.bob_past)
    # The organisme suggests the tutor; Entreprise E designates (tests/immersions/
    # test_tutoring*.py).
    assert (immersion.tutor_id, immersion.suggested_tutor_id, immersion.objectives) == (
        None,
        site.tutor_e2,
        [site.skills[2]],
    )


def test_only_the_carrier_adjusts_and_another_employer_is_refused(app, client, site):
    login_as(client, EMPLOYER)
    url = f"{site.base}/immersions/{site.alice_past}/modification"
    assert client.get(url).status_code == 403
    assert client.get(f"{site.base}/immersions/{site.alice_past}").status_code == 200
    # Chloé is at Entreprise F: Entreprise E sees the operation but not her immersion.
    assert client.get(f"{site.base}/immersions/{site.chloe_past}").status_code == 403
    assert (
        client.get(f"{site.base}/immersions/{site.chloe_past}/attestation.docx").status_code == 403
    )


def test_adding_and_removing_an_immersion(app, client, site):
    login_as(client, OF_A)
    url = f"{site.base}/immersions/nouvelle?stagiaire={site.chloe}"
    assert "Nouvelle immersion de Chloé Roux" in text(client.get(url))
    response = client.post(
        url,
        data={
            "employer_id": str(site.employer2),
            "starts_on": "2026-05-04",
            "ends_on": "2026-05-08",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        added = db.session.scalar(select(func.max(Immersion.id)))
    assert client.post(f"{site.base}/immersions/{added}/suppression").status_code == 303
    assert load(app, Immersion, site.chloe_past) is not None
    with app.app_context():
        assert db.session.get(Immersion, added) is None
    assert client.get(f"{site.base}/immersions/nouvelle?stagiaire=999999").status_code == 404


def test_the_preparation_widget_over_htmx(app, client, site):
    login_as(client, OF_A)
    url = f"{site.base}/immersions/{site.alice_next}/preparation"
    fragment = text(client.get(url, headers=HTMX))
    assert fragment.lstrip().startswith(f'<div id="preparation-{site.alice_next}"')
    assert "<html" not in fragment
    prefix = f"prep{site.alice_next}-"
    partial = {prefix + "objectives_agreed": "y", prefix + "tutor_briefed": "y"}
    response = client.post(url, data=partial, headers=HTMX)
    assert response.status_code == 200
    assert "Préparation enregistrée." in text(response) and "À préparer" in text(response)
    complete = {
        **partial,
        prefix + "safety_ppe": "y",
        prefix + "practical_details": "8 h, accueil, tenue fournie",
        prefix + "agreement_reference": "CS-42",
    }
    response = client.post(url, data=complete, headers=HTMX)
    assert "Immersion prête." in text(response) and "Prête" in text(response)
    assert load(app, Immersion, site.alice_next).prepared_at is not None
    # Without JS: the form posts and comes back to the list.
    response = client.post(url, data=complete)
    assert response.status_code == 303 and "#immersion-" in response.headers["Location"]


def test_the_preparation_refuses_a_briefing_without_tutor(client, site):
    login_as(client, OF_A)
    # Bob's host, Entreprise E, has designated nobody yet.
    url = f"{site.base}/immersions/{site.bob_past}/preparation"
    prefix = f"prep{site.bob_past}-"
    response = client.post(url, data={prefix + "tutor_briefed": "y"}, headers=HTMX)
    assert response.status_code == 422
    assert "Désignez d'abord le ou la tuteur·rice de l'immersion." in text(response)
    login_as(client, EMPLOYER)
    assert client.post(url, data={prefix + "safety_ppe": "y"}).status_code == 403


def test_the_trainee_path_is_logged_and_scoped(app, client, site):
    login_as(client, OF_A)
    before = count(app, TraineeAccess)
    page = text(client.get(f"{site.base}/stagiaires/{site.alice}/parcours"))
    assert "Parcours d'Alice Durand" in page
    assert (
        "Immersions en entreprise" in page and "Aucune compétence n'a encore été évaluée." in page
    )
    assert count(app, TraineeAccess) == before + 1
    login_as(client, EMPLOYER2)
    assert client.get(f"{site.base}/stagiaires/{site.alice}/parcours").status_code == 403
    login_as(client, PARTNER)
    assert client.get(f"{site.base}/stagiaires/{site.chloe}/parcours").status_code == 200
    assert client.get(f"{site.base}/stagiaires/{site.alice}/parcours").status_code == 403


def test_the_operation_page_shows_the_card_and_the_todo(client, site):
    login_as(client, OF_A)
    page = text(client.get(site.base))
    assert "Immersions, retours d'expérience et évaluations" in page
    assert "6, dont 0 prête(s)" in page
    assert "3, dont 3 en retard" in page
    assert "Tenir 3 retour(s) d'expérience après immersion, dont 3 en retard." in page
    assert "Préparer 3 immersion(s) qui commencent dans les 5 jours." in page
    login_as(client, EMPLOYER)
    page = text(client.get(site.base))
    assert "2 immersion(s) de votre entreprise attendent l'évaluation" in page


def test_the_trainee_record_page_includes_the_path(client, site):
    login_as(client, OF_A)
    page = text(client.get(f"{site.base}/recrutement/stagiaires/{site.alice}"))
    assert "Immersions en entreprise" in page and "Progression des compétences" in page
    assert f"/immersions/{site.alice_past}/attestation.docx" in page


def test_the_trainee_record_and_the_path_link_to_each_other(client, site):
    # Issue 15: from the record to the path, and back, for whoever may open both.
    record = f"{site.base}/recrutement/stagiaires/{site.alice}"
    path = f"{site.base}/stagiaires/{site.alice}/parcours"
    login_as(client, OF_A)
    assert f'href="{path}"' in text(client.get(record))
    assert f'href="{record}"' in text(client.get(path))
    assert client.get(path).status_code == client.get(record).status_code == 200
