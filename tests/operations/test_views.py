"""Operations over HTTP: the list and its filters, reporting a need, the operation page,
the timeline, and the decisions posted from the page — each with its 403/404 cases."""

import re
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal.accounts.models import Organisation
from portal.core.time import utcnow
from portal.extensions import db
from portal.lots.models import Category
from portal.mail.models import OutboxMessage
from portal.notifications.models import Notification
from portal.operations import services
from portal.operations.models import (
    Funding,
    Operation,
    OperationEvent,
    Participant,
    ParticipantRole,
    Status,
)
from tests.factories import make_user
from tests.operations.factories import (
    EMPLOYER,
    EMPLOYER2,
    OF_A,
    OF_B,
    PARTNER,
    REFERENT,
    REGION_ADMIN,
    add_events,
    build_market,
    bulk_operations,
    need_form,
    report,
    report_out_of_market,
    set_status,
)
from tests.support import (
    HTMX,
    REQUIRED,
    committed,
    count,
    flashes,
    load,
    login_as,
    org_named,
    text,
    user_with,
)

# --- Helpers ------------------------------------------------------------------------------


def listed_ids(response) -> list[int]:
    """Ids of the operations shown in the results table, in order."""
    results = text(response).split('id="operation-results"', 1)[1]
    return [int(i) for i in re.findall(r'<th scope="row"><a href="/operations/(\d+)"', results)]


@pytest.fixture
def market(app):
    return build_market(app)


@pytest.fixture
def op(app, market) -> int:
    """Under Organisme A's lot, in Tours, with Entreprise E: just reported."""
    return report(app)


@pytest.fixture
def out_op(app, market) -> int:
    return report_out_of_market(app)


# --- The list ----------------------------------------------------------------------------


@pytest.fixture
def three_ops(app, market, op, out_op):
    """op (Tours, lot), out_op (Orléans, out of market, in analysis), prepa (Tours, Prépa)."""
    prepa = report(
        app,
        title="Découverte des métiers du bâtiment",
        category=Category.PREPA_METIERS,
        rome_code="F1703",
        trades="Maçonnerie",
        employers=(),
    )
    set_status(app, out_op, Status.ANALYSIS)
    return SimpleNamespace(op=op, out=out_op, prepa=prepa)


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        (REGION_ADMIN, {"op", "out", "prepa"}),
        (REFERENT, {"op", "prepa"}),  # referent of Tours: Tours operations only
        (OF_A, {"op", "prepa"}),
        (OF_B, {"out"}),
        (EMPLOYER, {"op"}),
        (EMPLOYER2, {"out"}),
        (PARTNER, set()),
    ],
)
def test_list_shows_only_what_each_role_may_see(client, three_ops, email, expected):
    login_as(client, email)
    response = client.get("/operations/")
    assert response.status_code == 200
    assert set(listed_ids(response)) == {getattr(three_ops, key) for key in expected}
    if not expected:
        assert "Aucune opération DEFI pour l'instant." in text(response)


def test_region_member_referent_of_no_bassin_sees_nothing(app, client, three_ops):
    with committed(app):
        make_user(org_named("Région Centre-Val de Loire"), email="sans.bassin@example.fr")
    login_as(client, "sans.bassin@example.fr")
    assert listed_ids(client.get("/operations/")) == []


def test_list_counts_operations_per_step(client, three_ops):
    login_as(client, REGION_ADMIN)
    page = text(client.get("/operations/"))
    counts = dict(re.findall(r'statut=(\w+)">[^<]+</a> <span class="badge">(\d+)</span>', page))
    assert counts["need_reported"] == "2"
    assert counts["analysis"] == "1"
    assert counts["closed"] == "0"
    assert len(counts) == len(Status)
    assert "3 opération(s)" in page


def test_counts_are_restricted_to_visible_operations(client, three_ops):
    login_as(client, OF_B)
    page = text(client.get("/operations/"))
    counts = dict(re.findall(r'statut=(\w+)">[^<]+</a> <span class="badge">(\d+)</span>', page))
    assert counts["need_reported"] == "0"
    assert counts["analysis"] == "1"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"statut": "analysis"}, {"out"}),
        ({"statut": "need_reported"}, {"op", "prepa"}),
        ({"categorie": "prepa_metiers"}, {"prepa"}),
        ({"bassin": "orleans"}, {"out"}),
        ({"lot": "lot"}, {"op"}),
        ({"q": "production"}, {"out"}),  # title, case-insensitive
        ({"q": "h2102"}, {"out"}),  # ROME code
        ({"q": "entretien"}, {"op"}),  # trades
        ({"statut": "need_reported", "bassin": "tours", "q": "bâtiment"}, {"prepa"}),
    ],
)
def test_filters(client, market, three_ops, query, expected):
    ids = {"orleans": market.orleans, "tours": market.tours, "lot": market.lot}
    params = {k: ids.get(v, v) for k, v in query.items()}
    login_as(client, REGION_ADMIN)
    response = client.get("/operations/", query_string=params)
    assert response.status_code == 200
    assert set(listed_ids(response)) == {getattr(three_ops, key) for key in expected}


