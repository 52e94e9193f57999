"""Route inventory: walks ``app.url_map`` so that every new route is checked automatically.

- a non-public route sends an anonymous visitor to the login page, whatever the method;
- a state-changing method refuses a request without a valid CSRF token;
- GET changes nothing (by endpoint name, and by comparing the database before and after);
- organisation-scoped and Région admin routes refuse the people they do not belong to.

A route with a new kind of URL argument needs a sample in ``ARGUMENT_TABLES`` or ``world_values``:
until then the tests fail with a KeyError naming it, rather than skip the route.
"""

import re

import pytest
from sqlalchemy import select

from portal import create_app
from portal.accounts import invitations
from portal.accounts.models import Membership, Organisation, User
from portal.conventions.models import ClauseTemplate
from portal.extensions import db
from tests.factories import make_territory
from tests.support import (
    ARGUMENT_TABLES,
    app_config,
    live_token_links,
    load_demo_copy,
    login_as,
    snapshot,
)

# Reachable without logging in. Keep this list explicit: adding to it is a security decision.
PUBLIC_ENDPOINTS = {
    "static",
    "core.healthz",
    "accounts.login",
    "accounts.forgot_password",
    "accounts.reset_password",
    "accounts.accept_invitation",
    "accounts.set_language",
    # Anyone holding a convention copy checks it there (issue 5): no personal data beyond
    # signers' names, capacities and dates; unknown documents are throttled per IP.
    "verification.verify",
    # The pages every French public site has (issue 15): accessibility statement, legal
    # notice, personal data, site map (which shows the public pages only when anonymous).
    "public.accessibility",
    "public.legal_notice",
    "public.personal_data",
    "public.sitemap",
}
STATE_CHANGING_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Flask answers OPTIONS itself (the Allow header) without running the view.
UNCHECKED_METHODS = {"OPTIONS"}
# Verbs that only act: such an endpoint must never answer GET.
ACTION_VERBS = {
    "logout", "switch", "set", "invite", "revoke", "deactivate", "toggle", "delete", "remove",
    "disable", "enable", "send", "sign", "approve", "reject", "validate", "acknowledge",
    "launch", "decline", "advance", "cancel", "withdraw", "add", "mark", "close", "archive",
}  # fmt: skip
# Verbs whose GET shows a form: GET is allowed only next to the POST that acts.
FORM_VERBS = {"create", "edit", "update", "accept", "reset", "change", "report", "import"}
CSRF_MESSAGE = "Votre session a expiré"

# The URL map only, read at collection time; the tests themselves use the ``app`` fixture.
RULES = sorted(
    create_app(app_config("sqlite://")).url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)
)
URL_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")

# A body holding every field of the portal's forms, so that a request which should have been
# refused would really have changed something had it been accepted.
PLAUSIBLE_FORM = {
    "email": "intrus@example.fr",
    "password": "une phrase de passe intruse",
    "password_confirm": "une phrase de passe intruse",
    "current_password": "une phrase de passe intruse",
    "first_name": "Intrus",
    "last_name": "Intrus",
    "is_admin": "1",
    "enabled": "0",
    "organisation_id": "1",
    "lang": "en",
    "kind": "provider",
    "name": "Organisation intruse",
    "new-code": "INTRUS",
    "new-name": "Bassin intrus",
}


def _methods(rule) -> list[str]:
    return sorted(rule.methods - UNCHECKED_METHODS)


def _cases(rules, only: set[str] | None = None) -> list:
    """One (rule, method) case per method each rule accepts (limited to ``only`` if given)."""
    return [
        pytest.param(rule, method, id=f"{rule.endpoint}-{method}")
        for rule in rules
        for method in _methods(rule)
        if only is None or method in only
    ]


def _url(rule, value) -> str:
    """The rule's path, each argument replaced by ``value(endpoint, converter, name)``."""
    return URL_ARGUMENT.sub(
        lambda m: str(value(rule.endpoint, m.group(1) or "default", m.group(2))), rule.rule
    )


def dummy_url(rule) -> str:
    """A URL for ``rule`` with placeholder values (1 for integers, ``x`` otherwise)."""
    return _url(rule, lambda _endpoint, converter, _name: 1 if converter == "int" else "x")


