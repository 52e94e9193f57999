"""Field-level refusals: a role allowed on a form posts, in one of its fields, a value it may
not set — another organisation's id, a person of another employer, a promise of another
operation, a status the rules forbid, a trainee of another operation. The portal refuses it
(a French message, or 403/404) and stores nothing.

Each test first posts the forbidden value, then the same form with an allowed value, which
must be accepted: the refusal is the field's, not a form that would fail anyway.
"""

import html
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.accounts.models import Organisation, User
from portal.extensions import db
from portal.immersions.models import Evaluation, Immersion
from portal.operations.models import Operation
from portal.recruitment.models import JobPromise, Trainee, TraineeStatus
from portal.steering.models import SteeringMember
from tests.support import client_as, flashes, load_demo_copy, snapshot, text

DOMAIN = "demo.defi.test"
SARAN = "Préparateur·rice de commandes — session de Saran"
INGRE = "Préparateur·rice de commandes — session d'Ingré"
LOGISTICS = "Transports et Logistique du Loiret"
BAKERY = "Boulangeries du Val de Loire"
JOINERY = "Menuiserie Berrichonne"  # an employer in no operation
REFUSED = {400, 403, 404, 409, 422}


@pytest.fixture
def demo(app):
    """The demo, committed (a fresh copy per test: the allowed post changes it)."""
    load_demo_copy(app)
    return app


def ids(app, **queries) -> dict:
    """Scalar ids read in a fresh session, by name."""
    with app.app_context():
        return {name: db.session.scalar(query) for name, query in queries.items()}


def org(name: str):
    return select(Organisation.id).where(Organisation.name == name)


def person(account: str):
    return select(User.id).where(User.email == f"{account}@{DOMAIN}")


def operation(title: str):
    return select(Operation.id).where(Operation.title == title)


ERROR = re.compile(r'<(p|div) class="(?:error-message|alert alert--error)"[^>]*>(.*?)</\1>', re.S)


def errors(response) -> list[str]:
    """The error messages the page shows (under fields and in alerts)."""
    return [
        " ".join(html.unescape(re.sub(r"<[^>]+>", " ", shown)).split())
        for _tag, shown in ERROR.findall(text(response))
        if shown.strip()
    ]


def refused_then_accepted(app, client, path, *, valid: dict, forbidden: dict, message: str):
    """Post ``valid`` overridden by ``forbidden``: refused with ``message`` (or 403/404),
    nothing stored; then ``valid`` alone: accepted."""
    before = snapshot(app)
    response = client.post(path, data={**valid, **forbidden})
    assert response.status_code in REFUSED | {200, 303}, response.status_code
    if response.status_code == 303:  # a plain form's refusal: back to the page, flashed
        shown = [message for category, message in flashes(client) if category == "error"]
    else:
        shown = errors(response)
    if response.status_code not in (403, 404):
        assert any(message in error for error in shown), (shown, text(response)[-3000:])
    assert snapshot(app) == before
    response = client.post(path, data=valid)
    assert response.status_code in (200, 303), text(response)[:2000]
    assert snapshot(app) != before, "the allowed value was not stored: the test proves nothing"


def test_a_trainee_cannot_be_matched_to_a_promise_of_another_operation(demo):
    found = ids(
        demo,
        saran=operation(SARAN),
        ingre=operation(INGRE),
        logistics=org(LOGISTICS),
    )
    with demo.app_context():
        trainee = db.session.scalar(
            select(Trainee.id)
            .where(Trainee.operation_id == found["saran"])
            .where(Trainee.status == TraineeStatus.IN_TRAINING)
            .order_by(Trainee.id)
        )
        taken = select(Trainee.promise_id).where(Trainee.promise_id.is_not(None))
        open_promise, other_promise = (
            db.session.scalar(
                select(JobPromise.id)
                .where(JobPromise.operation_id == found[title], JobPromise.id.not_in(taken))
                .order_by(JobPromise.id)
            )
            for title in ("saran", "ingre")
        )
    refused_then_accepted(
        demo,
        client_as(demo, f"of@{DOMAIN}"),
        f"/operations/{found['saran']}/recrutement/stagiaires/{trainee}/promesse",
        valid={"promise_id": open_promise},
        forbidden={"promise_id": other_promise},
        message="Cette promesse relève d'une autre opération.",
    )


