"""Issue #12 §3 through HTTP: the design, the parties and the promises edited after
signature as the draft of an amendment, what the pages say of it, the version page of
an amendment, and a rejected version back to drafting. Editors only; an organisation
taking no part gets 404; CSRF is required; htmx gets the widget.
"""

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal.conventions import services
from portal.design.models import Design, SectionKey
from portal.design.services import set_validated as validate_section
from portal.extensions import db
from portal.operations import needs
from portal.operations import services as operations
from portal.operations.models import ContractType, Participant, ParticipantRole, Position
from tests.conventions.factories import in_force, make_convention_ready
from tests.factories import make_user
from tests.operations.factories import EMPLOYER, EMPLOYER2, OF_A, OF_B
from tests.support import HTMX, committed, count, login_as, org_named, snapshot, text, user_with

PEDAGOGY = "Pédagogie par situations, revue avec les employeurs."
DRAFT = "Brouillon de l'avenant — la version en vigueur reste celle signée le"
NEWCOMER = "p.nouveau@example.fr"  # joins Partenaire P after version 1


@pytest.fixture
def op(app):
    """Version 1 in force and the operation recruiting (parties: Organisme A, Entreprise E,
    Partenaire P); committed."""
    with committed(app):
        ready = in_force(make_convention_ready())
        market = ready.market
        (position,) = needs.need_for(ready.operation, market.employer).positions
        partner = next(
            p for p in ready.operation.participants if p.organisation_id == market.partner.id
        )
        return SimpleNamespace(
            id=ready.operation.id,
            convention=ready.convention.id,
            employer2=market.employer2.id,
            position=position.id,
            partner=partner.id,
        )


def design_url(op, path: str = "") -> str:
    return f"/operations/{op.id}/conception{path}"


def save_pedagogy(client, op, value: str = PEDAGOGY, **kwargs):
    page = client.get(design_url(op, "/pedagogy"), headers=HTMX)
    version = page.get_data(as_text=True).split('data-version="')[1].split('"')[0]
    data = {"base_version": version, "pedagogy-text": value}
    return client.post(design_url(op, "/pedagogy"), data=data, **kwargs)


def in_force_pedagogy(app, op) -> str:
    with app.app_context():
        design = db.session.scalar(select(Design).where(Design.operation_id == op.id))
        return design.in_force["pedagogy"]["text"]


# --- The design after signature -----------------------------------------------------------


def test_the_design_is_a_draft_of_the_amendment_and_says_what_it_changes(app, client, op):
    login_as(client, OF_A)
    response = save_pedagogy(client, op, headers=HTMX)
    assert response.status_code == 200
    fragment = text(response)
    assert "<html" not in fragment and "Section enregistrée." in fragment
    assert "Modifiée dans le brouillon" in fragment
    assert "Ce qui change par rapport à la version en vigueur" in fragment
    assert "<ins>" in fragment and PEDAGOGY.split(",")[0] in fragment
    assert in_force_pedagogy(app, op) == "Contenu rédigé."

    page = text(client.get(design_url(op)))
    assert DRAFT in page
    assert "Sections modifiées depuis la version en vigueur : Modalités pédagogiques." in page
    assert "Avant la convention de partenariat" not in page  # the gate belongs to co-design
    block = client.get(design_url(op), headers={**HTMX, "HX-Target": "design-draft"})
    assert block.status_code == 200
    assert 'id="design-draft"' in text(block) and "<html" not in text(block)


def test_every_participant_edits_the_draft_and_outsiders_get_404(app, client, op):
    login_as(client, EMPLOYER)
    assert save_pedagogy(client, op, "Proposition de l'employeur.").status_code == 303
    # A validated section stays for the organisme porteur and the Région to change.
    with committed(app):
        design = db.session.scalar(select(Design).where(Design.operation_id == op.id))
        validate_section(design.section(SectionKey.OBJECTIVES), True, by=user_with(OF_A),
                         org=org_named("Organisme A"))  # fmt: skip
    data = {"base_version": 2, "objectives-text": "Objectifs de l'employeur"}
    response = client.post(design_url(op, "/objectives"), data=data, headers=HTMX)
    assert response.status_code == 403
    assert "Section validée : seuls l'organisme porteur et la Région la modifient." in text(
        response
    )
    before = snapshot(app)
    login_as(client, OF_B)  # Organisme B takes no part in the operation
    assert client.get(design_url(op)).status_code == 404
    data = {"base_version": 2, "pedagogy-text": "Intrusion"}
    assert client.post(design_url(op, "/pedagogy"), data=data).status_code == 404
    assert snapshot(app) == before


