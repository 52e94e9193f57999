"""The evaluation pages over HTTP: who reads and who acts (404 outside the operation, 403
inside it), htmx fragments, form errors kept, CSRF, the written parts through the design
routes, the DOCX."""

from io import BytesIO
from types import SimpleNamespace

import pytest
from docx import Document
from sqlalchemy import select

from portal.assessment.models import Assessment, AssessmentStatus, Bonus, BonusStatus
from portal.extensions import db
from tests.assessment.factories import TEXTS, Evaluated
from tests.followup.factories import OUTSIDER
from tests.operations.factories import EMPLOYER, OF_A, OF_B, PARTNER, REFERENT, REGION_ADMIN
from tests.support import HTMX, committed, login_as, text

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def build(app, *, opened=True, written=False, submitted=False, bonus=False) -> SimpleNamespace:
    """Organisme A's operation in follow-up, +6 months answered, driven as far as asked."""
    with committed(app):
        world = Evaluated()
        if opened:
            world.open()
        if written:
            world.write()
        if submitted:
            world.submit()
        if bonus:
            world.request_bonus()
        ids = SimpleNamespace(operation=world.operation.id)
    ids.base = f"/operations/{ids.operation}/evaluation"
    return ids


@pytest.fixture
def site(app):
    return build(app)


def assessment_of(app, site) -> Assessment:
    with app.app_context():
        row = db.session.scalar(select(Assessment).where(Assessment.operation_id == site.operation))
        db.session.expunge(row)
        return row


def bonus_of(app, site) -> Bonus | None:
    with app.app_context():
        row = db.session.scalar(select(Bonus).where(Bonus.operation_id == site.operation))
        if row is not None:
            db.session.expunge(row)
        return row


# --- Reading -----------------------------------------------------------------------------


@pytest.mark.parametrize("email", [OF_A, REGION_ADMIN, REFERENT, EMPLOYER, PARTNER])
def test_participants_read_the_page_and_the_docx(client, site, email):
    login_as(client, email)
    page = client.get(site.base)
    assert page.status_code == 200
    body = text(page)
    assert "Évaluation de l'opération" in body
    assert "Recrutement, formation et certification" in body
    assert "Ce qui a fonctionné" in body
    document = client.get(f"{site.base}/document.docx")
    assert document.status_code == 200
    assert document.mimetype == DOCX


@pytest.mark.parametrize("email", [OF_B, OUTSIDER])
def test_other_organisations_get_404(client, site, email):
    login_as(client, email)
    assert client.get(site.base).status_code == 404
    assert client.get(f"{site.base}/document.docx").status_code == 404
    assert client.post(f"{site.base}/soumission").status_code == 404
    assert client.post(f"{site.base}/prime", data={"justification": "x"}).status_code == 404


@pytest.mark.parametrize("htmx", [False, True])
def test_an_employer_may_not_submit_the_evaluation(app, client, htmx):
    site = build(app, written=True)
    login_as(client, EMPLOYER)
    response = client.post(f"{site.base}/soumission", headers=HTMX if htmx else {})
    assert response.status_code == 403
    assert assessment_of(app, site).status == AssessmentStatus.DRAFT


@pytest.mark.parametrize("htmx", [False, True])
def test_an_employer_may_not_withdraw_the_prime_request(app, client, htmx):
    site = build(app, written=True, submitted=True, bonus=True)
    login_as(client, EMPLOYER)
    response = client.post(f"{site.base}/prime/retrait", headers=HTMX if htmx else {})
    assert response.status_code == 403
    assert bonus_of(app, site).status == BonusStatus.REQUESTED


def test_htmx_gets_the_state_widget_only(client, site):
    login_as(client, OF_A)
    response = client.get(site.base, headers=HTMX)
    body = text(response)
    assert body.lstrip().startswith("<") and 'id="assessment-status"' in body
    assert "<html" not in body
    assert "HX-Request" in response.headers["Vary"]


def test_the_operation_page_shows_the_card(client, site):
    login_as(client, EMPLOYER)
    body = text(client.get(f"/operations/{site.operation}"))
    assert "Évaluation et prime DEFI" in body and "non demandée" in body


# --- Opening and writing -----------------------------------------------------------------


def test_the_carrier_opens_the_evaluation(app, client):
    site = build(app, opened=False)
    login_as(client, EMPLOYER)
    assert client.post(f"{site.base}/ouverture").status_code == 403
    login_as(client, OF_A)
    response = client.post(f"{site.base}/ouverture", headers=HTMX)
    assert response.status_code == 200
    assert "Évaluation ouverte" in text(response)
    assert assessment_of(app, site).status == AssessmentStatus.DRAFT
    again = client.post(f"{site.base}/ouverture", headers=HTMX)
    assert again.status_code == 422 and "déjà ouverte" in text(again)