@pytest.fixture
def world_values(app, world):
    """Real objects of Organisme A for the URL arguments of organisation and admin routes."""
    with app.test_request_context():
        of_a = db.session.get(Organisation, world.of_a)
        invitation, _token = invitations.invite(
            "nouvelle.recrue@example.fr", of_a, by=db.session.get(User, world.a_admin)
        )
        territory = make_territory()
        template = ClauseTemplate(number=1, texts={}, note="")
        db.session.add(template)
        db.session.commit()
        values = {
            "org_id": world.of_a,
            "membership_id": db.session.scalar(
                select(Membership.id).where(Membership.user_id == world.a_member)
            ),
            "invitation_id": invitation.id,
            "user_id": world.a_member,
            "territory_id": territory.id,
            "template_id": template.id,
        }
    return lambda _endpoint, _converter, name: values[name]


# --- The inventory itself ----------------------------------------------------------------


def test_the_inventory_matches_the_application(app):
    assert {(r.rule, r.endpoint) for r in RULES} == {
        (r.rule, r.endpoint) for r in app.url_map.iter_rules()
    }


def test_every_public_endpoint_exists():
    assert {rule.endpoint for rule in RULES} >= PUBLIC_ENDPOINTS


# --- (a) Anonymous visitors are sent to the login page -----------------------------------


@pytest.mark.parametrize(
    ("rule", "method"), _cases(r for r in RULES if r.endpoint not in PUBLIC_ENDPOINTS)
)
def test_anonymous_visitor_is_sent_to_login(client, rule, method):
    response = client.open(dummy_url(rule), method=method)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion")


@pytest.mark.parametrize(
    ("rule", "method"), _cases(r for r in RULES if r.endpoint in PUBLIC_ENDPOINTS)
)
def test_public_route_answers_without_login(client, rule, method):
    # Keeps the allowlist honest: a listed route that wants a login shows up here.
    response = client.open(dummy_url(rule), method=method)
    assert not response.headers.get("Location", "").startswith("/connexion")
    assert response.status_code < 500


# --- (b) CSRF ----------------------------------------------------------------------------

CSRF_CASES = _cases(RULES, only=STATE_CHANGING_METHODS)


def test_the_csrf_inventory_is_not_empty():
    endpoints = {case.values[0].endpoint for case in CSRF_CASES}
    assert {"accounts.logout", "organisations.invite_member", "admin.set_user_state"} <= endpoints


@pytest.mark.parametrize(("rule", "method"), CSRF_CASES)
def test_state_changing_request_without_csrf_token_is_refused(app, client, world, rule, method):
    login_as(client, world.emails["region_admin"])  # logged in: the refusal is the CSRF check's
    before = snapshot(app)
    response = client.open(dummy_url(rule), method=method, data=PLAUSIBLE_FORM, csrf=False)
    assert response.status_code == 400
    assert CSRF_MESSAGE in response.get_data(as_text=True)
    assert snapshot(app) == before


@pytest.mark.parametrize("token", ["forged", "other session", "form field of other session"])
def test_invalid_csrf_token_is_refused(app, client, other_client, world, token):
    login_as(client, world.emails["a_admin"])
    login_as(other_client, world.emails["b_admin"])
    before = snapshot(app)
    data = {"email": "nouvelle@example.fr"}
    headers = {}
    if token == "forged":
        headers["X-CSRFToken"] = "forged-token"
    elif token == "other session":
        headers["X-CSRFToken"] = other_client.csrf_token()
    else:
        data["csrf_token"] = other_client.csrf_token()
    response = client.post(
        f"/organisations/{world.of_a}/invitations", data=data, headers=headers, csrf=False
    )
    assert response.status_code == 400
    assert CSRF_MESSAGE in response.get_data(as_text=True)
    assert snapshot(app) == before


# --- (c) Nothing changes state on GET ----------------------------------------------------

GET_RULES = [r for r in RULES if "GET" in r.methods]


def _verb(endpoint: str) -> str:
    return endpoint.rsplit(".", 1)[-1].split("_", 1)[0]


