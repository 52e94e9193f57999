"""« 1 stagiaire pour 1 promesse » counts lasting promises only, and a non-lasting one once
the Région accepts it with a reason (issue #12 §2): the rule in Python and SQL, the
Région's decision (recorded, audited, told, for the contract it was given for), the
recruitment page listing the others apart, the convention page and its DOCX saying it,
a convention frozen before the change not « changed » by it, and the page over HTTP."""

import pytest
from sqlalchemy import select

from portal.accounts.models import Organisation
from portal.audit.models import AuditEvent
from portal.conventions import snapshot as snapshots
from portal.conventions.documents import convention_docx
from portal.core.employment import ContractType
from portal.core.errors import RuleError
from portal.extensions import db
from portal.notifications.models import Notification
from portal.operations.models import EmployerNeed, Operation, OperationEvent, Position, Status
from portal.recruitment import lasting, queries, services
from portal.recruitment.models import JobPromise, PromiseAcceptance
from tests.conventions.factories import make_convention_ready
from tests.conventions.helpers_documents import read_docx, table_rows
from tests.operations.factories import EMPLOYER, OF_A, OF_B, REFERENT, REGION_ADMIN, Market
from tests.recruitment.factories import add_positions, make_recruiting_operation
from tests.support import HTMX, count, login_as, text, user_with

REASON = "Poste saisonnier proposé en CDI à l'issue."


def acting(email: str) -> dict:
    user = user_with(email)
    return {"by": user, "org": user.memberships[0].organisation}


@pytest.fixture
def short(ctx):
    """An operation recruiting on Entreprise E's 2 CDI and F's CDD of 12 months, plus a CDD
    of 4 months at E (two jobs) and an apprenticeship of 24 months at F."""
    market = Market()
    operation = make_recruiting_operation(market)
    cdd = add_positions(
        operation, market.employer, "Renfort", 2, ContractType.CDD, duration_months=4
    )
    add_positions(
        operation,
        market.employer2,
        "Apprenti·e",
        1,
        ContractType.APPRENTICESHIP,
        duration_months=24,
    )
    services.create_promises(operation)
    return market, operation, cdd


def test_the_rule_counts_lasting_promises_and_lists_the_others_apart(short):
    _market, operation, cdd = short
    figures = queries.figures(operation)
    assert (figures.promises, figures.apart) == (4, 2)  # 2 CDI, CDD 12, apprenticeship 24
    promises = db.session.scalars(select(JobPromise).where(JobPromise.position_id == cdd.id))
    explanation = lasting.apart_explanation(next(iter(promises)))
    assert explanation.startswith("CDD de 4 mois n'est pas un emploi durable")
    assert "tant que la Région ne l'a pas acceptée avec un motif" in explanation


def test_the_region_accepts_with_a_reason_and_the_promises_count(short):
    market, operation, cdd = short
    acceptance = lasting.accept_non_lasting(cdd, f"  {REASON} ", **acting(REFERENT))
    assert (acceptance.reason, acceptance.contract_type, acceptance.duration_months) == (
        REASON,
        ContractType.CDD,
        4,
    )
    figures = queries.figures(operation)
    assert (figures.promises, figures.apart) == (6, 0)
    audit = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "promise.non_lasting_accepted")
    )
    assert audit.detail["contract"] == "cdd" and audit.detail["months"] == 4
    event = db.session.scalar(
        select(OperationEvent).where(OperationEvent.kind == "non_lasting_accepted")
    )
    assert event.detail["reason"] == REASON and event.detail["contract"] == "CDD de 4 mois"
    told = set(
        db.session.scalars(
            select(Notification.user_id).where(Notification.kind == "non_lasting_accepted")
        )
    )
    assert told == {market.employer_user.id, market.a_user.id}
    with pytest.raises(RuleError, match="La Région a déjà accepté cette promesse"):
        lasting.accept_non_lasting(cdd, REASON, **acting(REFERENT))