def test_no_match_says_so(client, three_ops):
    login_as(client, REGION_ADMIN)
    page = text(client.get("/operations/", query_string={"q": "boulangerie"}))
    assert "Aucune opération ne correspond à ces filtres." in page
    assert "Effacer les filtres" in page


def test_search_wildcards_are_taken_literally(client, three_ops):
    login_as(client, REGION_ADMIN)
    for q in ("%", "_"):
        assert listed_ids(client.get("/operations/", query_string={"q": q})) == []


@pytest.mark.parametrize(
    "query",
    [
        {"statut": "n-importe-quoi"},
        {"categorie": "cuisine"},
        {"bassin": "abc"},
        {"lot": "1; DROP TABLE operations"},
        {"page": "zz"},
        {"page": "-3"},
        {"page": "999"},
        {"q": "x" * 5000},
    ],
)
def test_invalid_filter_values_are_ignored(client, three_ops, query):
    login_as(client, REGION_ADMIN)
    response = client.get("/operations/", query_string=query)
    assert response.status_code == 200
    if "q" not in query:
        assert set(listed_ids(response)) == {three_ops.op, three_ops.out, three_ops.prepa}


def test_htmx_gets_the_results_fragment_only(client, three_ops):
    login_as(client, REGION_ADMIN)
    response = client.get("/operations/", query_string={"statut": "analysis"}, headers=HTMX)
    assert response.status_code == 200
    fragment = text(response)
    assert fragment.lstrip().startswith('<section id="operation-results"')
    assert "<html" not in fragment and "<h1>" not in fragment
    assert 'name="statut"' not in fragment  # the filters stay in the page
    assert listed_ids(response) == [three_ops.out]
    assert "HX-Request" in response.headers["Vary"]


def test_full_list_page_varies_on_htmx_too(client, three_ops):
    login_as(client, REGION_ADMIN)
    response = client.get("/operations/")
    page = text(response)
    assert page.startswith("<!doctype html>")
    assert "<h1>Opérations DEFI</h1>" in page
    assert 'hx-target="#operation-results"' in page
    assert "HX-Request" in response.headers["Vary"]


def test_list_paginates_sixty_operations_in_two_pages(app, client, market):
    ids = bulk_operations(
        app,
        60,
        provider_id=market.of_a,
        territory_id=market.tours,
        region_id=market.region,
        user_id=market.referent,
    )
    login_as(client, OF_A)
    first = client.get("/operations/")
    assert "60 opération(s)" in text(first)
    assert "Page 1 sur 2" in text(first)
    second = client.get("/operations/", query_string={"page": 2})
    assert "Page 2 sur 2" in text(second)
    shown = listed_ids(first) + listed_ids(second)
    assert len(listed_ids(first)) == 50 and len(listed_ids(second)) == 10
    assert sorted(shown) == sorted(ids)  # newest first, each operation once


def test_pager_keeps_the_filters(app, client, market):
    bulk_operations(
        app,
        60,
        provider_id=market.of_a,
        territory_id=market.tours,
        region_id=market.region,
        user_id=market.referent,
    )
    login_as(client, OF_A)
    page = text(client.get("/operations/", query_string={"q": "série", "bassin": market.tours}))
    [link] = re.findall(r'href="(/operations/\?[^"]*)" rel="next"', page)
    assert "page=2" in link and "q=s%C3%A9rie" in link and f"bassin={market.tours}" in link


def test_list_requires_login(client):
    response = client.get("/operations/")
    assert response.status_code == 302
    assert "/connexion" in response.headers["Location"]


# --- Reporting a need --------------------------------------------------------------------


@pytest.mark.parametrize("email", [OF_A, REGION_ADMIN])
def test_report_form_opens_for_providers_and_the_region(client, market, email):
    login_as(client, email)
    response = client.get("/operations/nouveau-besoin")
    assert response.status_code == 200
    page = text(response)
    assert "<h1>Signaler un besoin repéré</h1>" in page
    assert "Entreprise E" in page  # registered employers to tick


@pytest.mark.parametrize("email", [EMPLOYER, PARTNER])
def test_employers_and_partners_may_not_report(app, client, market, email):
    login_as(client, email)
    assert client.get("/operations/nouveau-besoin").status_code == 403
    assert client.post("/operations/nouveau-besoin", data=need_form(market)).status_code == 403
    assert count(app, Operation) == 0


