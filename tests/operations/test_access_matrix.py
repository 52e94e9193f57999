"""Access matrix of the ``operations`` blueprint (and of the operation's archive, which the
organisme porteur and the Région download) on the demo data.

Every route is read from ``app.url_map`` at collection time, so a new route is checked
without anyone adding it here:

- each demo account, on each demo operation its organisation does not take part in, gets
  404 on every route and method (GET and POST with a valid CSRF token) — the operation's
  existence stays hidden — and nothing changes in the database;
- on the operations it takes part in, each GET route opens (200), except the routes listed
  in ``RESTRICTED_GET``, which answer 403 to the participants they are not meant for.

A route whose URL carries an id besides the operation's must be declared in
``SPECIAL_ID_ROUTES`` with what that id designates; until then the tests fail naming it.
"""

import re
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.accounts.models import Membership, Organisation, OrgKind, User
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.notifications.models import Notification
from portal.operations import needs
from portal.operations.models import (
    ContractType,
    DiagnosisFigure,
    EmployerNeed,
    NeedsAnalysis,
    Operation,
    OperationEvent,
    Participant,
    ParticipantRole,
    Position,
)
from tests.support import app_config, empty_database, load_demo_copy, login_as

DOMAIN = "demo.defi.test"
LOGISTICS = "Préparateur·rice de commandes et cariste"  # Orléans, carried by Forma'Centre
CLEANING = "Agent·e de propreté et d'hygiène"  # Tours, carried by Touraine Compétences
PRODUCTION = "Opérateur·rice de production"  # Châteauroux, FREF, carried by Forma'Centre
HOME_CARE = "Assistant·e de vie aux familles"  # Orléans, just reported, Forma'Centre
RUNNING = "Préparateur·rice de commandes — session de Saran"  # Orléans, in training
# Orléans, a previous session in employment follow-up, same partners as the running one.
FOLLOW_UP = "Préparateur·rice de commandes — session d'Ingré"
CLOSED = "Préparateur·rice de commandes — session de Fleury"
# Closed before the portal, taken over as history (portal/demo/history.py): Tours and Blois
# carried by Touraine Compétences, Chartres by Forma'Centre; their employers have no account.
BUILDING = "Prépa Métiers — découverte des métiers du bâtiment, session de Joué-lès-Tours"
GARDENS = "Chantier formation — aménagement des espaces verts, session de Blois"
INDUSTRY = "Prépa Métiers — industrie et logistique, session de Chartres"
ALL = {
    LOGISTICS, CLEANING, PRODUCTION, HOME_CARE, RUNNING, FOLLOW_UP, CLOSED, BUILDING, GARDENS,
    INDUSTRY,
}  # fmt: skip

# Which demo operations each account sees, written from the demo's story (portal/demo/),
# not from the code under test. of@ belongs to two organismes and acts for the first one,
# Forma'Centre Loiret. The Région's admin sees every operation; a referent, the bassin's.
SEES = {
    "region": ALL,
    "referent.orleans": {LOGISTICS, HOME_CARE, RUNNING, FOLLOW_UP, CLOSED},
    "referente.tours": {CLEANING, BUILDING},
    "of": {LOGISTICS, PRODUCTION, HOME_CARE, RUNNING, FOLLOW_UP, CLOSED, INDUSTRY},
    "of2": {CLEANING, BUILDING, GARDENS},
    "employeur": {LOGISTICS, RUNNING, FOLLOW_UP, CLOSED},
    # a tutor of Transports et Logistique du Loiret
    "tuteur": {LOGISTICS, RUNNING, FOLLOW_UP, CLOSED},
    "partenaire": {LOGISTICS, RUNNING, FOLLOW_UP, CLOSED},  # France Travail
}
# Who drives each operation (edits it, its participants and its analysis): its organisme
# porteur and the Région.
STEERS = {
    "region": ALL,
    "referent.orleans": {LOGISTICS, HOME_CARE, RUNNING, FOLLOW_UP, CLOSED},
    "referente.tours": {CLEANING, BUILDING},
    "of": {LOGISTICS, PRODUCTION, HOME_CARE, RUNNING, FOLLOW_UP, CLOSED, INDUSTRY},
    "of2": {CLEANING, BUILDING, GARDENS},
}