@pytest.mark.parametrize("rule", [pytest.param(r, id=r.endpoint) for r in GET_RULES])
def test_get_route_name_does_not_suggest_a_state_change(rule):
    verb = _verb(rule.endpoint)
    assert verb not in ACTION_VERBS, f"{rule.endpoint} acts: it must not answer GET"
    if verb in FORM_VERBS:
        assert "POST" in rule.methods, f"{rule.endpoint} shows a form: the POST must act"


def _first(table_name: str, column: str = "id", **where):
    table = db.metadata.tables[table_name]
    query = select(table.c[column]).where(*(table.c[k] == v for k, v in where.items()))
    return db.session.scalar(query.order_by(table.c.id).limit(1))


@pytest.fixture
def demo_values(app):
    """The demo data, plus a live invitation and reset link; a value for each URL argument."""
    load_demo_copy(app)
    with app.test_request_context():
        tokens = live_token_links()

    def value(endpoint, _converter, name):
        if name == "token":
            return tokens[endpoint]
        if name == "filename":
            return "css/app.css"
        if name == "key":
            return "objectives"  # a section of the co-design
        with app.app_context():
            if endpoint.startswith("conventions.") and name in ("operation_id", "number"):
                # The convention pages need an operation that has one, and its version 1.
                operation_id = _first("conventions", "operation_id") or _first("operations")
                return operation_id if name == "operation_id" else 1
            if endpoint.startswith(("recruitment.", "privacy.")) and name == "operation_id":
                # The recruitment pages (and the trainee's personal data pages) of the
                # operation the first trainee belongs to.
                return _first("trainees", "operation_id") or _first("operations")
            if endpoint.startswith("immersions.") and name in ("operation_id", "trainee_id"):
                # The operation of the first immersion, and a trainee of its first debrief
                # (the debrief sheet) or its trainee.
                if name == "operation_id":
                    return _first("immersions", "operation_id") or _first("operations")
                if endpoint == "immersions.debrief_sheet_docx":
                    return _first("debrief_trainees", "trainee_id", debrief_id=_first("debriefs"))
                return _first("immersions", "trainee_id")
            if endpoint.startswith("followup.") and name in ("operation_id", "trainee_id"):
                # The operation of the first follow-up, and that follow-up's trainee.
                return _first("followup_milestones", name)
            if endpoint.startswith("followup.") and name == "promise_id":
                return _first(
                    "job_promises", operation_id=_first("followup_milestones", "operation_id")
                )
            if endpoint.startswith("steering.") and name == "operation_id":
                # The committee pages of the operation that has one (its first meeting is
                # the launch meeting, held, its minutes approved).
                return _first("steering_committees", "operation_id")
            if endpoint.startswith("archive.") and name == "operation_id":
                # The archive is downloaded by a link once the operation is closed.
                return _first("operations", status="closed")
            if endpoint.startswith("operations.") and name == "org_id":
                # Inside an operation, the organisation is an employer with a need in it.
                return _first(
                    "employer_needs", "organisation_id", operation_id=_first("operations")
                )
            return _first(ARGUMENT_TABLES[name])

    return value


# What the Région's admin gets where it is not a page (everything else must render, 200).
GET_STATUS_FOR_REGION_ADMIN = {
    "accounts.login": 302,  # already logged in: sent home
    # Likewise; without a password just accepted (``mfa_pending``), anyone goes to the login.
    "accounts.login_code": 302,
    "operations.edit_employer_need": 403,  # only the employer writes its own need
    # The organisme porteur records and changes trainees; the Région reads them.
    "recruitment.edit_trainee": 403,
    "recruitment.create_trainees": 403,
    "recruitment.import_trainees": 403,
    "recruitment.create_session": 403,  # the organisme porteur plans the sessions
    # The organisme porteur records immersions, debriefs and evaluations; the Région reads.
    "immersions.create_immersion": 403,
    "immersions.edit_immersion": 403,
    "immersions.edit_preparation": 403,
    "immersions.create_debrief": 403,
    "immersions.create_evaluation": 403,
    # The organisme porteur records exits; it or the promising employer, promise outcomes.
    "followup.edit_exit": 403,
    "followup.edit_promise_outcome": 403,
    # The first demo meeting took place: it no longer changes, its edit page sends back.
    "steering.edit_meeting": 303,
}


