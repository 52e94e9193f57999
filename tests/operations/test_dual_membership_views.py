"""The Région's page of people in two parties of one operation, over HTTP (issue #11 M6):
who sees it and who decides (the Région only: 403 for a participant, 404 outside the
operation), htmx, form errors kept, CSRF, a constant number of queries and the convention
page's mention. Requests served at once: test_dual_membership_races.py."""

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from portal.accounts import services as accounts
from portal.accounts.models import Organisation
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.operations.dual_models import DualDecision, DualMembershipApproval
from tests.conventions.factories import make_convention_ready
from tests.factories import make_user
from tests.operations.factories import OF_A, OF_B, REFERENT, REGION_ADMIN, Market
from tests.support import HTMX, committed, count, login_as, queries, snapshot, text

PAGE = "/operations/cumuls"
ORLEANS_REFERENT = "referente.orleans@example.fr"  # a Région member, not Tours'


def _situation_ids(operation, user, *organisations) -> SimpleNamespace:
    first, second = sorted(o.id for o in organisations)
    name = f"{user.id}-{first}-{second}"
    return SimpleNamespace(
        operation=operation.id,
        key=(operation.id, user.id, first, second),
        name=name,
        prefix=f"cumul-{operation.id}-{name}",
        url=f"/operations/{operation.id}/cumuls/decision",
    )


@pytest.fixture
def site(app) -> SimpleNamespace:
    """Organisme A's admin also joined Entreprise E; then the need is reported with both:
    a request waits (Tours, whose referent is told)."""
    with committed(app):
        market = Market()
        referente = make_user(market.region, email=ORLEANS_REFERENT)
        market.orleans.referent = referente
        accounts.add_membership(market.a_user, market.employer)
        operation = market.report()
        ids = _situation_ids(operation, market.a_user, market.of_a, market.employer)
        ids.of_a, ids.employer = market.of_a.id, market.employer.id
    return ids


def decision(site, choice: str, reason: str = "") -> dict:
    return {
        "situation": site.name,
        f"{site.prefix}-decision": choice,
        f"{site.prefix}-reason": reason,
    }


def request_row(app, site) -> DualMembershipApproval:
    with app.app_context():
        row = db.session.scalars(
            select(DualMembershipApproval).order_by(DualMembershipApproval.id.desc())
        ).first()
        db.session.expunge(row)
        return row


def test_the_region_approves_from_its_page(app, client, site):
    """#11 M6: the referent sees the request under its operation and approves it: the
    decision is recorded (audited, on the timeline) and the page no longer lists it."""
    login_as(client, REFERENT)
    page = text(client.get(PAGE))
    assert "Agent·e de propreté et d'hygiène" in page
    assert "Camille Martin est membre d'Organisme A et d'Entreprise E." in page
    response = client.post(site.url, data=decision(site, "approve"))
    assert response.status_code == 303 and response.headers["Location"].endswith(PAGE)
    row = request_row(app, site)
    assert row.decision == DualDecision.APPROVED and row.decided_at is not None
    assert count(app, AuditEvent, AuditEvent.action == "operation.dual_membership_approved") == 1
    page = text(client.get(PAGE))
    assert "Cumul approuvé : la convention le mentionne." in page
    assert "Aucun cumul d'appartenance à décider" in page


def test_a_refusal_needs_a_reason_and_htmx_gets_the_widget(app, client, site):
    """#11 M6: refusing without a reason keeps the form, the error under its field (422),
    nothing recorded; with a reason the widget shows the refusal, still listed."""
    login_as(client, REGION_ADMIN)
    before = snapshot(app)
    response = client.post(site.url, data=decision(site, "refuse", " "), headers=HTMX)
    body = text(response)
    assert response.status_code == 422 and body.lstrip().startswith("<")
    assert 'id="dual-memberships"' in body and "Indiquez le motif du refus." in body
    assert f'id="{site.prefix}-reason-error">Indiquez le motif du refus.' in body
    assert snapshot(app) == before
    response = client.post(site.url, data=decision(site, "refuse", "Il dirige les deux."))
    assert response.status_code == 303
    body = text(client.get(PAGE, headers=HTMX))
    assert "cumul refusé" in body and "Il dirige les deux." in body
    assert request_row(app, site).decision == DualDecision.REFUSED