def _immersion_body(demo, employer_id) -> dict:
    start = date.today() + timedelta(days=30)
    return {
        "employer_id": employer_id,
        "tutor_id": "",
        "starts_on": start.isoformat(),
        "ends_on": (start + timedelta(days=5)).isoformat(),
    }


@pytest.mark.parametrize("field", ["employer_id", "tutor_id"])
def test_an_immersion_is_hosted_by_a_party_and_tutored_by_one_of_its_tutors(demo, field):
    found = ids(
        demo,
        saran=operation(SARAN),
        logistics=org(LOGISTICS),
        joinery=org(JOINERY),
        baker=person("boulangerie"),  # a tutor of the bakery, another employer
    )
    with demo.app_context():
        trainee = db.session.scalar(
            select(Immersion.trainee_id)
            .where(Immersion.operation_id == found["saran"])
            .order_by(Immersion.id)
        )
    forbidden, message = (
        ({"employer_id": found["joinery"]}, "Choisissez une valeur de la liste.")
        if field == "employer_id"
        else ({"tutor_id": found["baker"]}, f"n'est pas tuteur·rice de {LOGISTICS}.")
    )
    refused_then_accepted(
        demo,
        client_as(demo, f"of@{DOMAIN}"),
        f"/operations/{found['saran']}/immersions/nouvelle?stagiaire={trainee}",
        valid=_immersion_body(demo, found["logistics"]),
        forbidden=forbidden,
        message=message,
    )


def test_a_tutor_of_another_employer_posted_without_htmx_is_refused_in_french_not_a_500(demo):
    """The host's designation refused a person outside its tutors by joining the choice's
    lazy message into the flash: a TypeError, a 500, for a plain form post."""
    found = ids(demo, logistics=org(LOGISTICS), tutor=person("tuteur"), baker=person("boulangerie"))
    with demo.app_context():
        immersion = db.session.scalar(
            select(Immersion.id)
            .where(Immersion.employer_id == found["logistics"], Immersion.tutor_id.is_(None))
            .order_by(Immersion.id)
        )
    refused_then_accepted(
        demo,
        client_as(demo, f"employeur@{DOMAIN}"),
        f"/tutorat/immersions/{immersion}/tuteur",
        valid={f"tutor{immersion}-tutor_id": found["tutor"]},
        forbidden={f"tutor{immersion}-tutor_id": found["baker"]},
        message="Choisissez une valeur de la liste.",
    )


def test_a_party_designates_a_signer_among_its_own_members(demo):
    found = ids(
        demo,
        saran=operation(SARAN),
        logistics=org(LOGISTICS),
        employer=person("employeur"),
        baker=person("boulangerie"),
    )
    prefix = f"signer-{found['logistics']}-"
    refused_then_accepted(
        demo,
        client_as(demo, f"employeur@{DOMAIN}"),
        f"/operations/{found['saran']}/convention/signataires/{found['logistics']}",
        valid={f"{prefix}user_id": found["employer"], f"{prefix}capacity": "Gérante"},
        forbidden={f"{prefix}user_id": found["baker"]},
        message="N'est pas un choix valide.",
    )


def test_the_committee_takes_only_parties_of_the_operation(demo):
    found = ids(
        demo,
        saran=operation(SARAN),
        joinery=org(JOINERY),
        warehouse=org("Entrepôts Sologne Distribution"),
    )
    with demo.app_context():
        members = set(db.session.scalars(select(SteeringMember.organisation_id)))
    assert found["warehouse"] not in members
    refused_then_accepted(
        demo,
        client_as(demo, f"region@{DOMAIN}"),
        f"/operations/{found['saran']}/comite/membres",
        valid={"member": str(found["warehouse"])},
        forbidden={"member": str(found["joinery"])},
        message="Choisissez une valeur de la liste.",
    )