def test_an_acceptance_holds_for_the_contract_it_was_given_for(short):
    _market, operation, cdd = short
    lasting.accept_non_lasting(cdd, REASON, **acting(REFERENT))
    cdd.duration_months = 5  # the employer says another contract: the Région decides again
    for promise in db.session.scalars(select(JobPromise).where(JobPromise.position_id == cdd.id)):
        promise.duration_months = 5
    db.session.flush()
    assert queries.figures(operation).apart == 2
    assert lasting.holding(lasting.acceptances(operation)[cdd.id], cdd) is None
    again = lasting.accept_non_lasting(cdd, "Cinq mois, accepté aussi.", **acting(REFERENT))
    assert again.duration_months == 5
    assert count_rows(PromiseAcceptance) == 1


def count_rows(model) -> int:
    return len(db.session.scalars(select(model)).all())


@pytest.mark.parametrize(
    ("who", "reason", "message"),
    [
        (OF_A, REASON, "Seule la Région accepte une promesse d'emploi non durable."),
        (EMPLOYER, REASON, "Seule la Région accepte une promesse d'emploi non durable."),
        (REFERENT, "   ", "Indiquez le motif de l'acceptation."),
    ],
)
def test_only_the_region_accepts_and_with_a_reason(short, who, reason, message):
    _market, _operation, cdd = short
    with pytest.raises(RuleError) as refused:
        lasting.accept_non_lasting(cdd, reason, **acting(who))
    assert refused.value.message == message


def test_a_lasting_contract_or_a_closed_operation_needs_no_decision(short):
    _market, operation, cdd = short
    lasting_position = db.session.scalar(
        select(Position).where(Position.contract_type == ContractType.CDI)
    )
    with pytest.raises(RuleError, match="Ce contrat est un emploi durable"):
        lasting.accept_non_lasting(lasting_position, REASON, **acting(REFERENT))
    operation.status = Status.CLOSED
    with pytest.raises(RuleError, match="Cette opération est close"):
        lasting.accept_non_lasting(cdd, REASON, **acting(REFERENT))


# --- The convention ----------------------------------------------------------------------


def test_the_convention_says_lasting_or_accepted_and_its_docx_too(ctx):
    ready = make_convention_ready(second_employer=True)
    [cdd_12] = [p for p in _positions(ready.operation) if p.contract_type == ContractType.CDD]
    short = add_positions(
        ready.operation, ready.market.employer, "Renfort", 1, ContractType.CDD, duration_months=3
    )
    interim = add_positions(
        ready.operation, ready.market.employer, "Quai", 1, ContractType.INTERIM, duration_months=2
    )
    lasting.accept_non_lasting(short, REASON, **acting(REFERENT))
    promises = {
        p["position_id"]: p for p in snapshots.build_snapshot(ready.operation, "R")["promises"]
    }
    assert promises[cdd_12.id]["contract_title"] == "CDD de 12 mois"
    assert promises[cdd_12.id]["lasting"] is True
    assert (promises[short.id]["lasting"], promises[short.id]["region_acceptance"]) == (
        False,
        REASON,
    )
    assert promises[interim.id]["region_acceptance"] == ""
    version = ready.submit()
    rows = table_rows(read_docx(convention_docx(version)).tables[2])
    assert rows[0][5] == "Emploi durable"
    by_job = {row[1]: row for row in rows[1:-1]}
    assert by_job["Renfort"][4:6] == ["CDD de 3 mois", f"Non — acceptée par la Région : {REASON}"]
    assert by_job["Quai"][5].startswith("Non — ne compte pas pour « 1 stagiaire pour 1 promesse »")
    assert rows[-1][:4] == ["Total", "", "", "7"]


def _positions(operation: Operation) -> list[Position]:
    needs = db.session.scalars(
        select(EmployerNeed).where(EmployerNeed.operation_id == operation.id)
    )
    return [p for need in needs for p in need.positions]


def test_a_version_frozen_before_the_change_is_not_changed_by_it(ctx):
    """A format 1 snapshot (« CDD de 6 mois ou plus », no duration) compares equal to what
    the migrated data says now: no amendment is asked for the migration alone."""
    ready = make_convention_ready(second_employer=True)
    new = snapshots.build_snapshot(ready.operation, "R")
    old = {
        **new,
        "format": 1,
        "promises": [
            {
                k: v
                for k, v in p.items()
                if k not in ("duration_months", "lasting", "region_acceptance")
            }
            | (
                {"contract_type": "cdd_long", "contract_title": "CDD de 6 mois ou plus"}
                if p["contract_type"] == "cdd"
                else {}
            )
            for p in new["promises"]
        ],
    }
    for position in _positions(ready.operation):
        if position.contract_type == ContractType.CDD:
            position.duration_months = 6  # what the migration gives « CDD de 6 mois ou plus »
    db.session.flush()
    assert snapshots.changed_parts(old, snapshots.build_snapshot(ready.operation, "R")) == []
    old["promises"][0]["count"] += 1
    assert snapshots.changed_parts(old, snapshots.build_snapshot(ready.operation, "R")) == [
        "promises"
    ]


