"""Presence and live updates of the co-design page (portal/design/live_views.py): the poll
answers 204 for nothing in a fixed, small number of queries, and otherwise the fragments
that changed — never over a form being edited, which gets a warning instead."""

import html
import re

import pytest
from sqlalchemy import func, select

from portal.design.comments import add_comment
from portal.design.models import DesignComment, DesignPresence, SectionKey
from portal.design.queries import load_design
from portal.extensions import db
from tests.design.factories import save_as
from tests.factories import make_user
from tests.operations.factories import EMPLOYER, OF_A, OF_B, report
from tests.support import HTMX, committed, count_queries, login_as, org_named, snapshot, user_with

EMPLOYER_NAME = "Camille Martin (Entreprise E)"  # make_user's default name
STATE_INPUT = re.compile(r'<input type="hidden" name="(token|seen)" value="([^"]*)">')


def url(operation_id: int, action: str = "etat") -> str:
    return f"/operations/{operation_id}/conception/{action}"


def poll(client, operation_id, *, token="", versions="", seen="", editing="", **kwargs):
    data = {"token": token, "versions": versions, "seen": seen, "editing": editing}
    return client.post(url(operation_id), data=data, headers=HTMX, **kwargs)


def body(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def poller_vals(response) -> dict:
    """The token and versions the page will send at its next poll (#design-live-state)."""
    state = response.get_data(as_text=True).split('<div id="design-live-state"', 1)[1]
    return {name: html.unescape(value) for name, value in STATE_INPUT.findall(state)}


def versions(app, operation_id) -> str:
    """``key:version,…`` of every section, as the page reports what it shows."""
    with app.app_context():
        design = load_design(operation_id)
        return ",".join(f"{s.key.value}:{s.version}" for s in design.sections)


def settled(client, app, operation_id, **kwargs) -> dict:
    """Poll until the page is up to date (first poll of a page: full state); its values."""
    response = poll(client, operation_id, versions=versions(app, operation_id), **kwargs)
    assert response.status_code == 200
    return poller_vals(response)


# --- The page ------------------------------------------------------------------------------


def test_the_page_polls_and_shows_presence_without_recording_it(
    app, client, other_client, design_op
):
    login_as(other_client, EMPLOYER)
    settled(other_client, app, design_op, editing="modules")
    login_as(client, OF_A)
    before = snapshot(app)
    page = body(client.get(f"/operations/{design_op}/conception"))
    assert snapshot(app) == before  # GET records no presence
    poller = re.search(r'<div id="design-live"[^>]*>', page).group(0)
    assert f'hx-post="{url(design_op)}"' in poller
    assert 'hx-trigger="load, every 3s, design-refresh from:body"' in poller
    assert 'hx-swap="none"' in poller
    assert f'data-leave-url="{url(design_op, "depart")}"' in poller
    presence = re.search(r'<div id="presence" class="presence">(.*?)</div>', page, re.S).group(1)
    assert "Camille Martin" in presence
    assert "modifie « Modules »" in presence
    assert "<script" not in page.split('<main id="main"', 1)[1]  # no inline script


# --- Nothing changed: 204, and it costs almost nothing -------------------------------------


def test_unchanged_poll_answers_204_without_a_body(app, client, design_op):
    login_as(client, OF_A)
    vals = settled(client, app, design_op)
    response = poll(client, design_op, token=vals["token"], versions=versions(app, design_op))
    assert response.status_code == 204
    assert response.get_data() == b""


def _unchanged_poll_statements(app, client, operation_id) -> list[str]:
    vals = settled(client, app, operation_id)
    with count_queries(app) as statements:
        response = poll(client, operation_id, token=vals["token"])
        assert response.status_code == 204
    return list(statements)


def _busy_design(app, operation_id, saves: int, people: int, comments: int) -> None:
    keys = ["objectives", "public", "pedagogy", "evaluation", "means", "attention"]
    for i in range(saves):
        save_as(app, operation_id, {"text": f"Version {i}"}, keys[i % len(keys)], EMPLOYER)
    with committed(app):
        design = load_design(operation_id)
        employer = org_named("Entreprise E")
        for _i in range(people):
            user = make_user(employer)
            db.session.add(
                DesignPresence(design_id=design.id, user_id=user.id, organisation_id=employer.id)
            )
        for i in range(comments):
            add_comment(design.sections[i % 9], f"Remarque {i}", by=user, org=employer)


def test_unchanged_poll_queries_are_few_and_do_not_grow(app, client, design_op):
    login_as(client, OF_A)
    _busy_design(app, design_op, saves=2, people=1, comments=1)
    small = _unchanged_poll_statements(app, client, design_op)
    _busy_design(app, design_op, saves=20, people=15, comments=30)
    large = _unchanged_poll_statements(app, client, design_op)
    assert len(small) == len(large), [s.split("\n")[0][:80] for s in large]
    # Login (user, memberships, organisations), visible design, presence UPDATE, token (3).
    assert len(small) <= 8, [s.split("\n")[0][:60] for s in small]
    assert sum(s.lstrip().upper().startswith("UPDATE") for s in small) == 1
    assert not any(s.lstrip().upper().startswith(("INSERT", "DELETE")) for s in small)


# --- Something changed: the fragments that changed, out of band --------------------------


def test_a_section_saved_elsewhere_comes_back_out_of_band(app, client, design_op):
    login_as(client, OF_A)
    before = versions(app, design_op)
    vals = settled(client, app, design_op)
    save_as(app, design_op, {"text": "Conduire un chariot en sécurité."}, email=EMPLOYER)
    response = poll(client, design_op, token=vals["token"], versions=before, seen=vals["seen"])
    assert response.status_code == 200
    page = body(response)
    section = re.search(r'<section[^>]*id="section-objectives"[^>]*>', page)
    assert section, page
    assert 'hx-swap-oob="true"' in section.group(0)
    assert 'data-version="2"' in section.group(0)
    assert "Conduire un chariot en sécurité." in page
    assert 'id="section-public"' not in page  # unchanged sections are not sent again
    assert "modifiée par" not in page
    assert poller_vals(response)["token"] != vals["token"]
    assert "objectives:2" in poller_vals(response)["seen"]


def test_a_section_being_edited_gets_a_warning_not_the_new_content(app, client, design_op):
    login_as(client, OF_A)
    before = versions(app, design_op)
    vals = settled(client, app, design_op, editing="objectives")
    save_as(app, design_op, {"text": "Texte de l'employeur."}, email=EMPLOYER)
    response = poll(
        client,
        design_op,
        token=vals["token"],
        versions=before,
        seen=vals["seen"],
        editing="objectives",
    )
    assert response.status_code == 200
    page = body(response)
    assert 'id="section-objectives"' not in page
    assert "Texte de l'employeur." not in page
    warning = re.search(r'<div id="changed-objectives" hx-swap-oob="innerHTML">(.*?)</div>', page)
    assert warning, page
    assert 'role="status"' in warning.group(1)
    assert (
        f"Cette section a été modifiée par {EMPLOYER_NAME} pendant votre saisie : "
        "à l'enregistrement, vos modifications seront fusionnées."
    ) in warning.group(1)
    # Told once: the next change elsewhere does not repeat it.
    again = poll(
        client,
        design_op,
        token="stale",
        versions=before,
        seen=poller_vals(response)["seen"],
        editing="objectives",
    )
    assert "modifiée par" not in body(again)


def test_no_warning_for_ones_own_save(app, client, design_op):
    login_as(client, OF_A)
    before = versions(app, design_op)
    vals = settled(client, app, design_op)
    save_as(app, design_op, {"text": "Mon texte."}, email=OF_A)
    response = poll(client, design_op, token=vals["token"], versions=before, editing="objectives")
    assert "modifiée par" not in body(response)


# --- Presence ------------------------------------------------------------------------------


def test_presence_lists_the_others_and_what_they_edit(app, client, other_client, design_op):
    login_as(client, OF_A)
    login_as(other_client, EMPLOYER)
    vals = settled(client, app, design_op)
    assert "Personne d'autre n'a la conception ouverte" in body(poll(client, design_op))
    settled(other_client, app, design_op, editing="skills")
    response = poll(client, design_op, token=vals["token"], versions=versions(app, design_op))
    assert response.status_code == 200
    page = body(response)
    presence = re.search(
        r'<div id="presence" class="presence" hx-swap-oob="true">(.*?)</div>', page, re.S
    )
    assert presence, page
    assert "Camille Martin" in presence.group(1)
    assert "(Entreprise E)" in presence.group(1)
    assert "modifie « Compétences visées »" in presence.group(1)
    assert "a.admin" not in presence.group(1)  # not oneself
    editing = re.search(
        r'<span id="editing-skills" hx-swap-oob="innerHTML">(.*?)</span>\s*</span>', page, re.S
    )
    assert editing and f"En cours de modification par {EMPLOYER_NAME}" in editing.group(1)
    assert re.search(r'<span id="editing-objectives" hx-swap-oob="innerHTML"></span>', page)


def test_leaving_removes_the_presence(app, client, design_op):
    login_as(client, OF_A)
    settled(client, app, design_op)
    assert client.post(url(design_op, "depart")).status_code == 204
    with app.app_context():
        assert db.session.scalar(select(func.count(DesignPresence.id))) == 0


def test_comment_badges_follow_open_threads(app, client, design_op):
    login_as(client, OF_A)
    vals = settled(client, app, design_op)
    with committed(app):
        section = load_design(design_op).section(SectionKey.MODULES)
        add_comment(section, "Et le CACES ?", by=user_with(EMPLOYER), org=org_named("Entreprise E"))
    response = poll(client, design_op, token=vals["token"], versions=versions(app, design_op))
    badge = re.search(r'<span id="comment-count-modules"[^>]*>(.*?)</span>', body(response), re.S)
    assert badge and 'hx-swap-oob="true"' in badge.group(0)
    assert badge.group(1).strip() == "1 commentaire ouvert"
    with app.app_context():
        assert db.session.scalar(select(func.count(DesignComment.id))) == 1


# --- Access and protocol ---------------------------------------------------------------


@pytest.mark.parametrize("action", ["etat", "depart"])
def test_outsiders_get_404_and_change_nothing(app, client, design_op, action):
    login_as(client, OF_B)
    before = snapshot(app)
    assert client.post(url(design_op, action), headers=HTMX).status_code == 404
    assert snapshot(app) == before


def test_an_operation_without_design_is_404(app, client, market):
    operation_id = report(app)
    login_as(client, OF_A)
    assert poll(client, operation_id).status_code == 404


@pytest.mark.parametrize("action", ["etat", "depart"])
def test_csrf_token_is_required(app, client, design_op, action):
    login_as(client, OF_A)
    before = snapshot(app)
    response = client.post(url(design_op, action), headers=HTMX, csrf=False)
    assert response.status_code == 400
    assert snapshot(app) == before


@pytest.mark.parametrize("action", ["etat", "depart"])
def test_get_records_nothing(app, client, design_op, action):
    # GET never changes state: these URLs are POST only (a GET falls on the section route,
    # which knows no such section).
    login_as(client, OF_A)
    before = snapshot(app)
    assert client.get(url(design_op, action)).status_code in (404, 405)
    assert snapshot(app) == before


def test_junk_values_are_ignored(app, client, design_op):
    login_as(client, OF_A)
    response = poll(
        client, design_op, versions="skills:x,nope:3,:,objectives", editing="<b>,objectives2"
    )
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(DesignPresence.editing)) == ""