# Routes whose URL carries ids besides ``operation_id``. What each id designates, in the
# operation at hand, is built by ``url_values`` below:
#   org_id         an employer taking part (the current organisation when it is one);
#   position_id    a position of that employer's need;
#   figure_id      a key figure of the operation's territorial diagnosis;
#   participant_id a participant that is not there by right (an employer).
SPECIAL_ID_ROUTES = {
    "operations.edit_employer_need": {"org_id"},
    "operations.add_position": {"org_id"},
    "operations.remove_position": {"org_id", "position_id"},
    "operations.keep_position": {"org_id", "position_id"},
    "operations.remove_figure": {"figure_id"},
    "operations.withdraw_participant": {"participant_id"},
    "operations.keep_participant": {"participant_id"},
}
# GET routes of an operation that not every participant may open (the others get 403).
RESTRICTED_GET = {
    "operations.edit_operation": "steer",  # the operation's details
    "operations.edit_analysis": "steer",  # publics, diagnosis, adaptations
    "operations.edit_employer_need": "own need",  # only the employer edits its need
    # The archive names every trainee: the organisme porteur and the Région only. Its zip
    # is a link once the operation is closed; before, a GET leads to the page (303), whose
    # button (POST) makes a provisional archive.
    "archive.show_archive": "steer",
    "archive.download_archive": "steer, closed",
}
# The operations closed in the demo (Fleury, and the history taken over).
CLOSED_OPERATIONS = {CLOSED, BUILDING, GARDENS, INDUSTRY}
# Routes outside any operation, and who may open them with GET.
NOT_OF_AN_OPERATION = {
    "operations.list_operations": {OrgKind.REGION, OrgKind.PROVIDER, OrgKind.EMPLOYER,
                                   OrgKind.PARTNER},
    "operations.report_need": {OrgKind.REGION, OrgKind.PROVIDER},
    # The people in two parties of an operation: the Région decides (issue #11 M6).
    "operations.list_dual_memberships": {OrgKind.REGION},
}  # fmt: skip

# A body with a plausible value for every field of the blueprint's forms, so that a request
# wrongly accepted would really change something (and the unchanged database would show it).
PLAUSIBLE_FORM = {
    "comment": "Intrusion",
    "reason": "Intrusion",
    "reference": "FREF-INTRUS",
    "target": "analysis",
    "title": "Titre modifié par un intrus",
    "context": "Intrusion",
    "role": "opco",
    "name": "Organisation intruse",
    "email": "intrus@example.fr",
    "job_title": "Poste intrus",
    "rome_code": "K2204",
    "count": "3",
    "contract_type": "cdi",
    "skills": "Intrusion",
    "label": "Chiffre intrus",
    "value": "42",
    "source": "Intrusion",
    "answer": "Intrusion",
    "target_publics": "youth",
    "adaptations": "Intrusion",
}

