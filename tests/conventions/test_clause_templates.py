"""The convention type (issue #12): the Région's admins edit the default clauses in the
portal, as numbered versions with their history; a new convention starts from the version
in force, a signed one keeps the text it was signed with. The follow-up clause names the
organisme de formation as the one who evaluates and capitalises."""

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.conventions import clause_templates, clauses
from portal.conventions import services as conventions
from portal.core.errors import RuleError
from portal.design.models import SectionKey
from portal.extensions import db
from portal.operations.models import OperationEvent
from tests.conventions.factories import make_convention_ready, sign_all
from tests.operations.factories import Market
from tests.support import HTMX, committed, flashes, login_as, text

DATA = SectionKey.CONV_DATA.value
FOLLOWUP = SectionKey.CONV_FOLLOWUP.value


@pytest.fixture
def market(ctx):
    return Market()


def edited(**changes) -> dict[str, str]:
    texts = dict(clause_templates.in_force().texts)
    texts.update(changes)
    return texts


def save(market, texts, note="", base=None):
    return clause_templates.save_template(
        texts,
        note,
        base=clause_templates.in_force().number if base is None else base,
        by=market.region_admin,
        org=market.region,
    )


def clause_text(ready, key: SectionKey) -> str:
    return ready.design.section(key).content["text"]


# --- The wording ---------------------------------------------------------------------------------


def test_the_follow_up_clause_names_the_organisme_as_evaluator(ctx):
    texts = clause_templates.original_texts()
    followup = texts[FOLLOWUP]
    assert "L'organisme de formation suit la situation" in followup
    assert "Il évalue le dispositif de formation et l'insertion en emploi" in followup
    assert "participe aux travaux de capitalisation" in followup
    assert "qui évalue l'insertion et capitalise" not in followup  # the Région no longer does
    assert "évaluer le dispositif de formation" in texts[SectionKey.CONV_PROVIDER.value]


def test_placeholders_are_filled_for_each_operation_and_others_left_alone(market):
    operation = market.report()
    operation.certification_title = "Titre professionnel Agent de propreté"
    texts = {k: "« {intitulé} », {certification}, {session}, {x y}" for k in edited()}
    filled = clauses.fill(texts, operation)[SectionKey.CONV_OBJECT]
    assert filled == (
        "« Agent·e de propreté et d'hygiène », Titre professionnel Agent de propreté, "
        "aux dates fixées par le calendrier de la session, {x y}"
    )
    assert clauses.unknown_placeholders("{intitulé} {durée} {session}") == ["durée"]


# --- Versions ---------------------------------------------------------------------------------


def test_the_original_wording_is_in_force_until_the_region_saves_a_version(market):
    assert clause_templates.in_force().number == 0
    template = save(market, edited(**{DATA: "Données : {intitulé}."}), note="Données")
    assert (template.number, template.note) == (1, "Données")
    assert clause_templates.in_force().number == 1
    second = save(market, edited(**{DATA: "Données, version 2 : {intitulé}."}))
    assert [t.number for t in clause_templates.history()] == [2, 1]
    changes = clause_templates.changes(clause_templates.previous_texts(second), second.texts)
    assert [key for key, _chunks in changes] == [SectionKey.CONV_DATA]
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "clause_template.saved")
    ).all()[-1]
    assert event.detail["changed"] == [DATA]


@pytest.mark.parametrize(
    ("changes", "message", "field"),
    [
        ({DATA: "  "}, "Rédigez l'article « Protection des données personnelles »", DATA),
        ({DATA: "Conservées {durée}."}, "Champ inconnu dans « Protection des .* : {durée}", DATA),
        ({}, "Aucun article n'a changé", None),
    ],
)
def test_a_version_needs_every_clause_known_placeholders_and_a_change(
    market, changes, message, field
):
    with pytest.raises(RuleError, match=message) as exc:
        save(market, edited(**changes))
    assert exc.value.field == field
    assert clause_templates.history() == []


def test_a_stale_edit_is_refused_rather_than_overwriting(market):
    save(market, edited(**{DATA: "Première version."}))
    with pytest.raises(RuleError, match="La version 1 a été enregistrée entre-temps"):
        save(market, edited(**{DATA: "Partie d'une page ouverte avant."}), base=0)


def test_only_the_region_s_admins_edit_the_convention_type(market):
    for user, org in (
        (market.referent, market.region),  # a member of the Région, not an admin
        (market.a_user, market.of_a),
    ):
        with pytest.raises(RuleError, match="Seul·es les administrateur·rices de la Région"):
            clause_templates.save_template(edited(**{DATA: "Autre."}), "", base=0, by=user, org=org)


# --- Conventions start from the version in force and keep what they were signed with ----------


def test_a_new_convention_starts_from_the_version_in_force(ctx):
    market = Market()
    save(market, edited(**{DATA: "Données de « {intitulé} », version du modèle 1."}))
    ready = make_convention_ready(market)
    assert clause_text(ready, SectionKey.CONV_DATA) == (
        "Données de « Agent·e de propreté et d'hygiène », version du modèle 1."
    )
    event = db.session.scalars(
        select(OperationEvent).where(OperationEvent.kind == "convention_started")
    ).one()
    assert event.detail["template"] == 1


def test_a_signed_convention_keeps_its_text_when_the_template_changes(ctx):
    market = Market()
    ready = make_convention_ready(market)
    version = ready.submit()
    sign_all(ready, version)
    signed_text = conventions.snapshot_of(version)
    save(market, edited(**{DATA: "Un tout autre texte."}))
    db.session.expire_all()
    assert conventions.snapshot_of(version) == signed_text
    assert "Un tout autre texte." not in version.canonical
    assert clause_text(ready, SectionKey.CONV_DATA) != "Un tout autre texte."


# --- The pages ------------------------------------------------------------------------------------


@pytest.fixture
def region_admin(app, client):
    with committed(app):
        Market()
    login_as(client, "region.admin@example.fr")
    return client


def test_the_page_edits_the_convention_type_and_lists_the_history(app, region_admin):
    client = region_admin
    page = text(client.get("/administration/convention-type"))
    assert "En vigueur : version d'origine" in page
    assert "{intitulé}" in page and "Suivi dans l'emploi, évaluation et capitalisation" in page
    with app.test_request_context():
        data = {**clause_templates.original_texts(), "base": "0", "note": "Données précisées"}
    data[DATA] = "Données, conservées six mois après la fin du suivi."
    response = client.post("/administration/convention-type", data=data)
    assert response.status_code == 303
    assert any("Version 1 de la convention type enregistrée" in m for _k, m in flashes(client))
    page = text(client.get("/administration/convention-type"))
    assert "En vigueur : version 1" in page and "Données précisées" in page
    with app.app_context():
        template_id = clause_templates.latest().id
    version_page = text(client.get(f"/administration/convention-type/versions/{template_id}"))
    assert "conservées six mois" in version_page and "<ins>" in version_page
    assert client.get("/administration/convention-type/versions/999999").status_code == 404


def test_errors_are_shown_on_the_clause_in_french(app, region_admin):
    client = region_admin
    with app.test_request_context():
        data = {**clause_templates.original_texts(), "base": "0"}
    data[DATA] = "Conservées {durée}."
    response = client.post("/administration/convention-type", data=data, headers=HTMX)
    assert response.status_code == 422
    page = text(response)
    assert 'id="error-summary"' in page and "Champ inconnu" in page
    assert f'href="#{DATA}"' in page
    with app.app_context():
        assert clause_templates.latest() is None