def test_a_part_is_written_through_the_design_routes(app, client, site):
    login_as(client, OF_A)
    section = f"/operations/{site.operation}/conception/eval_worked"
    edit = client.get(f"{section}/modification")
    assert edit.status_code == 200
    assert "Évaluation de l'opération" in text(edit)
    data = {"eval_worked-text": "Les immersions.", "base_version": "1"}
    response = client.post(section, data=data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"{site.base}#section-eval_worked")
    assert "Les immersions." in text(client.get(site.base))


def test_employers_comment_but_do_not_write(app, client, site):
    login_as(client, EMPLOYER)
    section = f"/operations/{site.operation}/conception/eval_worked"
    response = client.post(section, data={"eval_worked-text": "Non.", "base_version": "1"})
    assert response.status_code == 403


def test_submission_waits_for_the_written_parts(app, client, site):
    login_as(client, OF_A)
    response = client.post(f"{site.base}/soumission", headers=HTMX)
    assert response.status_code == 422
    assert "Parties à rédiger" in text(response)
    assert assessment_of(app, site).status == AssessmentStatus.DRAFT


# --- Submitting and deciding -------------------------------------------------------------


def test_submit_then_the_region_sends_back_then_accepts(app, client):
    site = build(app, written=True)
    login_as(client, REGION_ADMIN)
    assert client.post(f"{site.base}/soumission").status_code == 403
    login_as(client, OF_A)
    response = client.post(f"{site.base}/soumission")
    assert response.status_code == 303
    assert assessment_of(app, site).status == AssessmentStatus.SUBMITTED
    accept = {"evaluation-decision": "accept"}
    assert client.post(f"{site.base}/decision", data=accept).status_code == 403
    login_as(client, REFERENT)
    no_comment = {"evaluation-decision": "send_back"}
    missing = client.post(f"{site.base}/decision", data=no_comment, headers=HTMX)
    assert missing.status_code == 422
    assert "Dites ce qui est à reprendre" in text(missing)
    back = {"evaluation-decision": "send_back", "evaluation-comment": "Précisez les difficultés."}
    assert client.post(f"{site.base}/decision", data=back, headers=HTMX).status_code == 200
    assert assessment_of(app, site).status == AssessmentStatus.CHANGES_REQUESTED
    login_as(client, OF_A)
    assert "Précisez les difficultés." in text(client.get(site.base))
    assert client.post(f"{site.base}/soumission").status_code == 303
    login_as(client, REFERENT)
    client.post(f"{site.base}/decision", data=accept)
    assert assessment_of(app, site).status == AssessmentStatus.ACCEPTED


def test_a_decision_without_choice_is_a_form_error(app, client):
    site = build(app, written=True, submitted=True)
    login_as(client, REGION_ADMIN)
    response = client.post(f"{site.base}/decision", data={})
    assert response.status_code == 422
    assert "Choisissez une décision." in text(response)


DECISIONS = [
    pytest.param(
        "/decision",
        {"evaluation-decision": "accept"},
        {"opened": False},
        ("Vérifiez la décision.", "L'évaluation n'est pas ouverte."),
        id="evaluation",
    ),
    pytest.param(
        "/prime/decision",
        {"prime-decision": "grant", "prime-amount_euros": "10"},
        {},
        ("Vérifiez la décision sur la prime.", "Aucune prime DEFI n'est demandée."),
        id="prime",
    ),
]


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize(("path", "data", "built", "messages"), DECISIONS)
def test_the_region_s_two_decisions_answer_alike(app, client, path, data, built, messages, htmx):
    """Review of #11: the decisions on the evaluation and on the prime share one helper (the
    two blocks were copies): the organisme gets 403; the Région, for an empty form, the
    widget again saying to check the decision (422), and where there is nothing to decide,
    why (422) — with htmx or without."""
    invalid, missing = messages
    site = build(app, **built)
    headers = HTMX if htmx else {}
    login_as(client, OF_A)
    assert client.post(site.base + path, data=data, headers=headers).status_code == 403
    login_as(client, REFERENT)
    empty = client.post(site.base + path, data={}, headers=headers)
    assert empty.status_code == 422 and invalid in text(empty)
    assert 'id="assessment-status"' in text(empty)
    nothing = client.post(site.base + path, data=data, headers=headers)
    assert nothing.status_code == 422 and missing in text(nothing)


# --- The prime DEFI ----------------------------------------------------------------------


