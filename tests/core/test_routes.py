"""Route inventory: walks ``app.url_map`` so that every new route is checked automatically.

- a non-public route sends an anonymous visitor to the login page, whatever the method;
- a state-changing method refuses a request without a valid CSRF token;
- GET changes nothing (by endpoint name, and by comparing the database before and after);
- organisation-scoped and Région admin routes refuse the people they do not belong to.

A new route with a new URL argument needs a sample value in ``sample_values`` below: the
tests fail with a KeyError naming it rather than skip the route.
"""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import create_app
from portal.accounts import services
from portal.accounts.models import Membership, Organisation, PasswordReset, User
from portal.core.time import utcnow
from portal.extensions import db
from tests.conftest import login, make_territory, make_user
from tests.conftest import test_config as app_config

# Reachable without logging in. Keep this list explicit: adding to it is a security decision.
PUBLIC_ENDPOINTS = {
    "static",
    "core.healthz",
    "accounts.login",
    "accounts.forgot_password",
    "accounts.reset_password",
    "accounts.accept_invitation",
    "accounts.set_language",
    "mail.outbox",
}
STATE_CHANGING_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Flask answers OPTIONS itself (the Allow header) without running the view.
UNCHECKED_METHODS = {"OPTIONS"}
# Verbs that only act: such an endpoint must never answer GET.
ACTION_VERBS = {
    "logout", "switch", "set", "invite", "revoke", "deactivate", "toggle",
    "delete", "disable", "enable", "remove", "send", "sign", "approve", "reject",
}  # fmt: skip
# Verbs whose GET shows a form: GET is allowed only next to the POST that acts.
FORM_VERBS = {"create", "edit", "update", "accept", "reset", "change"}
CSRF_MESSAGE = "Votre session a expiré"

# The URL map only, read at collection time; the tests themselves use the ``app`` fixture.
RULES = sorted(
    create_app(app_config("sqlite://")).url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)
)
URL_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


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


def _url(rule, values) -> str:
    """The rule's path with each argument replaced by ``values(endpoint, converter, name)``."""
    return URL_ARGUMENT.sub(
        lambda m: str(values(rule.endpoint, m.group(1) or "default", m.group(2))), rule.rule
    )


def dummy_url(rule) -> str:
    """A URL for ``rule`` with placeholder values (1 for integers, ``x`` otherwise)."""
    return _url(rule, lambda _endpoint, converter, _name: 1 if converter == "int" else "x")


def snapshot(app) -> dict:
    """Every row of every table, to prove that a request changed nothing."""
    with app.app_context(), db.engine.connect() as conn:
        return {
            table.name: conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            for table in db.metadata.sorted_tables
        }


# A body holding every field of the portal's forms, so that a request which should have been
# refused would really have changed something if it had been accepted.
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


@pytest.fixture
def sample_values(app, world):
    """Real objects of Organisme A for each URL argument, keyed (endpoint, name) or name."""
    with app.test_request_context():
        of_a = db.session.get(Organisation, world.of_a)
        invitation, invitation_token = services.invite(
            "nouvelle.recrue@example.fr", of_a, by=db.session.get(User, world.a_admin)
        )
        reset_token, token_hash = services.new_token()
        db.session.add(
            PasswordReset(
                user_id=world.a_member,
                token_hash=token_hash,
                expires_at=utcnow() + timedelta(days=1),
            )
        )
        territory = make_territory()
        # A demo account opens the demo outbox page.
        make_user(of_a, email="temoin@demo.defi.test")
        db.session.commit()
        values = {
            "org_id": world.of_a,
            "membership_id": db.session.scalar(
                select(Membership.id).where(Membership.user_id == world.a_member)
            ),
            "invitation_id": invitation.id,
            "user_id": world.a_member,
            "territory_id": territory.id,
            "filename": "css/app.css",
            ("accounts.accept_invitation", "token"): invitation_token,
            ("accounts.reset_password", "token"): reset_token,
        }

    def value(endpoint, _converter, name):
        return values[(endpoint, name)] if (endpoint, name) in values else values[name]

    return value


# --- The inventory itself ----------------------------------------------------------------


def test_the_inventory_matches_the_application(app):
    assert {(r.rule, r.endpoint) for r in RULES} == {
        (r.rule, r.endpoint) for r in app.url_map.iter_rules()
    }


def test_every_public_endpoint_exists():
    assert PUBLIC_ENDPOINTS <= {rule.endpoint for rule in RULES}


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
    response = client.open(dummy_url(rule), method=method)
    assert not response.headers.get("Location", "").startswith("/connexion")
    assert response.status_code < 500