def test_list_offers_reporting_only_to_those_who_may(client, market):
    login_as(client, EMPLOYER)
    assert "Signaler un besoin repéré" not in text(client.get("/operations/"))


def test_report_creates_the_operation_and_tells_the_referent(app, client, market):
    login_as(client, OF_A)
    response = client.post("/operations/nouveau-besoin", data=need_form(market))
    assert response.status_code == 303
    with app.app_context():
        operation = db.session.scalar(select(Operation))
        assert response.headers["Location"] == f"/operations/{operation.id}"
        assert operation.title == "Agent·e de propreté en résidence"
        assert operation.rome_code == "K2204"
        assert (operation.funding, operation.lot_id) == (Funding.LOT, market.lot)
        assert {(p.organisation_id, p.role) for p in operation.participants} == {
            (market.region, ParticipantRole.REGION),
            (market.of_a, ParticipantRole.PROVIDER),
            (market.employer, ParticipantRole.EMPLOYER),
        }
        [note] = db.session.scalars(select(Notification)).all()
        assert (note.user_id, note.kind, note.operation_id) == (
            market.referent,
            "need_reported",
            operation.id,
        )
        assert note.link.endswith(f"/operations/{operation.id}")
        assert REFERENT in db.session.scalars(select(OutboxMessage.recipient)).all()
    assert any("la Région" in message for _, message in flashes(client))


def test_report_with_a_new_employer_invites_it(app, client, market):
    login_as(client, OF_A)
    data = need_form(
        market,
        **{
            "new_employers-0-name": "Conserverie du Boischaut",
            "new_employers-0-email": "RH@conserverie.example",
            "new_employers-0-siret": "900 000 000 080 12",
        },
    )
    assert client.post("/operations/nouveau-besoin", data=data).status_code == 303
    with app.app_context():
        invited = org_named("Conserverie du Boischaut")
        assert invited is not None
        assert (invited.siret, invited.is_verified) == ("90000000008012", False)
        assert "rh@conserverie.example" in db.session.scalars(select(OutboxMessage.recipient)).all()


def test_region_reports_a_need_carried_by_the_lot_holder(app, client, market):
    login_as(client, REGION_ADMIN)
    response = client.post("/operations/nouveau-besoin", data=need_form(market))
    assert response.status_code == 303
    with app.app_context():
        operation = db.session.scalar(select(Operation))
        assert (operation.funding, operation.provider_id) == (Funding.LOT, market.of_a)
        assert operation.reported_by_org_id == market.region


def test_new_employer_with_an_existing_name_is_refused_and_nothing_is_kept(app, client, market):
    login_as(client, OF_A)
    data = need_form(
        market,
        **{
            "new_employers-0-name": "Entreprise F",
            "new_employers-0-email": "f@example.fr",
            "new_employers-0-siret": "90000000008012",
        },
    )
    response = client.post("/operations/nouveau-besoin", data=data)
    assert response.status_code == 422
    assert "Entreprise F existe déjà dans le portail" in text(response)
    assert count(app, Operation) == 0
    assert count(app, Notification) == 0
    assert count(app, OutboxMessage) == 0


def test_exclusivity_refusal_keeps_the_form_and_tells_the_region(app, client, market):
    login_as(client, OF_B)
    response = client.post("/operations/nouveau-besoin", data=need_form(market))
    assert response.status_code == 422
    page = text(response)
    assert f"Ce besoin relève du lot n° {market.lot_number}" in page
    assert "attribué à Organisme A" in page
    assert "exclusivité" in page
    assert 'value="Agent·e de propreté en résidence"' in page  # the form keeps its values
    assert 'value="K2204"' in page
    assert count(app, Operation) == 0
    # The refusal is not rolled back: the referent heard of it.
    with app.app_context():
        [note] = db.session.scalars(select(Notification)).all()
        assert (note.user_id, note.kind) == (market.referent, "exclusivity_refused")
        assert "Organisme B" in note.message
        assert REFERENT in db.session.scalars(select(OutboxMessage.recipient)).all()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": "  "}, REQUIRED),
        ({"rome_code": "12345"}, "Code ROME attendu : une lettre et quatre chiffres"),
        ({"positions_estimate": "0"}, "Entre 1 et 500 postes."),
        ({"territory_id": ""}, REQUIRED),
        ({"context": ""}, REQUIRED),
        pytest.param(
            {"new_employers-0-name": "Conserverie du Boischaut"},
            "Indiquez à la fois le nom et l'adresse électronique.",
            id="new-employer-without-email",
        ),
        ({"new_employers-0-email": "rh@conserverie.example"}, "Indiquez à la fois le nom"),
        (
            {"new_employers-0-name": "Conserverie", "new_employers-0-email": "pas-une-adresse"},
            "Saisissez une adresse électronique valide",
        ),
        pytest.param(
            {"new_employers-0-name": "Conserverie", "new_employers-0-email": "rh@c.example"},
            "Indiquez le SIRET de l'entreprise : la Région le vérifie.",
            id="issue-11-M6-new-employer-without-siret",
        ),
        pytest.param(
            {
                "new_employers-0-name": "Conserverie",
                "new_employers-0-email": "rh@c.example",
                "new_employers-0-siret": "90000000008013",
            },
            "Ce SIRET n'est pas valide (clé de contrôle incorrecte).",
            id="issue-11-M6-new-employer-with-a-wrong-siret",
        ),
    ],
)
def test_invalid_report_is_refused_in_french_and_creates_nothing(
    app, client, market, change, message
):
    login_as(client, OF_A)
    response = client.post("/operations/nouveau-besoin", data=need_form(market, **change))
    assert response.status_code == 422
    page = text(response)
    assert message in page
    assert "Le formulaire contient des erreurs" in page
    assert 'aria-invalid="true"' in page
    assert count(app, Operation) == 0
    assert count(app, Notification) == 0
    assert count(app, OutboxMessage) == 0
    assert count(app, Organisation) == 6  # the market's, no invited employer


