"""The convention's clauses over HTTP: sections of the design shown on the convention
page, edited by the organisme porteur and the Région through the design's routes (which
come back to the convention page without JavaScript), commented by everyone, historised,
and closed outside the convention's steps."""

import re
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal.design.models import DesignComment, DesignSection, SectionKey
from portal.design.queries import load_design
from portal.extensions import db
from portal.operations.models import Status
from tests.conventions.helpers_views import build, url
from tests.design.factories import to_co_design
from tests.operations.factories import EMPLOYER, OF_A, Market, set_status
from tests.support import HTMX, committed, count, login_as, text


@pytest.fixture
def op(app):
    return build(app)


@pytest.fixture
def co_design(app):
    """An operation in co-design (design started, no convention)."""
    with committed(app):
        return SimpleNamespace(id=to_co_design(Market()).id)


def test_clauses_are_edited_by_the_carrier_only(client, op):
    edit = f"/operations/{op.id}/conception/conv_object/modification"
    login_as(client, OF_A)
    assert f'href="{edit}"' in text(client.get(url(op)))
    client.post("/deconnexion")
    login_as(client, EMPLOYER)
    page = text(client.get(url(op)))
    assert f'href="{edit}"' not in page
    assert "Commenter la section « Objet de la convention »" in page
    assert f'href="/operations/{op.id}/conception/conv_object/historique"' in page
    assert "(facultative)" not in page and "Valider la section" not in page


def test_a_clause_form_without_javascript_opens_on_the_convention_page(client, op):
    login_as(client, OF_A)
    response = client.get(f"/operations/{op.id}/conception/conv_object/modification")
    assert response.status_code == 200
    page = text(response)
    assert "<h1>Convention de partenariat</h1>" in page
    assert 'name="conv_object-text"' in page
    assert f'href="{url(op)}#section-conv_object"' in page  # « Annuler »
    fragment = client.get(f"/operations/{op.id}/conception/conv_object/modification", headers=HTMX)
    assert SECTION_ROOT.match(fragment.get_data(as_text=True))


SECTION_ROOT = re.compile(r'^\s*<section id="section-conv_object" class="design-section')


def test_saving_a_clause_comes_back_to_the_convention(app, client, op):
    login_as(client, OF_A)
    response = client.post(
        f"/operations/{op.id}/conception/conv_object",
        data={"base_version": 1, "conv_object-text": "Objet réécrit."},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url(op) + "#section-conv_object")
    page = text(client.get(url(op)))
    assert "Section enregistrée." in page and "Objet réécrit." in page
    timeline = text(client.get(f"/operations/{op.id}"))
    assert "Convention : article « Objet de la convention » enregistré" in timeline
    # htmx: the section alone, without the design's gate out of band.
    response = client.post(
        f"/operations/{op.id}/conception/conv_object",
        data={"base_version": 2, "conv_object-text": "Objet réécrit encore."},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert SECTION_ROOT.match(response.get_data(as_text=True))
    assert "design-gate" not in response.get_data(as_text=True)


def test_a_clause_error_without_javascript_shows_the_convention_page(client, op):
    login_as(client, OF_A)
    response = client.post(
        f"/operations/{op.id}/conception/conv_object", data={"conv_object-text": "Sans version"}
    )
    assert response.status_code == 422
    page = text(response)
    assert "<h1>Convention de partenariat</h1>" in page
    assert "Version de départ inconnue : rechargez la section." in page


def test_other_participants_may_not_change_a_clause(app, client, op):
    login_as(client, EMPLOYER)
    response = client.post(
        f"/operations/{op.id}/conception/conv_object",
        data={"base_version": 1, "conv_object-text": "Réécrit par l'employeur"},
        headers=HTMX,
    )
    assert response.status_code == 403
    with app.app_context():
        assert "Réécrit" not in load_design(op.id).section(SectionKey.CONV_OBJECT).content["text"]


def test_a_comment_on_a_clause_comes_back_to_the_convention(app, client, op):
    login_as(client, EMPLOYER)
    response = client.post(
        f"/operations/{op.id}/conception/conv_object/commentaires",
        data={"comment-conv_object-body": "Préciser la durée des contrats ?"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url(op) + "#comments-conv_object")
    assert count(app, DesignComment) == 1
    assert "Préciser la durée des contrats ?" in text(client.get(url(op)))


def test_the_history_of_a_clause_leads_back_to_the_convention(client, op):
    login_as(client, EMPLOYER)
    page = text(client.get(f"/operations/{op.id}/conception/conv_object/historique"))
    assert f'<a href="{url(op)}#section-conv_object">Convention de partenariat' in page


def test_a_clause_of_an_operation_without_convention_is_404(client, co_design):
    login_as(client, OF_A)
    response = client.get(f"/operations/{co_design.id}/conception/conv_object")
    assert response.status_code == 404


def test_clauses_stay_closed_before_the_convention_step(app, client, op):
    set_status(app, op.id, Status.CO_DESIGN)
    login_as(client, OF_A)
    response = client.post(
        f"/operations/{op.id}/conception/conv_object",
        data={"base_version": 1, "conv_object-text": "Trop tôt"},
        headers=HTMX,
    )
    assert response.status_code == 409
    assert "Les articles de la convention ne se modifient pas à cette étape." in text(response)
    with app.app_context():
        assert (
            db.session.scalar(
                select(DesignSection.version).where(DesignSection.key == SectionKey.CONV_OBJECT)
            )
            == 1
        )