# --- The page ----------------------------------------------------------------------------


def url(rec, position_id=None) -> str:
    base = f"/operations/{rec.op}/recrutement/promesses-non-durables"
    return base if position_id is None else f"{base}/{position_id}"


@pytest.fixture
def apart(app, rec):
    """The recruitment world with a 3-month intérim promised by Entreprise E."""
    with app.test_request_context():
        operation = db.session.get(Operation, rec.op)
        employer = db.session.get(Organisation, rec.employer)
        position = add_positions(
            operation, employer, "Quai", 1, ContractType.INTERIM, duration_months=3
        )
        services.create_promises(operation)
        db.session.commit()
        rec.position = position.id
    return rec


def test_the_recruitment_page_lists_the_apart_promise(client, apart):
    login_as(client, OF_A)
    page = text(client.get(f"/operations/{apart.op}/recrutement"))
    block = page.split('id="apart-title"', 1)[1].split("</section>", 1)[0]
    assert (
        "Entreprise E — Quai" in block and "Intérim de 3 mois n'est pas un emploi durable" in block
    )
    assert "1 promesse(s) d'emploi non durable(s)" in page
    open_block = page.split('id="open-promises-title"', 1)[1].split("</section>", 1)[0]
    assert "Quai" not in open_block


def test_the_region_accepts_in_place(app, client, apart):
    login_as(client, REGION_ADMIN)
    page = text(client.get(url(apart)))
    assert "Aucune : promesse listée à part" in page and "Accepter cette promesse" in page
    data = {f"accept-{apart.position}-reason": REASON}
    response = client.post(url(apart, apart.position), data=data, headers=HTMX)
    body = text(response)
    assert response.status_code == 200 and "Vary" in response.headers
    assert body.lstrip().startswith(f'<section id="non-lasting-{apart.position}"')
    assert "Acceptation enregistrée" in body and REASON in body
    again = client.post(url(apart, apart.position), data=data)  # the page again, refused
    assert again.status_code == 422 and "<h1>Promesses d'emploi non durables</h1>" in text(again)
    assert count(app, PromiseAcceptance) == 1


def test_a_reason_is_required(app, client, apart):
    login_as(client, REGION_ADMIN)
    data = {f"accept-{apart.position}-reason": ""}
    response = client.post(url(apart, apart.position), data=data, headers=HTMX)
    assert response.status_code == 422 and "Ce champ est obligatoire." in text(response)
    assert count(app, PromiseAcceptance) == 0


@pytest.mark.parametrize("who", [OF_A, EMPLOYER])
def test_participants_read_the_page_but_only_the_region_accepts(app, client, apart, who):
    login_as(client, who)
    page = text(client.get(url(apart)))
    assert "Intérim de 3 mois n'est pas un emploi durable" in page
    assert "Accepter cette promesse" not in page
    data = {f"accept-{apart.position}-reason": REASON}
    assert client.post(url(apart, apart.position), data=data).status_code == 403
    assert count(app, PromiseAcceptance) == 0


def test_outsiders_anonymous_csrf_and_another_operations_position(app, client, apart):
    data = {f"accept-{apart.position}-reason": REASON}
    assert client.get(url(apart)).location.startswith("/connexion")
    login_as(client, OF_B)
    assert client.get(url(apart)).status_code == 404
    assert client.post(url(apart, apart.position), data=data).status_code == 404
    login_as(client, REGION_ADMIN)
    assert client.post(url(apart, apart.position), data=data, csrf=False).status_code == 400
    assert client.post(url(apart, 999_999), data=data).status_code == 404
    assert count(app, PromiseAcceptance) == 0