def test_the_carrier_requests_and_the_region_grants(app, client, site):
    login_as(client, EMPLOYER)
    assert client.post(f"{site.base}/prime", data={"justification": "x"}).status_code == 403
    login_as(client, OF_A)
    empty = client.post(f"{site.base}/prime", data={"justification": ""}, headers=HTMX)
    assert empty.status_code == 422 and "Justifiez la demande." in text(empty)
    data = {"justification": "Plateau technique de l'employeur."}
    assert client.post(f"{site.base}/prime", data=data).status_code == 303
    grant_only = {"prime-decision": "grant"}
    assert client.post(f"{site.base}/prime/decision", data=grant_only).status_code == 403
    login_as(client, REGION_ADMIN)
    no_amount = client.post(f"{site.base}/prime/decision", data={"prime-decision": "grant"})
    assert no_amount.status_code == 422
    assert "supérieur à zéro" in text(no_amount)
    negative = {"prime-decision": "grant", "prime-amount_euros": "-3"}
    assert client.post(f"{site.base}/prime/decision", data=negative).status_code == 422
    bad = {"prime-decision": "grant", "prime-amount_euros": "trois"}
    assert client.post(f"{site.base}/prime/decision", data=bad).status_code == 422
    grant = {"prime-decision": "grant", "prime-amount_euros": "2500"}
    assert client.post(f"{site.base}/prime/decision", data=grant).status_code == 303
    bonus = bonus_of(app, site)
    assert (bonus.status, bonus.amount_euros) == (BonusStatus.GRANTED, 2500)
    # Employers see the decision, not the justification.
    login_as(client, EMPLOYER)
    body = text(client.get(site.base))
    assert "2500 €" in body and "Plateau technique" not in body


def test_the_carrier_withdraws_its_request(app, client):
    site = build(app, bonus=True)
    login_as(client, OF_A)
    response = client.post(f"{site.base}/prime/retrait", headers=HTMX)
    assert response.status_code == 200 and "retirée" in text(response)
    assert bonus_of(app, site).status == BonusStatus.WITHDRAWN
    # The widget and the operation's card read the status's flags (review of #11).
    assert "Aucune prime DEFI demandée." in text(response)
    card = text(client.get(f"/operations/{site.operation}"))
    assert "non demandée" in card.split("assessment-card-title", 1)[1]


def test_the_bonus_status_flags():
    """Review of #11: the templates read these flags rather than comparing strings."""
    assert [s for s in BonusStatus if s.granted] == [BonusStatus.GRANTED]
    assert [s for s in BonusStatus if not s.stands] == [BonusStatus.WITHDRAWN]


def test_a_refusal_without_reason_keeps_the_form(app, client):
    site = build(app, bonus=True)
    login_as(client, REFERENT)
    response = client.post(f"{site.base}/prime/decision", data={"prime-decision": "refuse"})
    assert response.status_code == 422
    assert "Indiquez le motif du refus." in text(response)
    assert bonus_of(app, site).status == BonusStatus.REQUESTED


# --- CSRF and the DOCX -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/ouverture", {}),
        ("/soumission", {}),
        ("/decision", {"evaluation-decision": "accept"}),
        ("/prime", {"justification": "x"}),
        ("/prime/retrait", {}),
        ("/prime/decision", {"prime-decision": "grant", "prime-amount_euros": "10"}),
    ],
)
def test_posts_without_csrf_are_refused(app, client, path, data):
    site = build(app, written=True, submitted=True, bonus=True)
    login_as(client, OF_A)
    response = client.post(f"{site.base}{path}", data=data, csrf=False)
    assert response.status_code in (400, 422)
    assert assessment_of(app, site).status == AssessmentStatus.SUBMITTED
    assert bonus_of(app, site).status == BonusStatus.REQUESTED


def test_the_docx_holds_the_tables_the_parts_and_the_prime(app, client):
    site = build(app, written=True, submitted=True, bonus=True)
    login_as(client, REGION_ADMIN)
    client.post(f"{site.base}/decision", data={"evaluation-decision": "accept"})
    grant = {"prime-decision": "grant", "prime-amount_euros": "3000"}
    client.post(f"{site.base}/prime/decision", data=grant)
    data = client.get(f"{site.base}/document.docx").data
    document = Document(BytesIO(data))
    paragraphs = [p.text for p in document.paragraphs]
    for key, written in TEXTS.items():
        assert key.title in paragraphs and written in paragraphs
    assert "Accordée par la Région le" in " ".join(paragraphs)
    assert "3 000 €" in " ".join(paragraphs)
    cells = [[c.text for c in row.cells] for t in document.tables for row in t.rows]
    assert ["Stagiaires recruté·es", "3"] in cells
    assert ["Effectif ciblé", "3"] in cells
    assert ["Recruté·es / effectif ciblé", "100 %"] in cells
    # +6 months: three followed, three retained, three in a lasting job at the promiser.
    assert any(row[1:] == ["3", "3", "3", "3", "100 %", "3"] for row in cells)
    assert any(row[0] == "Entreprise E" for row in cells)
    # Same state, same bytes.
    assert client.get(f"{site.base}/document.docx").data == data