def test_report_refuses_a_missing_csrf_token(app, client, market):
    login_as(client, OF_A)
    response = client.post("/operations/nouveau-besoin", data=need_form(market), csrf=False)
    assert response.status_code == 400
    assert "Votre session a expiré" in text(response)
    assert count(app, Operation) == 0


# --- The operation page ------------------------------------------------------------------


@pytest.mark.parametrize("email", [REGION_ADMIN, REFERENT, OF_A, EMPLOYER])
def test_operation_page_opens_for_participants(client, op, email):
    login_as(client, email)
    response = client.get(f"/operations/{op}")
    assert response.status_code == 200
    page = text(response)
    assert "<h1>Agent·e de propreté et d'hygiène</h1>" in page
    assert "Organisme A" in page


@pytest.mark.parametrize("email", [OF_B, EMPLOYER2, PARTNER])
def test_operation_page_is_hidden_from_outsiders(client, op, email):
    login_as(client, email)
    assert client.get(f"/operations/{op}").status_code == 404


def test_referent_of_another_bassin_does_not_see_the_operation(app, client, out_op):
    login_as(client, REFERENT)  # referent of Tours; out_op is in Orléans
    assert client.get(f"/operations/{out_op}").status_code == 404


def test_unknown_operation_is_404(client, op):
    login_as(client, REGION_ADMIN)
    assert client.get(f"/operations/{op + 1000}").status_code == 404


def test_withdrawn_participant_no_longer_sees_the_operation(app, client, op, market):
    with app.app_context():
        participant = db.session.scalar(
            select(Participant).where(
                Participant.operation_id == op, Participant.organisation_id == market.employer
            )
        )
        participant.withdrawn_at = utcnow()
        db.session.commit()
    login_as(client, EMPLOYER)
    assert client.get(f"/operations/{op}").status_code == 404
    assert listed_ids(client.get("/operations/")) == []


def test_page_shows_the_current_step(app, client, op):
    set_status(app, op, Status.ANALYSIS)
    login_as(client, OF_A)
    page = text(client.get(f"/operations/{op}"))
    current = re.findall(r'<li class="steps__item steps__item--(\w+)" aria-current="step">', page)
    assert current == ["current"]
    step = page.split('aria-current="step"', 1)[1].split("</li>", 1)[0]
    assert "Analyse des besoins" in step and "(étape en cours)" in step
    assert page.count("steps__item--done") == 1


def test_cancelled_operation_has_no_current_step(app, client, op):
    with app.app_context():
        operation = db.session.get(Operation, op)
        operation.status, operation.cancel_reason = Status.CANCELLED, "Employeur parti"
        db.session.commit()
    login_as(client, OF_A)
    page = text(client.get(f"/operations/{op}"))
    assert 'aria-current="step"' not in page
    assert "Opération annulée : Employeur parti" in page


@pytest.mark.parametrize(
    ("email", "expected", "absent"),
    [
        (REGION_ADMIN, "Accuser réception du besoin signalé.", "Indiquer vos postes"),
        (REFERENT, "Accuser réception du besoin signalé.", "Indiquer vos postes"),
        (EMPLOYER, "Indiquer vos postes à pourvoir", "Accuser réception"),
        (OF_A, "Rien n'est attendu de vous pour l'instant.", "Accuser réception"),
    ],
)
def test_todo_list_matches_the_role(client, op, email, expected, absent):
    login_as(client, email)
    page = text(client.get(f"/operations/{op}"))
    todo = page.split('id="todo-title"', 1)[1].split("</section>", 1)[0]
    assert expected in todo
    assert absent not in todo