URL_ARGUMENT = re.compile(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>")
# The blueprints walked: the operations', and the archive's (an operation's documents).
BLUEPRINTS = ("operations.", "archive.")
RULES = sorted(
    (
        rule
        for rule in create_app(app_config("sqlite://")).url_map.iter_rules()
        if rule.endpoint.startswith(BLUEPRINTS)
    ),
    key=lambda rule: (rule.rule, rule.endpoint),
)
OPERATION_RULES = [rule for rule in RULES if "operation_id" in rule.arguments]
METHODS = ("GET", "POST")


def _cases(rules, methods=METHODS) -> list:
    return [
        pytest.param(rule, method, id=f"{rule.endpoint}-{method}")
        for rule in rules
        for method in methods
        if method in rule.methods
    ]


# --- The demo world ----------------------------------------------------------------------


@dataclass
class Demo:
    """Ids of the demo data, by operation title and account."""

    operations: dict  # title -> id
    orgs: dict  # account -> id of the organisation it acts for
    ids: dict  # (title, argument, org_id) -> value for the URL


def _org_of(user: User) -> Organisation:
    """The organisation the account acts for after logging in (its first membership)."""
    return min(user.active_memberships(), key=lambda m: m.id).organisation


def _top_up(operation: Operation) -> None:
    """Give every operation a position per employer and a key figure, so that every kind of
    id exists in every operation (the demo fills in only the first ones)."""
    region = db.session.scalar(select(Organisation).where(Organisation.kind == OrgKind.REGION))
    by = db.session.scalar(select(User).where(User.email == f"region@{DOMAIN}"))
    for employer in needs.employer_participants(operation):
        need = needs.need_for(operation, employer)
        if not need.positions:
            position = {"job_title": "Agent·e", "count": 1, "contract_type": ContractType.CDI}
            needs.add_position(need, position, by=by, org=employer)
    analysis = needs.analysis_for(operation)
    if not analysis.figures:
        needs.add_figure(analysis, {"label": "Offres", "value": "12"}, by=by, org=region)


def _url_ids(operation: Operation, org: Organisation) -> dict:
    """Values of the special ids for ``org`` acting on ``operation`` (see SPECIAL_ID_ROUTES)."""
    employers = needs.employer_participants(operation)
    employer = next((e for e in employers if e.id == org.id), employers[0])
    need = db.session.scalar(
        select(EmployerNeed).where(
            EmployerNeed.operation_id == operation.id, EmployerNeed.organisation_id == employer.id
        )
    )
    analysis = db.session.scalar(
        select(NeedsAnalysis).where(NeedsAnalysis.operation_id == operation.id)
    )
    participant = next(p for p in operation.active_participants() if not p.by_right)
    return {
        "org_id": employer.id,
        "position_id": need.positions[0].id,
        "figure_id": analysis.figures[0].id,
        "participant_id": participant.id,
    }


@pytest.fixture(autouse=True)
def _clean_database():
    """The demo is loaded once for the module (its Argon2 hashes and five operations are most
    of the time here) and emptied at the module's end by ``demo``, not after each test: every
    test of the module only reads, and the outsiders' test proves it with ``snapshot``."""
    yield


@pytest.fixture(scope="module")
def demo(app) -> Demo:
    """The demo data, committed and topped up, for the whole module."""
    load_demo_copy(app)
    with app.test_request_context(base_url="http://portail.test"):
        operations = db.session.scalars(select(Operation).order_by(Operation.id)).all()
        for operation in operations:
            _top_up(operation)
        db.session.commit()
        assert {o.title for o in operations} == ALL
        users = {
            account: db.session.scalar(select(User).where(User.email == f"{account}@{DOMAIN}"))
            for account in SEES
        }
        orgs = {account: _org_of(user) for account, user in users.items()}
        ids = {}
        for operation in operations:
            for org in {o.id: o for o in orgs.values()}.values():
                for name, value in _url_ids(operation, org).items():
                    ids[(operation.title, name, org.id)] = value
        data = Demo(
            operations={o.title: o.id for o in operations},
            orgs={account: org.id for account, org in orgs.items()},
            ids=ids,
        )
    yield data
    empty_database(app)


def url_for_case(rule, demo: Demo, title: str, account: str) -> str:
    """The rule's path for ``account`` acting on the operation ``title``."""

    def value(match):
        name = match.group(1)
        if name == "operation_id":
            return str(demo.operations[title])
        if name not in SPECIAL_ID_ROUTES.get(rule.endpoint, ()):
            raise KeyError(f"{rule.endpoint}: declare <{name}> in SPECIAL_ID_ROUTES")
        return str(demo.ids[(title, name, demo.orgs[account])])

    return URL_ARGUMENT.sub(value, rule.rule)


def signed_in(app, account: str):
    """A CSRF-aware client logged in as the demo ``account``."""
    browser = app.test_client()
    login_as(browser, f"{account}@{DOMAIN}")
    return browser


def snapshot(app) -> dict:
    """Row counts and the operations' state: what an accepted intrusion would change."""
    with app.app_context():
        counts = {
            model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (
                Organisation,
                Participant,
                OperationEvent,
                Notification,
                OutboxMessage,
                Position,
                DiagnosisFigure,
                EmployerNeed,
                NeedsAnalysis,
                Membership,
            )
        }
        counts["operations"] = db.session.execute(
            select(
                Operation.id,
                Operation.title,
                Operation.status,
                Operation.funding,
                Operation.provider_id,
                Operation.acknowledged_at,
                Operation.updated_at,
            ).order_by(Operation.id)
        ).all()
        counts["withdrawn"] = db.session.scalar(
            select(func.count()).where(Participant.withdrawn_at.is_not(None))
        )
        return counts


# --- The declarations match the URL map -------------------------------------------------


def test_routes_with_extra_ids_are_declared():
    extra = {
        rule.endpoint: set(rule.arguments) - {"operation_id"}
        for rule in OPERATION_RULES
        if set(rule.arguments) - {"operation_id"}
    }
    assert extra == SPECIAL_ID_ROUTES


def test_routes_outside_an_operation_are_declared():
    assert {r.endpoint for r in RULES if "operation_id" not in r.arguments} == set(
        NOT_OF_AN_OPERATION
    )


def test_restricted_routes_exist():
    get_routes = {r.endpoint for r in OPERATION_RULES if "GET" in r.methods}
    assert set(RESTRICTED_GET) <= get_routes


# --- Outsiders ---------------------------------------------------------------------------


@pytest.mark.parametrize(("rule", "method"), _cases(OPERATION_RULES))
def test_outsiders_get_404_and_change_nothing(app, demo, rule, method):
    before = snapshot(app)
    refused = []
    for account, sees in SEES.items():
        browser = signed_in(app, account)
        for title in sorted(ALL - sees):
            path = url_for_case(rule, demo, title, account)
            if method == "GET":
                response = browser.get(path)
            else:
                response = browser.post(path, data=PLAUSIBLE_FORM)
            if response.status_code != 404:
                refused.append(f"{account} {method} {path} ({title}): {response.status_code}")
    # 404 rather than 403: an outsider must not learn that the operation exists.
    assert refused == []
    assert snapshot(app) == before


def test_every_account_except_the_region_admin_is_an_outsider_somewhere():
    assert [account for account, sees in SEES.items() if sees == ALL] == ["region"]


# --- Participants ------------------------------------------------------------------------


def _expected_get(rule, demo: Demo, account: str, title: str) -> int:
    need = RESTRICTED_GET.get(rule.endpoint)
    if need == "steer":
        return 200 if title in STEERS.get(account, set()) else 403
    if need == "steer, closed":
        if title not in STEERS.get(account, set()):
            return 403
        return 200 if title in CLOSED_OPERATIONS else 303
    if need == "own need":
        org_id = demo.orgs[account]
        return 200 if demo.ids[(title, "org_id", org_id)] == org_id else 403
    assert need is None, f"{rule.endpoint}: unknown restriction {need!r}"
    return 200


@pytest.mark.parametrize(("rule", "method"), _cases(OPERATION_RULES, methods=("GET",)))
def test_participants_open_the_pages_of_their_operations(app, demo, rule, method):
    wrong = []
    for account, sees in SEES.items():
        browser = signed_in(app, account)
        for title in sorted(sees):
            path = url_for_case(rule, demo, title, account)
            expected = _expected_get(rule, demo, account, title)
            status = browser.get(path).status_code
            if status != expected:
                wrong.append(f"{account} GET {path} ({title}): {status}, expected {expected}")
    assert wrong == []


def test_employer_opens_its_operation_and_its_own_need(app, demo):
    browser = signed_in(app, "employeur")
    operation = demo.operations[LOGISTICS]
    assert browser.get(f"/operations/{operation}").status_code == 200
    own = f"/operations/{operation}/besoins/{demo.orgs['employeur']}"
    assert browser.get(own).status_code == 200
    assert browser.get(f"/operations/{demo.operations[CLEANING]}").status_code == 404


@pytest.mark.parametrize("endpoint", sorted(NOT_OF_AN_OPERATION))
def test_routes_outside_an_operation(app, demo, endpoint):
    [rule] = [r for r in RULES if r.endpoint == endpoint]
    wrong = []
    with app.app_context():
        kinds = {
            account: db.session.get(Organisation, org_id).kind
            for account, org_id in demo.orgs.items()
        }
    for account in SEES:
        expected = 200 if kinds[account] in NOT_OF_AN_OPERATION[endpoint] else 403
        status = signed_in(app, account).get(rule.rule).status_code
        if status != expected:
            wrong.append(f"{account} GET {rule.rule}: {status}, expected {expected}")
    assert wrong == []


def test_the_list_shows_each_account_what_it_sees(app, demo):
    for account, sees in SEES.items():
        page = signed_in(app, account).get("/operations/").get_data(as_text=True)
        shown = {title for title in ALL if f">{title.replace(chr(39), '&#39;')}</a>" in page}
        assert shown == sees, account


def test_participant_roles_in_the_demo_match_the_story(app, demo):
    """Guards the oracle above: the demo still has the participants ``SEES`` relies on."""
    with app.app_context():
        rows = db.session.execute(
            select(Operation.title, Participant.organisation_id, Participant.role)
            .join(Participant, Participant.operation_id == Operation.id)
            .where(Participant.withdrawn_at.is_(None))
        ).all()
    taking_part = {(title, org_id) for title, org_id, _role in rows}
    for account, sees in SEES.items():
        if account.startswith(("region", "referent")):
            continue
        assert {t for t in ALL if (t, demo.orgs[account]) in taking_part} == sees, account
    carriers = {(t, o) for t, o, role in rows if role == ParticipantRole.PROVIDER}
    for account in ("of", "of2"):
        assert {t for t in ALL if (t, demo.orgs[account]) in carriers} == STEERS[account]


def test_the_closed_operations_of_the_demo_match_the_story(app, demo):
    """Guards ``CLOSED_OPERATIONS``: the archive's link answers for them only."""
    with app.app_context():
        closed = set(
            db.session.scalars(select(Operation.title).where(Operation.status == "closed"))
        )
    assert closed == CLOSED_OPERATIONS