# --- (b) CSRF ----------------------------------------------------------------------------


CSRF_CASES = _cases(RULES, only=STATE_CHANGING_METHODS)


@pytest.mark.parametrize(("rule", "method"), CSRF_CASES)
@pytest.mark.parametrize("token", ["missing", "forged"])
def test_state_changing_request_without_valid_csrf_token_is_refused(
    app, client, world, sample_values, rule, method, token
):
    login(client, world.emails["region_admin"])
    before = snapshot(app)
    headers = {"X-CSRFToken": "forged-token"} if token == "forged" else {}
    response = client.open(
        _url(rule, sample_values),
        method=method,
        data=PLAUSIBLE_FORM,
        headers=headers,
        csrf=False,
    )
    assert response.status_code == 400
    assert CSRF_MESSAGE in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_csrf_token_of_another_session_is_refused(app, client, other_client, world):
    login(client, world.emails["a_admin"])
    login(other_client, world.emails["b_admin"])
    before = snapshot(app)
    response = client.post(
        f"/organisations/{world.of_a}/invitations",
        data={"email": "nouvelle@example.fr"},
        headers={"X-CSRFToken": other_client.csrf_token()},
        csrf=False,
    )
    assert response.status_code == 400
    assert snapshot(app) == before


def test_every_state_changing_route_is_in_the_csrf_inventory():
    # Guards the parametrization above: it must not silently become empty.
    endpoints = {case.values[0].endpoint for case in CSRF_CASES}
    assert {"accounts.logout", "organisations.invite_member", "admin.set_user_state"} <= endpoints


# --- (c) Nothing changes state on GET ----------------------------------------------------


def _verb(endpoint: str) -> str:
    return endpoint.rsplit(".", 1)[-1].split("_", 1)[0]


@pytest.mark.parametrize(
    "rule", [pytest.param(r, id=r.endpoint) for r in RULES if "GET" in r.methods]
)
def test_get_route_name_does_not_suggest_a_state_change(rule):
    verb = _verb(rule.endpoint)
    assert verb not in ACTION_VERBS, f"{rule.endpoint} acts, it must not answer GET"
    if verb in FORM_VERBS:
        assert "POST" in rule.methods, f"{rule.endpoint} shows a form: it must also take POST"


@pytest.mark.parametrize(
    "rule", [pytest.param(r, id=r.endpoint) for r in RULES if "GET" in r.methods]
)
def test_get_changes_nothing_in_the_database(app, client, world, sample_values, rule):
    login(client, world.emails["region_admin"])
    before = snapshot(app)
    with client.get(_url(rule, sample_values)) as response:  # closes the static file
        # Logged in, the login page sends the visitor home; everything else renders.
        assert response.status_code == (302 if rule.endpoint == "accounts.login" else 200)
    assert snapshot(app) == before


# --- (d) Access matrix -------------------------------------------------------------------

ORG_SCOPED = [r for r in RULES if "org_id" in r.arguments and not r.endpoint.startswith("admin.")]
ADMIN_ROUTES = [r for r in RULES if r.endpoint.startswith("admin.")]


def test_the_access_matrix_covers_routes():
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
    app, client, world, sample_values, rule, method, outsider
):
    # Organisation routes check access to the organisation before loading anything inside
    # it, so an outsider learns nothing: 403 whatever the object id.
    login(client, world.emails[outsider])
    before = snapshot(app)
    response = client.open(_url(rule, sample_values), method=method, data=PLAUSIBLE_FORM)
    assert response.status_code == 403
    assert snapshot(app) == before


@pytest.mark.parametrize(("rule", "method"), _cases(ORG_SCOPED, only=STATE_CHANGING_METHODS))
@pytest.mark.parametrize("viewer", ["a_member", "region_member"])
def test_member_without_admin_role_cannot_manage(
    app, client, world, sample_values, rule, method, viewer
):
    login(client, world.emails[viewer])
    before = snapshot(app)
    response = client.open(_url(rule, sample_values), method=method, data=PLAUSIBLE_FORM)
    assert response.status_code == 403
    assert snapshot(app) == before


@pytest.mark.parametrize(
    "person", ["region_member", "a_admin", "a_member", "employer_admin", "partner_admin"]
)
@pytest.mark.parametrize(("rule", "method"), _cases(ADMIN_ROUTES))
def test_only_region_admins_reach_administration(
    app, client, world, sample_values, rule, method, person
):
    login(client, world.emails[person])
    before = snapshot(app)
    response = client.open(_url(rule, sample_values), method=method, data=PLAUSIBLE_FORM)
    assert response.status_code == 403
    assert snapshot(app) == before