def test_region_sees_the_decision_for_an_out_of_market_need(app, client, market, out_op):
    login_as(client, REGION_ADMIN)
    page = text(client.get(f"/operations/{out_op}"))
    assert "Décider : consultation FREF ou refus motivé" in page
    assert "Lancer une consultation FREF" in page
    assert "Ne pas retenir le besoin" in page


def test_carrier_does_not_see_the_regions_decision_forms(client, out_op):
    login_as(client, OF_B)
    page = text(client.get(f"/operations/{out_op}"))
    assert "Aucun lot du marché ne couvre ce besoin" in page
    assert "Lancer une consultation FREF" not in page
    assert "Accuser réception du besoin" not in page


def test_carrier_sees_unmet_conditions_before_the_next_step(client, op):
    login_as(client, OF_A)
    page = text(client.get(f"/operations/{op}"))
    step = page.split('id="step-title"', 1)[1].split("</section>", 1)[0]
    assert "Pour passer à « Analyse des besoins », il reste à :" in step
    assert "La Région n'a pas encore accusé réception du besoin." in step
    assert "Passer à « Analyse des besoins »" in step


def test_carrier_sees_when_the_next_step_is_possible(app, client, op, market):
    acknowledge(app, op)
    login_as(client, OF_A)
    page = text(client.get(f"/operations/{op}"))
    assert "Toutes les conditions sont réunies pour passer à « Analyse des besoins »." in page
    assert "Passer à l'étape « Analyse des besoins »." in page  # in the to-do list


def test_employer_has_no_steering_controls(client, op):
    login_as(client, EMPLOYER)
    page = text(client.get(f"/operations/{op}"))
    assert 'id="step-title"' not in page
    assert "Annuler l'opération" not in page
    assert "Modifier les informations" not in page
    assert "Voir les participants" in page


def test_page_timeline_shows_twenty_events_and_a_link_to_older_ones(app, client, op):
    add_events(app, op, 25)  # + need_reported = 26 events
    login_as(client, OF_A)
    page = text(client.get(f"/operations/{op}"))
    timeline = page.split('<ol class="timeline">', 1)[1].split("</ol>", 1)[0]
    assert timeline.count('<li class="timeline__item">') == 20
    assert "Besoin repéré et signalé à la Région" in timeline  # newest first
    assert f'hx-get="/operations/{op}/chronologie?page=2"' in timeline


def test_timeline_second_page_is_a_fragment_for_htmx(app, client, op):
    add_events(app, op, 25)
    login_as(client, EMPLOYER)
    response = client.get(f"/operations/{op}/chronologie?page=2", headers=HTMX)
    assert response.status_code == 200
    fragment = text(response).strip()
    assert fragment.startswith("<li") and "<html" not in fragment
    assert fragment.count('<li class="timeline__item">') == 6
    assert "timeline__more" not in fragment  # no third page
    assert "HX-Request" in response.headers["Vary"]


def test_timeline_second_page_without_htmx_is_a_full_page(app, client, op):
    add_events(app, op, 45)  # 46 events: a third page exists
    login_as(client, OF_A)
    response = client.get(f"/operations/{op}/chronologie?page=2")
    assert response.status_code == 200
    page = text(response)
    assert page.startswith("<!doctype html>")
    assert "Chronologie de « Agent·e de propreté et d'hygiène »" in page
    assert page.count('<li class="timeline__item">') == 20
    assert f'href="/operations/{op}/chronologie?page=3"' in page


def test_timeline_is_hidden_from_outsiders(client, op):
    login_as(client, OF_B)
    assert client.get(f"/operations/{op}/chronologie?page=2", headers=HTMX).status_code == 404


# --- Decisions ---------------------------------------------------------------------------


def acknowledge(app, operation_id: int) -> None:
    with committed(app):
        services.acknowledge_need(
            db.session.get(Operation, operation_id),
            by=user_with(REGION_ADMIN),
            org=org_named("Région Centre-Val de Loire"),
        )


def assert_back_on_page(response, operation_id: int) -> None:
    assert response.status_code == 303
    assert response.headers["Location"] == f"/operations/{operation_id}"


def test_region_acknowledges_the_need(app, client, op, market):
    login_as(client, REGION_ADMIN)
    response = client.post(f"/operations/{op}/accuse-reception", data={"comment": "Bien reçu."})
    assert_back_on_page(response, op)
    assert ("success", "Accusé de réception enregistré ; l'organisme porteur est prévenu.") in (
        flashes(client)
    )
    operation = load(app, Operation, op)
    assert operation.acknowledged_at is not None
    assert operation.acknowledgement_comment == "Bien reçu."
    assert count(app, Notification, Notification.kind == "acknowledged") == 1  # to OF A
    assert count(app, OperationEvent, OperationEvent.kind == "acknowledged") == 1