def test_a_draft_save_needs_the_csrf_token_and_a_login(app, client, op):
    data = {"base_version": 1, "pedagogy-text": "Sans jeton"}
    assert client.post(design_url(op, "/pedagogy"), data=data).status_code in (302, 303)
    login_as(client, OF_A)
    before = snapshot(app)
    response = client.post(design_url(op, "/pedagogy"), data=data, csrf=False)
    assert response.status_code == 400
    assert snapshot(app) == before


# --- The convention page and the amendment's version page ---------------------------------


def test_the_convention_page_shows_what_the_amendment_will_change(app, client, op):
    with committed(app):
        operations.add_participant(
            db.session.get(Participant, op.partner).operation,
            org_named("Entreprise F"),
            ParticipantRole.EMPLOYER,
            by=user_with(OF_A),
            org=org_named("Organisme A"),
        )
    login_as(client, OF_A)
    save_pedagogy(client, op)
    page = text(client.get(f"/operations/{op.id}/convention"))
    assert "Ont changé depuis la version 1 : Parties à la convention, Annexe" in page
    assert "Voir le détail des changements depuis la version 1" in page
    assert 'Entreprise F <span class="tag">rejoint la convention par l\'avenant' in html(
        client, f"/operations/{op.id}/convention"
    )
    assert "Pour que ces changements engagent les parties, soumettez un avenant" in page
    assert "Soumettre un avenant aux signatures" in page


def html(client, path: str) -> str:
    return client.get(path).get_data(as_text=True).replace("&#39;", "'")


def test_a_reader_new_to_the_convention_sees_what_the_amendment_changes(app, client, op):
    login_as(client, OF_A)
    save_pedagogy(client, op)
    with committed(app):
        convention = services.convention_for(db.session.get(Participant, op.partner).operation)
        services.submit(convention, by=user_with(OF_A), org=org_named("Organisme A"))
        make_user(org_named("Partenaire P"), email=NEWCOMER)
    version_2 = f"/operations/{op.id}/convention/versions/2"
    # Entreprise E signed version 1: the diff since that version.
    login_as(client, EMPLOYER)
    page = text(client.get(version_2))
    assert "Ce qui a changé depuis la version 1" in page
    assert "Modalités pédagogiques" in page
    # Someone who never opened a version: what the amendment changes in the version 1.
    login_as(client, NEWCOMER)
    page = text(client.get(version_2))
    assert "Ce que cet avenant change dans la version 1" in page
    assert "Cet avenant modifie la version 1, validée par la Région." in page
    assert "Modalités pédagogiques" in page and "<ins>" in page


# --- Parties: pending withdrawal, cancelled -----------------------------------------------


def participants_url(op, path: str = "") -> str:
    return f"/operations/{op.id}/participants{path}"


def partner_state(app, op) -> tuple:
    with app.app_context():
        partner = db.session.get(Participant, op.partner)
        return partner.pending_change, partner.withdrawn_at


def test_withdrawing_a_party_after_signature_waits_for_the_amendment(app, client, op):
    login_as(client, OF_A)
    response = client.post(
        participants_url(op, f"/{op.partner}/retrait"), data={"reason": "Fin du partenariat"}
    )
    assert response.status_code == 303
    page = text(client.get(participants_url(op)))
    assert "Retrait enregistré : il prendra effet avec l'avenant, une fois validé." in page
    assert "quitte la convention avec l'avenant" in page and "Annuler le retrait" in page
    assert partner_state(app, op)[1] is None

    before = snapshot(app)
    keep = participants_url(op, f"/{op.partner}/maintien")
    login_as(client, EMPLOYER)  # a participant, but not one who steers
    assert client.post(keep).status_code == 403
    login_as(client, OF_B)
    assert client.post(keep).status_code == 404
    login_as(client, OF_A)
    assert client.post(keep, csrf=False).status_code == 400
    assert snapshot(app) == before

    response = client.post(keep, headers=HTMX)
    assert response.status_code == 200
    fragment = text(response)
    assert "<html" not in fragment and "Annuler le retrait" not in fragment
    assert partner_state(app, op) == (None, None)


