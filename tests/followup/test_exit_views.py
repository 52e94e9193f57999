"""The « Fin de formation » page and the promises' outcomes over HTTP."""

from datetime import timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.followup.models import Milestone, PromiseOutcome
from portal.recruitment.models import ExitReason, Trainee
from tests.followup.factories import EMPLOYER_MEMBER, EXIT
from tests.operations.factories import EMPLOYER, OF_A, PARTNER, REGION_ADMIN
from tests.support import HTMX, load, login_as, text

EMPLOYER2 = "f.admin@example.fr"


def exit_data(trainee_id: int, **values) -> dict:
    data = {"exit_date": EXIT.isoformat(), "exit_reason": "end_of_training", "exit_detail": ""}
    data.update(values)
    return {f"sortie{trainee_id}-{name}": value for name, value in data.items()}


def test_the_page_lists_exits_and_certifications(client, site):
    login_as(client, OF_A)
    page = text(client.get(f"{site.base}/fin-de-formation"))
    assert "3 stagiaires" in page and "Fin de formation" in page
    assert page.count("Corriger la sortie") == 3
    assert "Aucun résultat de jury" in page
    login_as(client, EMPLOYER)
    page = text(client.get(f"{site.base}/fin-de-formation"))
    assert "Alice Durand" in page and "Chloé Roux" not in page
    assert "Corriger la sortie" not in page


def test_the_carrier_corrects_an_exit_in_place(app, client, site):
    login_as(client, OF_A)
    url = f"{site.base}/fin-de-formation/{site.bob}/modification"
    response = client.get(url, headers=HTMX)
    fragment = text(response)
    assert response.status_code == 200 and "<html" not in fragment
    assert f'id="sortie-{site.bob}"' in fragment and "Enregistrer la sortie" in fragment
    data = exit_data(site.bob, exit_reason="early_hire", exit_date="2026-02-30")
    response = client.post(url, data=data, headers=HTMX)
    assert response.status_code == 422
    assert "Date attendue au format JJ/MM/AAAA." in text(response)
    earlier = EXIT - timedelta(days=5)
    data = exit_data(
        site.bob,
        exit_reason="early_hire",
        exit_date=earlier.isoformat(),
        exit_detail="Embauché par Entreprise E avant la fin.",
    )
    response = client.post(url, data=data, headers=HTMX)
    fragment = text(response)
    assert response.status_code == 200
    assert "Sortie enregistrée : les suivis à la sortie, à 3 et 6 mois sont programmés." in (
        fragment
    )
    assert "Embauche anticipée : Embauché par Entreprise E avant la fin." in fragment
    bob = load(app, Trainee, site.bob)
    assert (bob.exit_date, bob.exit_reason) == (earlier, ExitReason.EARLY_HIRE)
    with app.app_context():
        due = db.session.scalar(
            select(Milestone.due_on).where(
                Milestone.trainee_id == site.bob, Milestone.kind == "exit"
            )
        )
    assert due == earlier
    # Cancel returns the widget as it was.
    back = client.get(f"{site.base}/fin-de-formation/{site.bob}", headers=HTMX)
    assert "<html" not in text(back) and "Corriger la sortie" in text(back)


def test_a_refused_exit_keeps_what_was_typed_without_javascript(client, site):
    login_as(client, OF_A)
    url = f"{site.base}/fin-de-formation/{site.chloe}/modification"
    response = client.post(url, data=exit_data(site.chloe, exit_reason="dropout"))
    page = text(response)
    assert response.status_code == 422 and "<html" in page
    assert "Précisez le motif « Abandon » en quelques mots." in page
    assert '<option selected value="dropout">' in page
    response = client.post(
        url, data=exit_data(site.chloe, exit_reason="end_of_training", exit_detail="Fin.")
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/fin-de-formation#sortie-{site.chloe}")


def test_only_the_carrier_records_exits(client, site):
    for email in (EMPLOYER, REGION_ADMIN):
        login_as(client, email)
        url = f"{site.base}/fin-de-formation/{site.alice}/modification"
        assert client.get(url).status_code == 403
        assert client.post(url, data=exit_data(site.alice)).status_code == 403
    login_as(client, EMPLOYER2)  # sees the operation, not Alice's record
    assert client.get(f"{site.base}/fin-de-formation/{site.alice}").status_code == 403


def test_promise_outcomes_over_http(app, client, site):
    login_as(client, EMPLOYER)
    page = text(client.get(f"{site.base}/promesses-tenues"))
    assert "Entreprise E" in page and "Enregistrer le résultat" in page
    assert "Laveur·se de vitres" not in page  # Entreprise F's promise
    url = f"{site.base}/promesses-tenues/{site.alice_promise}"
    assert client.get(url).status_code == 200
    response = client.post(url, data={"kept": "yes", "weekly_hours": "trente"})
    page = text(response)
    assert response.status_code == 422
    assert "Indiquez le contrat signé." in page and "Indiquez la date d'embauche." in page
    assert "Nombre d'heures attendu, par exemple 35 ou 17,5." in page
    assert 'value="trente"' in page
    data = {
        "kept": "yes",
        "contract": "cdi",
        "start_date": EXIT.isoformat(),
        "weekly_hours": "17,5",
    }
    response = client.post(url, data=data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"#promesse-{site.alice_promise}")
    with app.app_context():
        outcome = db.session.scalar(select(PromiseOutcome))
        assert (outcome.kept, outcome.weekly_hours, outcome.lasting) == (True, 17.5, True)
    page = text(client.get(f"{site.base}/promesses-tenues"))
    assert "17,5 h par semaine (emploi durable)" in page
    assert client.get(f"{site.base}/promesses-tenues/{site.chloe_promise}").status_code == 403


def test_who_may_open_an_outcome_form(client, site):
    login_as(client, EMPLOYER_MEMBER)  # not an admin of Entreprise E
    assert client.get(f"{site.base}/promesses-tenues/{site.alice_promise}").status_code == 403
    login_as(client, PARTNER)
    page = text(client.get(f"{site.base}/promesses-tenues"))
    assert "Toute l'opération" in page and "Résultat de chaque promesse" not in page
    login_as(client, REGION_ADMIN)
    page = text(client.get(f"{site.base}/promesses-tenues"))
    assert "Entreprise E" in page and "Entreprise F" in page
    assert "Enregistrer le résultat" not in page