def test_second_acknowledgement_is_refused_with_a_flash(app, client, op):
    acknowledge(app, op)
    login_as(client, REGION_ADMIN)
    assert_back_on_page(client.post(f"/operations/{op}/accuse-reception"), op)
    assert ("error", "La Région a déjà accusé réception de ce besoin.") in flashes(client)
    assert count(app, OperationEvent, OperationEvent.kind == "acknowledged") == 1


# Each decision: its URL, valid form data, and who besides the Région may take it.
DECISIONS = {
    "accuse-reception": ({}, False),
    "fref": ({"reference": "FREF-2026-001", "provider_id": "of_b"}, False),
    "refus": ({"reason": "Pas de financement"}, False),
    "etape": ({"target": "analysis"}, True),
    "annulation": ({"reason": "Plus de besoin", "confirmed": "1"}, True),
}


def decision_data(market, data: dict) -> dict:
    return {k: str(getattr(market, v)) if v in ("of_a", "of_b") else v for k, v in data.items()}


WRONG_ROLE = [
    (action, email)
    for action, (_data, carrier_may) in DECISIONS.items()
    for email in ([EMPLOYER2] if carrier_may else [OF_B, EMPLOYER2])
]


@pytest.mark.parametrize(("action", "email"), WRONG_ROLE)
def test_decisions_refuse_participants_without_the_right(
    app, client, market, out_op, action, email
):
    login_as(client, email)  # Organisme B carries out_op; Entreprise F is one of its employers
    before = load(app, Operation, out_op)
    data = decision_data(market, DECISIONS[action][0])
    response = client.post(f"/operations/{out_op}/{action}", data=data)
    assert response.status_code == 403
    after = load(app, Operation, out_op)
    assert (after.status, after.funding, after.acknowledged_at) == (
        before.status,
        before.funding,
        before.acknowledged_at,
    )
    assert count(app, OperationEvent, OperationEvent.operation_id == out_op) == 1


@pytest.mark.parametrize("action", DECISIONS)
@pytest.mark.parametrize("email", [OF_A, EMPLOYER, PARTNER, REFERENT])
def test_decisions_are_404_for_outsiders(app, client, market, out_op, action, email):
    data, _carrier_may = DECISIONS[action]
    login_as(client, email)
    response = client.post(f"/operations/{out_op}/{action}", data=decision_data(market, data))
    assert response.status_code == 404
    assert count(app, OperationEvent, OperationEvent.operation_id == out_op) == 1


@pytest.mark.parametrize("action", DECISIONS)
def test_decisions_refuse_a_missing_csrf_token(app, client, market, out_op, action):
    data, _carrier_may = DECISIONS[action]
    login_as(client, REGION_ADMIN)
    response = client.post(
        f"/operations/{out_op}/{action}", data=decision_data(market, data), csrf=False
    )
    assert response.status_code == 400
    assert count(app, OperationEvent, OperationEvent.operation_id == out_op) == 1


@pytest.mark.parametrize("action", DECISIONS)
def test_decisions_answer_only_post(client, out_op, action):
    login_as(client, REGION_ADMIN)
    assert client.get(f"/operations/{out_op}/{action}").status_code == 405


def test_region_launches_a_fref_consultation(app, client, market, out_op):
    login_as(client, REGION_ADMIN)
    response = client.post(
        f"/operations/{out_op}/fref",
        data={"reference": " FREF-2026-045 ", "provider_id": str(market.of_a)},
    )
    assert_back_on_page(response, out_op)
    assert ("success", "Consultation FREF enregistrée.") in flashes(client)
    operation = load(app, Operation, out_op)
    assert (operation.funding, operation.fref_reference, operation.provider_id) == (
        Funding.FREF,
        "FREF-2026-045",
        market.of_a,
    )
    with app.app_context():
        carriers = db.session.scalars(
            select(Participant).where(
                Participant.operation_id == out_op, Participant.role == ParticipantRole.PROVIDER
            )
        ).all()
        assert {(p.organisation_id, p.withdrawn_at is None) for p in carriers} == {
            (market.of_a, True),
            (market.of_b, False),
        }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reference": "", "provider_id": "of_a"}, REQUIRED),
        ({"reference": "FREF-1", "provider_id": ""}, REQUIRED),
        ({"reference": "FREF-1", "provider_id": "employer"}, "N'est pas un choix valide."),
        ({"reference": "FREF-1", "provider_id": "abc"}, REQUIRED),
    ],
)
def test_invalid_fref_changes_nothing_and_says_why(app, client, market, out_op, data, message):
    data = {k: str(getattr(market, v)) if v in ("of_a", "employer") else v for k, v in data.items()}
    login_as(client, REGION_ADMIN)
    response = client.post(f"/operations/{out_op}/fref", data=data)
    assert_back_on_page(response, out_op)
    [(category, flashed)] = flashes(client)
    assert category == "error" and message in flashed
    operation = load(app, Operation, out_op)
    assert (operation.funding, operation.fref_reference, operation.provider_id) == (
        Funding.PENDING,
        "",
        market.of_b,
    )