def test_get_changes_nothing_in_the_database(app, client, demo_values, subtests):
    # One test over every GET route (the demo data is costly to load once per route).
    login_as(client, "region@demo.defi.test")
    for rule in GET_RULES:
        with subtests.test(endpoint=rule.endpoint):
            before = snapshot(app)
            with client.get(_url(rule, demo_values)) as response:  # closes the static file
                expected = GET_STATUS_FOR_REGION_ADMIN.get(rule.endpoint, 200)
                assert response.status_code == expected, rule.rule
            assert snapshot(app) == before


# --- (d) Access matrix -------------------------------------------------------------------

ORG_SCOPED = [r for r in RULES if r.rule.startswith("/organisations/<int:org_id>")]
OPERATION_SCOPED = [r for r in RULES if "operation_id" in r.arguments]
ADMIN_ROUTES = [r for r in RULES if r.endpoint.startswith("admin.")]


def test_the_access_matrix_covers_routes():
    assert len(OPERATION_SCOPED) >= 10
    assert {r.endpoint for r in ORG_SCOPED} >= {
        "organisations.list_members",
        "organisations.invite_member",
        "organisations.deactivate_member",
        "organisations.toggle_admin",
        "organisations.revoke_invitation",
    }
    assert len(ADMIN_ROUTES) >= 8


@pytest.mark.parametrize("outsider", ["b_admin", "employer_admin", "partner_admin"])
@pytest.mark.parametrize(("rule", "method"), _cases(ORG_SCOPED))
def test_member_of_another_organisation_is_refused(
    app, client, world, world_values, rule, method, outsider
):
    # Organisation routes check access to the organisation before loading anything inside
    # it, so an outsider learns nothing: 403 whatever the object id.
    login_as(client, world.emails[outsider])
    before = snapshot(app)
    response = client.open(_url(rule, world_values), method=method, data=PLAUSIBLE_FORM)
    assert response.status_code == 403
    assert snapshot(app) == before


@pytest.mark.parametrize("viewer", ["a_member", "region_member"])
@pytest.mark.parametrize(("rule", "method"), _cases(ORG_SCOPED, only=STATE_CHANGING_METHODS))
def test_member_without_admin_role_cannot_manage(
    app, client, world, world_values, rule, method, viewer
):
    login_as(client, world.emails[viewer])
    before = snapshot(app)
    response = client.open(_url(rule, world_values), method=method, data=PLAUSIBLE_FORM)
    assert response.status_code == 403
    assert snapshot(app) == before


@pytest.mark.parametrize(
    "person", ["region_member", "a_admin", "a_member", "employer_admin", "partner_admin"]
)
@pytest.mark.parametrize(("rule", "method"), _cases(ADMIN_ROUTES))
def test_only_region_admins_reach_administration(
    app, client, world, world_values, rule, method, person
):
    login_as(client, world.emails[person])
    before = snapshot(app)
    response = client.open(_url(rule, world_values), method=method, data=PLAUSIBLE_FORM)
    assert response.status_code == 403
    assert snapshot(app) == before


def test_operations_are_hidden_from_outsiders(app, client, demo_values, subtests):
    # An operation exists only for those taking part: to anyone else its routes are 404,
    # whatever the method, and nothing changes. Menuiserie Berrichonne is in no demo operation.
    with app.app_context():
        joinery = db.session.scalar(
            select(Organisation.id).where(Organisation.name == "Menuiserie Berrichonne")
        )
        assert _first("operation_participants", organisation_id=joinery) is None
    login_as(client, "menuiserie@demo.defi.test")
    for rule in OPERATION_SCOPED:
        for method in _methods(rule):
            with subtests.test(endpoint=rule.endpoint, method=method):
                before = snapshot(app)
                response = client.open(_url(rule, demo_values), method=method, data=PLAUSIBLE_FORM)
                assert response.status_code == 404, rule.rule
                assert snapshot(app) == before
