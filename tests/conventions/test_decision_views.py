"""The Région's decision on a version over HTTP (validation, rejection with its reason),
and the journeys: from the designation of signers to recruitment, a change after a
signature (new version, voided signatures, the diff shown to the signer), amendments,
and the cost of the convention page as its history grows."""

import pytest

from portal.conventions import services
from portal.conventions.models import Convention
from portal.extensions import db
from portal.operations.models import Status
from tests.conventions.helpers_views import (
    build,
    designate_data,
    edit_clause,
    operation_of,
    sign,
    sign_elsewhere,
    signatures,
    url,
    version_of,
)
from tests.operations.factories import EMPLOYER, OF_A, PARTNER, REFERENT
from tests.support import HTMX, committed, login_as, queries, snapshot, text, user_with


@pytest.fixture
def op(app):
    """Version 1 submitted: Organisme A, Entreprise E and Partenaire P are to sign it."""
    ids = build(app)
    with committed(app):
        convention = db.session.get(Convention, ids.convention)
        services.submit(convention, by=user_with(OF_A), org=convention.operation.provider)
    return ids


# --- The Région's decision ---------------------------------------------------------------------


def _sign_everyone(app, op) -> None:
    sign_elsewhere(app, op, OF_A, op.of_a)
    sign_elsewhere(app, op, EMPLOYER, op.employer)
    sign_elsewhere(app, op, PARTNER, op.partner)


@pytest.mark.parametrize("path", ["/versions/1/validation", "/versions/1/rejet"])
def test_only_the_region_decides(app, client, op, path):
    _sign_everyone(app, op)
    login_as(client, OF_A)
    before = snapshot(app)
    response = client.post(url(op, path), data={"reject-reason": "Non"})
    assert response.status_code == 403
    assert snapshot(app) == before


def test_the_region_validates_only_a_fully_signed_version(app, client, op):
    login_as(client, REFERENT)
    response = client.post(url(op, "/versions/1/validation"), headers=HTMX)
    assert response.status_code == 409
    assert "La Région valide une version signée par toutes les parties" in text(response)
    assert version_of(app, op).status.value == "to_sign"


def test_the_region_validates_a_signed_version(app, client, op):
    _sign_everyone(app, op)
    login_as(client, REFERENT)
    page = text(client.get(url(op, "/versions/1")))
    assert "Valider la version 1" in page
    response = client.post(
        url(op, "/versions/1/validation"), data={"validate-comment": "Conforme."}, headers=HTMX
    )
    assert response.status_code == 200
    assert "Version 1 validée par la Région" in text(response)
    assert version_of(app, op).status.value == "validated"
    page = text(client.get(url(op)))
    assert "Version 1 en vigueur, validée par la Région" in page


def test_a_rejection_needs_a_reason(app, client, op):
    login_as(client, REFERENT)
    response = client.post(url(op, "/versions/1/rejet"), data={"reject-reason": " "}, headers=HTMX)
    assert response.status_code == 422
    assert "Indiquez le motif du rejet." in text(response)
    assert version_of(app, op).status.value == "to_sign"


def test_a_rejection_sends_the_convention_back_to_drafting(app, client, op):
    login_as(client, REFERENT)
    response = client.post(
        url(op, "/versions/1/rejet"), data={"reject-reason": "Les dates sont à revoir."}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url(op))
    page = text(client.get(url(op)))
    assert ">Brouillon</span>" in page
    assert "La Région a rejeté la version 1" in page and "Les dates sont à revoir." in page
    assert version_of(app, op).status.value == "rejected"


# --- Journeys --------------------------------------------------------------------------------


def test_from_designation_to_recruitment(app, client, other_client):
    op = build(app, designate=False)
    login_as(client, OF_A)
    # The porteur designates its own signer and proposes the partner's, which the partner's
    # admin confirms; the employer designates its own.
    for org_id, user_id, capacity in [
        (op.of_a, _id(app, OF_A), "directrice"),
        (op.partner, op.partner_user, "directeur d'agence"),
    ]:
        response = client.post(
            url(op, f"/signataires/{org_id}"), data=designate_data(org_id, user_id, capacity)
        )
        assert response.status_code == 303
    login_as(other_client, PARTNER)
    confirmed = other_client.post(url(op, f"/signataires/{op.partner}/confirmation"))
    assert confirmed.status_code == 303
    other_client.post("/deconnexion")
    login_as(other_client, EMPLOYER)
    response = other_client.post(
        url(op, f"/signataires/{op.employer}"),
        data=designate_data(op.employer, op.employer_user, "gérant"),
    )
    assert response.status_code == 303
    assert client.post(url(op, "/soumission")).status_code == 303
    # The employer signs, after a wrong password and an unticked consent.
    assert sign(other_client, app, op, op.employer, password="faux").status_code == 422
    assert sign(other_client, app, op, op.employer, checked=False).status_code == 422
    assert signatures(app, op) == []
    assert sign(other_client, app, op, op.employer).status_code == 303
    assert sign(client, app, op, op.of_a).status_code == 303
    other_client.post("/deconnexion")
    login_as(other_client, PARTNER)
    assert sign(other_client, app, op, op.partner).status_code == 303
    assert version_of(app, op).status.value == "signed"
    # The operation cannot move to recruitment before the Région's validation.
    page = text(client.get(f"/operations/{op.id}"))
    assert "La convention de partenariat n'est pas encore validée par la Région." in page
    other_client.post("/deconnexion")
    login_as(other_client, REFERENT)
    assert other_client.post(url(op, "/versions/1/validation")).status_code == 303
    assert version_of(app, op).status.value == "validated"
    response = client.post(f"/operations/{op.id}/etape", data={"target": "recruitment"})
    assert response.status_code in (302, 303)
    assert operation_of(app, op).status == Status.RECRUITMENT