STATUS_REFUSALS = {
    "certified": "La certification suppose d'avoir suivi la formation.",
    "exited": "Seul·e un·e stagiaire en formation peut en sortir.",
    "nonsense": "Choisissez le nouveau statut.",
}


@pytest.mark.parametrize("status", sorted(STATUS_REFUSALS))
def test_a_candidate_status_moves_only_as_the_rules_say(demo, status):
    found = ids(demo, saran=operation(SARAN))
    with demo.app_context():
        candidate = db.session.scalar(
            select(Trainee.id)
            .where(Trainee.operation_id == found["saran"])
            .where(Trainee.status == TraineeStatus.CANDIDATE)
            .order_by(Trainee.id)
        )
    refused_then_accepted(
        demo,
        client_as(demo, f"of@{DOMAIN}"),
        f"/operations/{found['saran']}/recrutement/stagiaires/{candidate}/statut",
        valid={"status": "retained"},
        forbidden={"status": status},
        message=STATUS_REFUSALS[status],
    )


def test_an_evaluation_invites_only_people_of_the_operation(demo):
    found = ids(demo, saran=operation(SARAN), tutor=person("tuteur"), outsider=person("menuiserie"))
    held_at = (date.today() + timedelta(days=20)).isoformat() + "T10:00"
    refused_then_accepted(
        demo,
        client_as(demo, f"of@{DOMAIN}"),
        f"/operations/{found['saran']}/evaluations/nouvelle",
        valid={
            "kind": "intermediate",
            "held_at": held_at,
            "place": "Centre",
            "invitee_ids": [found["tutor"]],
        },
        forbidden={"invitee_ids": [found["outsider"]]},
        message="Choisissez une valeur de la liste.",
    )
    with demo.app_context():
        assert db.session.scalar(select(Evaluation.id).order_by(Evaluation.id.desc()))


def test_a_need_names_employers_not_organismes(demo):
    found = ids(demo, logistics=org(LOGISTICS), other_of=org("Touraine Compétences Formation"))
    with demo.app_context():
        territory = db.session.scalar(select(Operation.territory_id).order_by(Operation.id))
    body = {
        "title": "Besoin de caristes",
        "category": "se_former",
        "territory_id": territory,
        "positions_estimate": "4",
        "context": "Deux départs en retraite et une extension d'entrepôt.",
        "rome_code": "N1103",
        "employer_ids": [found["logistics"]],
    }
    refused_then_accepted(
        demo,
        client_as(demo, f"of@{DOMAIN}"),
        "/operations/nouveau-besoin",
        valid=body,
        forbidden={"employer_ids": [found["other_of"]]},
        message=f"« {found['other_of']} » n'est pas un choix valide pour ce champ.",
    )


def test_an_opinion_is_given_only_on_a_candidate_met_at_the_session(demo):
    found = ids(demo, saran=operation(SARAN), ingre=operation(INGRE), logistics=org(LOGISTICS))
    with demo.app_context():
        session_id = db.session.scalar(select(db.metadata.tables["recruitment_sessions"].c.id))
        met, other = (
            db.session.scalar(
                select(Trainee.id).where(Trainee.operation_id == found[title]).order_by(Trainee.id)
            )
            for title in ("saran", "ingre")
        )
    client = client_as(demo, f"employeur@{DOMAIN}")
    base = f"/operations/{found['saran']}/recrutement/sessions/{session_id}/avis"
    before = snapshot(demo)
    with demo.app_context():
        opinions = db.metadata.tables["candidate_opinions"]
        version = db.session.scalar(
            select(opinions.c.version).where(
                opinions.c.trainee_id == met, opinions.c.organisation_id == found["logistics"]
            )
        )
    body = {"verdict": "reserved", "comment": "Motivé", "version": str(version or 0)}
    response = client.post(
        f"{base}/{other}", data={f"opinion-{other}-{k}": v for k, v in body.items()}
    )
    assert response.status_code == 404
    assert snapshot(demo) == before
    response = client.post(f"{base}/{met}", data={f"opinion-{met}-{k}": v for k, v in body.items()})
    assert response.status_code in (200, 303)
    assert snapshot(demo) != before