def test_an_organisation_added_after_signature_joins_by_the_amendment(app, client, op):
    login_as(client, OF_A)
    response = client.post(
        participants_url(op),
        data={"organisation_id": op.employer2, "role": "employer"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "rejoint la convention par l'avenant" in text(response)
    assert "La convention est en vigueur : une organisation ajoutée y entre" in text(response)
    login_as(client, EMPLOYER2)  # it takes part now, and reads the convention to sign
    assert client.get(f"/operations/{op.id}/convention").status_code == 200


# --- Promises: pending withdrawal, cancelled ----------------------------------------------


def position_url(op, org_id: int, path: str) -> str:
    return f"/operations/{op.id}/besoins/{org_id}/postes/{op.position}{path}"


def test_an_employer_withdraws_a_promise_by_the_amendment_and_may_cancel(app, client, op):
    with app.app_context():
        employer_id = db.session.get(Position, op.position).need.organisation_id
    login_as(client, EMPLOYER)
    response = client.post(position_url(op, employer_id, "/suppression"), headers=HTMX)
    assert response.status_code == 200
    assert "Retrait en attente de l'avenant" in text(response)
    assert count(app, Position, Position.id == op.position) == 1

    before = snapshot(app)
    keep = position_url(op, employer_id, "/maintien")
    login_as(client, OF_A)  # only the employer changes its own promises
    assert client.post(keep, headers=HTMX).status_code == 403
    login_as(client, OF_B)
    assert client.post(keep).status_code == 404
    login_as(client, EMPLOYER)
    assert client.post(keep, csrf=False).status_code == 400
    assert snapshot(app) == before
    response = client.post(keep, headers=HTMX)
    assert response.status_code == 200
    assert "Retrait en attente de l'avenant" not in text(response)
    with app.app_context():
        assert db.session.get(Position, op.position).pending_change is None


def test_a_promise_added_after_signature_is_flagged(app, client, op):
    with app.app_context():
        employer_id = db.session.get(Position, op.position).need.organisation_id
    login_as(client, EMPLOYER)
    data = {
        "job_title": "Agent·e de propreté",
        "rome_code": "K2204",
        "count": "1",
        "contract_type": ContractType.CDI.value,
    }
    response = client.post(
        f"/operations/{op.id}/besoins/{employer_id}/postes", data=data, headers=HTMX
    )
    assert response.status_code == 200
    assert "Ajout en attente de l'avenant" in text(response)
    login_as(client, OF_A)
    page = text(client.get(f"/operations/{op.id}/convention"))
    assert "ajoutée par l'avenant" in page


# --- A rejected version: back to drafting -------------------------------------------------


@pytest.fixture
def rejected(app):
    """Version 1 submitted, then rejected by the Région; committed."""
    with committed(app):
        ready = make_convention_ready()
        version = ready.submit()
        user, org = ready.region
        services.reject(version, by=user, org=org, reason="Ajoutez un bilan intermédiaire.")
        return SimpleNamespace(id=ready.operation.id)


def test_a_rejected_version_goes_back_to_drafting_with_everything_editable(app, client, rejected):
    login_as(client, OF_A)
    page = text(client.get(f"/operations/{rejected.id}/convention"))
    assert "La convention revient au brouillon." in page
    assert (
        "La co-conception, les promesses d'emploi, les parties et les articles restent "
        "modifiables" in page
    )
    design = text(client.get(design_url(rejected)))
    assert "Brouillon de la convention" in design and DRAFT not in design
    assert save_pedagogy(client, rejected, headers=HTMX).status_code == 200
    page = text(client.get(f"/operations/{rejected.id}/convention"))
    assert "Ont changé depuis la version 1 : Annexe : la formation co-conçue." in page
    assert (
        "Soumettez une nouvelle version : les signataires verront ce qui a changé depuis la "
        "version 1." in page
    )
    assert "<ins>" in page