def _id(app, email: str) -> int:
    with app.app_context():
        return user_with(email).id


def test_a_change_after_a_signature_calls_for_a_new_version_and_shows_the_diff(
    app, client, other_client, op
):
    login_as(other_client, EMPLOYER)
    assert sign(other_client, app, op, op.employer).status_code == 303
    edit_clause(app, op, "La présente convention a un objet entièrement nouveau.")
    login_as(client, OF_A)
    page = text(client.get(url(op)))
    assert "Ont changé depuis la version 1 : Articles de la convention." in page
    assert client.post(url(op, "/soumission")).status_code == 303
    # Version 1 and its signature stay in the history, marked annulée.
    page = text(client.get(url(op)))
    assert "Annulée le" in page and "Remplacée par la version 2." in page
    assert "annulée</strong>" in page
    assert [s.voided_at is not None for s in signatures(app, op, 1)] == [True]
    old = text(client.get(url(op, "/versions/1")))
    assert "Signatures annulées" in old and "sign-password" not in old
    # The employer's signer opens version 2: what changed since the version they signed.
    page = text(other_client.get(url(op, "/versions/2")))
    assert "Ce qui a changé depuis la version 1" in page
    assert "Articles de la convention" in page
    assert '<ins><span class="visually-hidden">ajouté : </span>' in page
    changes = page.split('id="changes"', 1)[1].split("</section>", 1)[0]
    assert "entièrement" in changes and "ajouté : </span>nouveau.</ins>" in changes
    assert '<del><span class="visually-hidden">supprimé : </span>' in changes
    assert "sign-password" in page  # they sign again
    assert sign(other_client, app, op, op.employer, number=2).status_code == 303
    assert len([s for s in signatures(app, op, 2) if s.voided_at is None]) == 1


def test_a_reader_of_the_latest_version_only_gets_no_diff(app, client, op):
    edit_clause(app, op, "Objet modifié.")
    with committed(app):
        convention = db.session.get(Convention, op.convention)
        services.submit(convention, by=user_with(OF_A), org=convention.operation.provider)
    login_as(client, PARTNER)  # never opened version 1
    assert "Ce qui a changé depuis" not in text(client.get(url(op, "/versions/2")))


def test_an_amendment_leaves_the_validated_version_in_force(app, client, op):
    _sign_everyone(app, op)
    login_as(client, REFERENT)
    assert client.post(url(op, "/versions/1/validation")).status_code == 303
    client.post("/deconnexion")
    edit_clause(app, op, "Objet précisé par avenant.")
    login_as(client, OF_A)
    page = text(client.get(url(op)))
    assert "soumettez un avenant : la version 1 reste en vigueur" in page
    assert "Soumettre un avenant aux signatures" in page
    assert client.post(url(op, "/soumission")).status_code == 303
    page = text(client.get(url(op)))
    assert "Version 1 en vigueur" in page and ">avenant</span>" in page
    assert version_of(app, op, 2).is_amendment
    assert version_of(app, op, 1).status.value == "validated"
    assert "La version 1, validée par la Région, est en vigueur." in text(
        client.get(url(op, "/versions/2"))
    )


# --- Query counts ------------------------------------------------------------------------------


def _submit_and_sign(app, op, signers: list[tuple[str, int]], text_value: str) -> None:
    """Change a clause, submit a new version and have ``signers`` (email, party) sign it."""
    edit_clause(app, op, text_value)
    with committed(app):
        convention = db.session.get(Convention, op.convention)
        number = services.submit(
            convention, by=user_with(OF_A), org=convention.operation.provider
        ).number
    for email, org_id in signers:
        sign_elsewhere(app, op, email, org_id, number)


def test_the_page_costs_the_same_whatever_the_history(app, client, op):
    both = [(EMPLOYER, op.employer), (PARTNER, op.partner)]
    _submit_and_sign(app, op, both, "Première rédaction.")
    login_as(client, PARTNER)
    few = len(queries(app, client, url(op)))
    _submit_and_sign(app, op, both[:1], "Deuxième rédaction.")
    _submit_and_sign(app, op, both, "Troisième rédaction.")
    page = text(client.get(url(op)))
    assert "Version 4" in page and page.count("annulée</strong>") == 3
    assert len(queries(app, client, url(op))) == few


# The version page's budget (issue #16): pinned, and the same whatever the convention's
# history (versions, their signatures and audit events).
VERSION_PAGE_QUERIES = {"sqlite": 6, "postgresql": 6}


def test_the_version_page_costs_the_same_whatever_the_history(app, client, op):
    both = [(EMPLOYER, op.employer), (PARTNER, op.partner)]
    _submit_and_sign(app, op, both, "Première rédaction.")
    login_as(client, PARTNER)
    path = f"{url(op)}/versions/1"
    few = len(queries(app, client, path))
    _submit_and_sign(app, op, both[:1], "Deuxième rédaction.")
    _submit_and_sign(app, op, both, "Troisième rédaction.")
    assert "Version 4" in text(client.get(url(op)))
    many = len(queries(app, client, path))
    with app.app_context():
        dialect = db.engine.dialect.name
    print(f"\n[{dialect}] version page: {few} then {many} queries")
    assert few == many == VERSION_PAGE_QUERIES[dialect]