def test_one_acts_only_for_an_organisation_one_belongs_to(demo):
    found = ids(
        demo,
        of1=org("Forma'Centre Loiret"),
        of2=org("Touraine Compétences Formation"),
        logistics=org(LOGISTICS),
    )
    client = client_as(demo, f"of@{DOMAIN}")
    response = client.post("/organisation-courante", data={"organisation_id": found["logistics"]})
    assert response.status_code == 403
    with client.session_transaction() as sess:
        assert sess["org_id"] == found["of1"]
    response = client.post("/organisation-courante", data={"organisation_id": found["of2"]})
    assert response.status_code == 302
    with client.session_transaction() as sess:
        assert sess["org_id"] == found["of2"]


@pytest.mark.parametrize("field", ["organisation_id", "role"])
def test_a_participant_is_an_employer_or_a_partner_never_another_organisme(demo, field):
    found = ids(
        demo,
        saran=operation(SARAN),
        joinery=org(JOINERY),
        other_of=org("Touraine Compétences Formation"),
    )
    forbidden, message = (
        ({"organisation_id": found["other_of"]}, "N'est pas un choix valide.")
        if field == "organisation_id"
        else ({"role": "provider"}, "N'est pas un choix valide.")
    )
    refused_then_accepted(
        demo,
        client_as(demo, f"of@{DOMAIN}"),
        f"/operations/{found['saran']}/participants",
        valid={"organisation_id": found["joinery"], "role": "employer"},
        forbidden=forbidden,
        message=message,
    )


# Filters of the piloting exports (the Région's perimeter, an organisme, a bassin) naming
# what the user does not see: never widened.
@pytest.mark.parametrize("name", ["perimetre", "organisme", "bassin"])
def test_an_export_filter_never_widens_what_the_user_sees(demo, name):
    found = ids(
        demo,
        other_of=org("Touraine Compétences Formation"),
        tours=select(db.metadata.tables["territories"].c.id).where(
            db.metadata.tables["territories"].c.code == "TRS"
        ),
    )
    value = {"perimetre": "region", "organisme": found["other_of"], "bassin": found["tours"]}
    client = client_as(demo, f"employeur@{DOMAIN}")
    exported = text(client.get(f"/pilotage/exports/operations.csv?{name}={value[name]}"))
    everything = text(client.get("/pilotage/exports/operations.csv"))
    assert SARAN in everything  # the employer's own operations are in its export
    for title in ("Agent·e de propreté et d'hygiène", "session de Joué-lès-Tours"):
        assert title not in exported
        assert title not in everything


def test_the_region_answers_an_analysis_posted_without_its_answer_field_not_a_500(demo):
    """Found by the matrix's allowed POSTs: the answer is optional, and a request without the
    field (not merely empty) reached ``None.strip()`` in the service, a 500."""
    found = ids(demo, saran=operation(SARAN))
    client = client_as(demo, f"region@{DOMAIN}")
    before = snapshot(demo)
    response = client.post(f"/operations/{found['saran']}/analyse/reponse")
    assert response.status_code in (200, 303)
    assert snapshot(demo) != before
    with demo.app_context():
        analyses = db.metadata.tables["needs_analyses"]
        answer = db.session.scalar(
            select(analyses.c.region_answer).where(analyses.c.operation_id == found["saran"])
        )
    assert answer == ""