def test_an_empty_form_is_refused_with_the_form_again(app, client, site):
    """#11 M6: no decision chosen: 422, the form and its error, nothing recorded."""
    login_as(client, REFERENT)
    response = client.post(site.url, data={"situation": site.name})
    assert response.status_code == 422
    assert "Choisissez une décision." in text(response)
    assert request_row(app, site).is_pending


@pytest.mark.parametrize(("email", "status"), [(OF_A, 403), (OF_B, 404)])
def test_only_the_region_decides(app, client, site, email, status):
    """#11 M6: a participant of the operation (the organisme porteur, even the person
    concerned) gets 403; another organisation 404 (the operation stays hidden); neither
    opens the page (403); nothing changes."""
    login_as(client, email)
    assert client.get(PAGE).status_code == 403
    before = snapshot(app)
    assert client.post(site.url, data=decision(site, "approve")).status_code == status
    assert snapshot(app) == before


def test_a_referent_of_another_bassin_neither_sees_nor_decides_it(app, client, site):
    """#11 M6: the Région member sees the operations she follows only (as everywhere)."""
    login_as(client, ORLEANS_REFERENT)
    assert "est membre d'Organisme A" not in text(client.get(PAGE))
    assert client.post(site.url, data=decision(site, "approve")).status_code == 404
    assert request_row(app, site).is_pending


def test_anonymous_csrf_and_an_unknown_situation(app, client, site):
    """#11 M6: anonymous visitors go to the login page; a post without CSRF token is
    refused (400) and changes nothing; a situation that is not one of the operation is 404."""
    assert client.get(PAGE).headers["Location"].startswith("/connexion")
    login_as(client, REGION_ADMIN)
    before = snapshot(app)
    response = client.post(site.url, data=decision(site, "approve"), csrf=False)
    assert response.status_code == 400 and snapshot(app) == before
    wrong = {**decision(site, "approve"), "situation": "1-2"}
    assert client.post(site.url, data=wrong).status_code == 404
    gone = SimpleNamespace(name="999-1-2", prefix=f"cumul-{site.operation}-999-1-2")
    response = client.post(site.url, data=decision(gone, "approve"))
    assert response.status_code == 422 and "plus rien à décider" in text(response)
    assert snapshot(app) == before


def test_the_page_costs_the_same_queries_whatever_the_number_of_situations(app, client, site):
    """#11 M6: five queries for the situations, whatever their number and operations."""
    login_as(client, REGION_ADMIN)
    few = queries(app, client, PAGE)
    with committed(app):
        employer = db.session.get(Organisation, site.employer)
        for n in range(4):
            person = make_user(db.session.get(Organisation, site.of_a), email=f"d{n}@example.fr")
            accounts.add_membership(person, employer)
    many = queries(app, client, PAGE)
    assert text(client.get(PAGE)).count("est membre d'Organisme A et d'Entreprise E") == 5
    assert len(many) == len(few)


def test_the_convention_page_shows_the_cumul_then_its_mention(app, client):
    """#11 M6: on the convention page, the cumul « à approuver par la Région », then the
    mention once approved."""
    with committed(app):
        ready = make_convention_ready()
        market = ready.market
        accounts.add_membership(market.employer_user, market.partner)
        ids = _situation_ids(ready.operation, market.employer_user, market.employer, market.partner)
    login_as(client, OF_A)
    page = text(client.get(f"/operations/{ids.operation}/convention"))
    assert "à approuver par la Région" in page
    assert "Camille Martin est membre d'Entreprise E et de Partenaire P : ce cumul attend" in page
    assert "Cumul d'appartenance à faire approuver par la Région" in page  # submission
    login_as(client, REFERENT)
    assert client.post(ids.url, data=decision(ids, "approve")).status_code == 303
    login_as(client, OF_A)
    page = text(client.get(f"/operations/{ids.operation}/convention"))
    assert "Camille Martin est membre d'Entreprise E et de Partenaire P ; cumul approuvé par" in (
        page
    )
    assert "à approuver par la Région" not in page