def test_fref_on_a_need_under_a_lot_is_refused(app, client, market, op):
    login_as(client, REGION_ADMIN)
    client.post(f"/operations/{op}/fref", data={"reference": "F-1", "provider_id": market.of_b})
    assert ("error", "Ce besoin n'attend pas de décision hors marché.") in flashes(client)
    assert load(app, Operation, op).funding == Funding.LOT


def test_region_declines_with_a_reason(app, client, market, out_op):
    login_as(client, REGION_ADMIN)
    response = client.post(f"/operations/{out_op}/refus", data={"reason": "Hors priorités"})
    assert_back_on_page(response, out_op)
    assert ("success", "Décision enregistrée ; l'organisme est prévenu.") in flashes(client)
    operation = load(app, Operation, out_op)
    assert (operation.funding, operation.decline_reason) == (Funding.DECLINED, "Hors priorités")
    assert count(app, Notification, Notification.kind == "declined") == 1


def test_declining_needs_a_reason(app, client, out_op):
    login_as(client, REGION_ADMIN)
    assert_back_on_page(client.post(f"/operations/{out_op}/refus", data={"reason": ""}), out_op)
    assert ("error", REQUIRED) in flashes(client)
    assert load(app, Operation, out_op).funding == Funding.PENDING


@pytest.mark.parametrize("email", [OF_A, REGION_ADMIN])
def test_unmet_conditions_are_flashed_and_the_step_stays(app, client, op, email):
    login_as(client, email)
    response = client.post(f"/operations/{op}/etape", data={"target": "analysis"})
    assert_back_on_page(response, op)
    [(category, message)] = flashes(client)
    assert category == "error"
    assert "La Région n'a pas encore accusé réception du besoin." in message
    assert load(app, Operation, op).status == Status.NEED_REPORTED


def test_out_of_market_step_lists_every_unmet_condition(app, client, out_op):
    login_as(client, OF_B)
    client.post(f"/operations/{out_op}/etape", data={"target": "analysis"})
    [(_, message)] = flashes(client)
    assert "La Région n'a pas encore accusé réception du besoin." in message
    assert "Le besoin est hors marché" in message
    assert load(app, Operation, out_op).status == Status.NEED_REPORTED


@pytest.mark.parametrize("email", [OF_A, REGION_ADMIN])
def test_met_conditions_move_the_operation_on(app, client, op, email):
    acknowledge(app, op)
    login_as(client, email)
    response = client.post(f"/operations/{op}/etape", data={"target": "analysis"})
    assert_back_on_page(response, op)
    assert ("success", "L'opération passe à l'étape « Analyse des besoins ».") in flashes(client)
    assert load(app, Operation, op).status == Status.ANALYSIS
    with app.app_context():
        event = db.session.scalar(select(OperationEvent).where(OperationEvent.kind == "advanced"))
        assert event.detail == {"source": "need_reported", "target": "analysis"}


@pytest.mark.parametrize("target", ["", "n-importe-quoi", "closed", "co_design"])
def test_step_to_an_unknown_or_non_adjacent_status_changes_nothing(app, client, op, target):
    acknowledge(app, op)
    login_as(client, OF_A)
    response = client.post(f"/operations/{op}/etape", data={"target": target})
    assert response.status_code in (303, 400)
    if response.status_code == 303:
        assert ("error", "Cette étape ne suit pas l'étape actuelle de l'opération.") in flashes(
            client
        )
    assert load(app, Operation, op).status == Status.NEED_REPORTED


@pytest.mark.parametrize("email", [OF_A, REGION_ADMIN])
def test_cancelling_needs_a_reason_then_cancels(app, client, op, email):
    login_as(client, email)
    response = client.post(f"/operations/{op}/annulation", data={"reason": " ", "confirmed": "1"})
    assert response.status_code == 422
    assert REQUIRED in text(response)
    assert load(app, Operation, op).status == Status.NEED_REPORTED

    response = client.post(
        f"/operations/{op}/annulation", data={"reason": "Employeur parti", "confirmed": "1"}
    )
    assert_back_on_page(response, op)
    assert (
        "success",
        "Opération annulée ; les participants et la Région en sont informés.",
    ) in flashes(client)
    operation = load(app, Operation, op)
    assert (operation.status, operation.cancel_reason) == (Status.CANCELLED, "Employeur parti")


