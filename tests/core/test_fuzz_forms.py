"""Issue #17, « Fuzzing »: every POST route of the URL map, with generated bodies.

The routes come from ``app.url_map`` (a new POST route is fuzzed without anyone adding
it), their URL arguments from real rows of the demo (``Demo.url``), the person from the
demo's accounts: the first, in an order that suits the area, whose empty POST gets past
« not found » and « refused » (``Demo.reach``), so that generated bodies reach the
forms' validation and the services' rules. The fields are those of the WTForms classes
the view itself builds (``fuzzing.captured_forms``), each missing, present, repeated or
wrong, plus keys no form has; CSRF is right, missing, forged or another session's; htmx
or not. Every answer is checked by ``check_answer``: no 500, a refusal wrote nothing, an
acceptance wrote only clean text (``fuzzing.StoredTextCheck``). A case that wrote brings
the demo back before the next.

``make fuzz`` runs thousands of cases per route (``FUZZ_EXAMPLES``); ``FUZZ_STATS=file``
appends one JSON line per route (person, status reached, fields, cases, seconds).
"""

import json
import os
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal import create_app
from tests.fuzz_demo import CSRF_REFUSED, EXEMPT, Demo, check_answer, post
from tests.fuzzing import (
    CSRF_MODES,
    PER_BUTTON,
    PER_FORM,
    StoredTextCheck,
    form_bodies,
    fuzz_settings,
    json_bodies,
)
from tests.support import HTMX, app_config, snapshot

RULES = sorted(
    (r for r in create_app(app_config("sqlite://")).url_map.iter_rules() if "POST" in r.methods),
    key=lambda r: r.endpoint,
)


# One test per area: the demo is put back once for its routes (a tenth of a second each).
AREAS = sorted({rule.endpoint.split(".")[0] for rule in RULES})


@pytest.mark.parametrize("area", AREAS)
def test_fuzz_post_routes(app, area, subtests):
    """Issue #17: generated bodies on every POST route: no 500, nothing stored unvalidated."""
    demo = Demo(app)
    for rule in RULES:
        if rule.endpoint.split(".")[0] == area:
            with subtests.test(endpoint=rule.endpoint):
                fuzz_route(app, demo, rule)


def fuzz_route(app, demo: Demo, rule) -> None:
    """Generated bodies on one route (see the module's docstring)."""
    target = demo.reach(rule)
    other_token = app.test_client().csrf_token()
    started, cases = time.perf_counter(), []

    # A button (no field) varies only by its CSRF token, extra keys and JSON: fewer cases.
    @fuzz_settings(PER_FORM if target.fields else PER_BUTTON)
    @given(
        body=form_bodies(target.fields),
        csrf=st.sampled_from(CSRF_MODES),
        htmx=st.booleans(),
        as_json=st.one_of(st.none(), st.none(), st.none(), st.none(), json_bodies),
    )
    def case(body, csrf, htmx, as_json):
        cases.append(1)
        client = demo.client(target.person)
        before = snapshot(app)
        with StoredTextCheck(EXEMPT) as check:
            response = post(
                client,
                target.url,
                body,
                csrf=csrf,
                htmx=htmx,
                other_token=other_token,
                as_json=as_json,
            )
        try:
            check_answer(
                app, response, before=before, csrf=csrf, check=check, endpoint=rule.endpoint
            )
        finally:
            demo.restore()

    case()
    if os.environ.get("FUZZ_STATS"):
        with open(os.environ["FUZZ_STATS"], "a", encoding="utf-8") as stats:
            line = {
                "endpoint": rule.endpoint,
                "person": target.person,
                "status": target.status,
                "fields": sorted(target.fields),
                "cases": len(cases),
                "seconds": round(time.perf_counter() - started, 2),
            }
            stats.write(json.dumps(line) + "\n")


# --- What the fuzz found (each a 500 before its fix) -------------------------------------


def _route(endpoint: str):
    return next(rule for rule in RULES if rule.endpoint == endpoint)


@pytest.mark.parametrize("endpoint", ["operations.edit_analysis", "operations.answer_analysis"])
def test_fuzz_an_empty_post_reads_missing_fields_as_empty(app, endpoint):
    """A POST without a body (or without a text or multiple-choice field) gave the view None
    where it reads text or a list: ``.strip()`` and ``set()`` made a 500. Missing fields
    now read as empty text and no choice (portal/core/forms.py)."""
    demo = Demo(app)
    target = demo.reach(_route(endpoint))
    assert target.person is not None and target.status < 500
    response = demo.client(target.person).post(target.url, data={"unrelated": "x"})
    assert response.status_code < 500


def test_fuzz_a_form_posted_as_json_is_read_as_no_form(app):
    """Flask-WTF read a JSON body as the form: a list made a 500, nested objects reached the
    views as field values. The portal's forms read form data only."""
    demo = Demo(app)
    target = demo.reach(_route("accounts.account"))
    client = demo.client(target.person)
    before = snapshot(app)
    for body in ([1, 2], {"first_name": {"a": ["b"]}, "last_name": [None]}, "texte", 3):
        response = client.post(target.url, json=body)
        assert response.status_code == 422
        assert 'class="alert alert--error" role="alert"' in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_fuzz_a_posted_field_without_a_name_is_dropped(app, client):
    """A multipart part without a name (or with a line break in it) was keyed None: the CSRF
    check itself failed on it with a 500. Such parts are dropped (portal/security.py)."""
    boundary = "frontiere"
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data\r\n\r\nsans nom\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="email"\r\n\r\na@b.fr\r\n'
        f"--{boundary}--\r\n"
    ).encode()
    response = client.post(
        "/connexion",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        csrf=False,
    )
    assert response.status_code == 400
    assert CSRF_REFUSED in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        # A contract that is no choice, with the promise kept: ``Situation("0")`` raised.
        ("followup.edit_promise_outcome", {"kept": "yes", "contract": "0"}),
        # A promise id beyond the database's integers was looked up: the driver overflowed.
        ("recruitment.match_trainee", {"promise_id": "9" * 40}),
        ("recruitment.invite_to_session", {"trainee_ids": "9" * 40}),
    ],
)
def test_fuzz_an_impossible_choice_is_refused_in_french(app, endpoint, body):
    """Issue #17 fuzz (``make fuzz``): these bodies made a 500; they are refused (the form
    again, or back to the page with the error), nothing written."""
    demo = Demo(app)
    target = demo.reach(_route(endpoint))
    assert target.person is not None and target.status not in (403, 404)
    before = snapshot(app)
    response = demo.client(target.person).post(target.url, data=body, headers=HTMX)
    assert response.status_code in (303, 409, 422)
    assert snapshot(app) == before


def test_fuzz_a_whole_number_too_big_is_refused_in_french(app):
    """Issue #17 fuzz: 10⁴⁰ hours made WTForms' ``NumberRange`` overflow (a float), a 500;
    an integer field refuses a number no column holds."""
    demo = Demo(app)
    target = demo.reach(_route("operations.edit_operation"))
    before = snapshot(app)
    response = demo.client(target.person).post(target.url, data={"hours_company": "9" * 40})
    assert response.status_code == 422
    assert "Ce nombre est trop grand." in response.get_data(as_text=True)
    assert snapshot(app) == before