def test_cancelled_operation_cannot_be_cancelled_again(app, client, op):
    set_status(app, op, Status.CANCELLED)
    login_as(client, OF_A)
    client.post(f"/operations/{op}/annulation", data={"reason": "Encore"})
    assert (
        "error",
        "Une opération close ou déjà annulée ne peut pas être annulée.",
    ) in flashes(client)


# --- Editing the operation ---------------------------------------------------------------


def edit_form(**overrides) -> dict:
    data = {
        "title": "Agent·e de propreté et d'hygiène",
        "trades": "Agent d'entretien",
        "desired_start": "",
        "session_start": "2026-09-01",
        "session_end": "2027-01-31",
        "target_headcount": "10",
        "hours_centre": "420",
        "hours_company": "140",
        "certification_code": "rncp 34567",
        "certification_title": "Titre professionnel Agent de propreté et d'hygiène",
        "context": "Postes vacants.",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("email", [OF_A, REGION_ADMIN])
def test_edit_form_opens_with_the_current_values(client, op, email):
    login_as(client, email)
    response = client.get(f"/operations/{op}/modification")
    assert response.status_code == 200
    assert 'value="Agent·e de propreté et d\'hygiène"' in text(response)


@pytest.mark.parametrize("email", [EMPLOYER])
def test_edit_is_forbidden_to_participants_who_do_not_steer(app, client, op, email):
    login_as(client, email)
    assert client.get(f"/operations/{op}/modification").status_code == 403
    assert client.post(f"/operations/{op}/modification", data=edit_form()).status_code == 403
    assert load(app, Operation, op).session_start is None


@pytest.mark.parametrize("email", [OF_B, PARTNER])
def test_edit_is_404_for_outsiders(app, client, op, email):
    login_as(client, email)
    assert client.get(f"/operations/{op}/modification").status_code == 404
    assert client.post(f"/operations/{op}/modification", data=edit_form()).status_code == 404


@pytest.mark.parametrize("email", [OF_A, REGION_ADMIN])
def test_valid_edit_is_saved_with_a_timeline_event(app, client, op, email):
    login_as(client, email)
    response = client.post(f"/operations/{op}/modification", data=edit_form())
    assert_back_on_page(response, op)
    assert ("success", "Opération enregistrée.") in flashes(client)
    operation = load(app, Operation, op)
    assert operation.certification_code == "RNCP34567"
    assert (operation.target_headcount, operation.hours_centre) == (10, 420)
    assert str(operation.session_end) == "2027-01-31"
    with app.app_context():
        event = db.session.scalar(select(OperationEvent).where(OperationEvent.kind == "updated"))
        assert "certification_code" in event.detail["fields"]
        assert "title" not in event.detail["fields"]  # unchanged fields are not listed


def test_unchanged_edit_writes_no_event(app, client, op):
    login_as(client, OF_A)
    client.get(f"/operations/{op}/modification")
    data = edit_form(
        session_start="",
        session_end="",
        target_headcount="",
        hours_centre="",
        hours_company="",
        certification_code="",
        certification_title="",
        context="Postes vacants dans les résidences de Tours Nord.",
    )
    assert_back_on_page(client.post(f"/operations/{op}/modification", data=data), op)
    assert count(app, OperationEvent, OperationEvent.kind == "updated") == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"certification_code": "ABC"}, "Code attendu : RNCP suivi de chiffres"),
        ({"session_end": "2026-08-01"}, "La fin de session précède son début."),
        ({"title": ""}, REQUIRED),
        ({"target_headcount": "0"}, "Entre 1 et 200 stagiaires."),
        ({"certification_title": ""}, "Indiquez aussi l'intitulé de la certification."),
    ],
)
def test_invalid_edit_is_refused_in_french(app, client, op, change, message):
    login_as(client, OF_A)
    response = client.post(f"/operations/{op}/modification", data=edit_form(**change))
    assert response.status_code == 422
    page = text(response)
    assert message in page
    assert 'aria-invalid="true"' in page
    operation = load(app, Operation, op)
    assert (operation.session_start, operation.certification_code) == (None, "")
    assert count(app, OperationEvent, OperationEvent.kind == "updated") == 0


def test_closed_operation_cannot_be_edited(app, client, op):
    set_status(app, op, Status.CLOSED)
    login_as(client, OF_A)
    response = client.post(f"/operations/{op}/modification", data=edit_form())
    assert response.status_code == 422
    assert "Cette opération est close" in text(response)
    assert load(app, Operation, op).session_start is None
