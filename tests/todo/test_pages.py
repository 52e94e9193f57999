"""« À faire » a page at a time (issue #16): the header's count is the number of duties the
pages list, the pages follow one stable order, the home card shows the first ones and the
total, and the count neither labels, links nor reads a frozen convention text."""

import json
import re

import pytest
from flask import g
from sqlalchemy import select

from portal.accounts.services import active_membership
from portal.conventions.models import ConventionVersion, SigningParty
from portal.conventions.state import signing_parties, signing_party_sql
from portal.core.pagination import PER_PAGE
from portal.extensions import db
from portal.todo import across
from tests.conventions.factories import make_convention_ready
from tests.operations.factories import (
    EMPLOYER,
    EMPLOYER2,
    OF_A,
    REGION_ADMIN,
    Market,
    add_operations,
    build_market,
)
from tests.support import HTMX, count_queries, login_as, text

DUTY = re.compile(r'<li class="duty duty--[a-z_]+"><a href="([^"]*)">([^<]*)</a>')


@pytest.fixture
def market(app):
    return build_market(app)


def header_count(client) -> int:
    found = re.search(r'id="todo-count">(\d+)<', text(client.get("/a-faire/compte", headers=HTMX)))
    return int(found.group(1)) if found else 0


def listed(client, page: int) -> list[tuple[str, str]]:
    return DUTY.findall(text(client.get(f"/a-faire?page={page}")))


@pytest.mark.parametrize("email", [REGION_ADMIN, OF_A, EMPLOYER])
def test_the_pages_list_every_duty_once_in_the_count(app, client, market, email):
    """Past one page: the pages together list exactly the count's duties, each once, and
    asking again gives the same pages (a stable order)."""
    add_operations(app, market, 130)
    login_as(client, email)
    total = header_count(client)
    pages = -(-total // PER_PAGE)
    seen = [duty for n in range(1, pages + 1) for duty in listed(client, n)]
    assert len(seen) == total
    assert len(listed(client, 1)) == min(total, PER_PAGE)
    assert [duty for n in range(1, pages + 1) for duty in listed(client, n)] == seen
    if total > PER_PAGE:
        assert f"Page 1 sur {pages}" in text(client.get("/a-faire"))
        assert listed(client, pages + 5) == listed(client, pages)  # past the end: the last


def test_the_region_has_more_than_a_page(app, client, market):
    """The fixture gives the Région more duties than a page holds: the list is cut and
    says how to go on (it listed them all on one page before)."""
    add_operations(app, market, 130)
    login_as(client, REGION_ADMIN)
    total = header_count(client)
    assert total > PER_PAGE
    page = text(client.get("/a-faire"))
    assert len(DUTY.findall(page)) == PER_PAGE
    assert 'rel="next"' in page and "/a-faire?page=2" in page


def test_the_home_card_shows_the_first_duties_and_the_total(app, client, market):
    add_operations(app, market, 130)
    login_as(client, REGION_ADMIN)
    total = header_count(client)
    home = text(client.get("/"))
    card = home.split('id="todo-title"', 1)[1].split("</section>", 1)[0]
    assert f'<span class="badge">{total}</span>' in card
    assert f"Voir les {total} tâches" in card
    shown = [(url, label) for url, label in DUTY.findall(card)]
    assert shown == listed(client, 1)[:10]


def test_another_organisation_sees_none_of_these_pages(app, client, market):
    """A user of an organisation that takes part in none of the operations: no duty on any
    page, a count of none, a page asked past the end still shows nothing of the others."""
    add_operations(app, market, 130)
    login_as(client, EMPLOYER2)
    assert header_count(client) == 0
    for page in (1, 2, 9):
        body = text(client.get(f"/a-faire?page={page}"))
        assert DUTY.findall(body) == []
        assert "Rien n'est attendu de vous pour l'instant." in body


def test_the_count_links_nothing_and_reads_no_frozen_text(ctx, monkeypatch):
    """The header's count builds no link and parses no convention text: the database
    decides who signs a version (it routed and parsed every duty before)."""
    ready = make_convention_ready()
    ready.submit()
    market = ready.market
    g.membership = active_membership(market.employer_user, market.employer)
    who = (market.employer_user, market.employer, g.membership)
    kinds = [d.kind for d in across.page(*who)]
    assert "signature" in kinds

    def refuse(*_args, **_kwargs):
        raise AssertionError("the count built a duty's link or read a frozen text")

    monkeypatch.setattr("portal.todo.base.url_for", refuse)
    monkeypatch.setattr("portal.conventions.state.snapshot_of", refuse)
    monkeypatch.setattr("portal.conventions.state.signing_parties", refuse)
    assert across.count(*who) == len(kinds)


@pytest.mark.parametrize("email", [REGION_ADMIN, OF_A, EMPLOYER])
def test_the_count_sends_the_same_sql_whatever_the_operations(app, client, market, email):
    """No list of ids in the count's SQL: the same statements at 12 and 140 operations
    (some rules passed the operations' ids as ``IN`` lists before)."""
    add_operations(app, market, 12)
    login_as(client, email)

    def statements():
        with count_queries(app) as sent:
            client.get("/a-faire/compte", headers=HTMX)
        return [re.sub(r"\d+", "N", s) for s in sent]

    small = statements()
    add_operations(app, market, 128)
    assert statements() == small


def test_the_database_reads_who_signs_as_the_frozen_text_says(ctx):
    """``signing_party_sql``, on SQLite and PostgreSQL, agrees with ``signing_parties`` for
    every organisation named by a version (and one it does not name)."""
    ready = make_convention_ready()
    version = ready.submit()
    db.session.flush()
    parties = json.loads(version.canonical)["parties"]
    signing = {p["organisation_id"] for p in signing_parties(json.loads(version.canonical))}
    assert signing and len(signing) < len(parties)  # the Région is named and does not sign
    for organisation_id in [p["organisation_id"] for p in parties] + [10_000]:
        found = db.session.scalar(
            select(ConventionVersion.id).where(
                ConventionVersion.id == version.id, signing_party_sql(organisation_id)
            )
        )
        assert (found is not None) == (organisation_id in signing), organisation_id


def test_the_signing_parties_kept_are_those_of_the_frozen_texts(ctx):
    """The signing parties kept with each version (``SigningParty``, what
    ``signing_party_sql`` reads) are, after the services' submissions — a first version,
    then one that replaces it — exactly those every frozen text names, recounted."""
    ready = make_convention_ready(second_employer=True)
    ready.submit()
    ready.edit_clause("Un objet modifié : la version suivante remplace la première.")
    ready.submit()
    db.session.flush()
    kept = set(db.session.execute(select(SigningParty.version_id, SigningParty.organisation_id)))
    recounted = {
        (version.id, party["organisation_id"])
        for version in db.session.scalars(select(ConventionVersion))
        for party in signing_parties(json.loads(version.canonical))
    }
    assert len({version_id for version_id, _org in recounted}) == 2
    assert kept == recounted


def test_a_page_is_the_slice_of_the_whole_list(ctx):
    """``across.page`` with a limit and an offset gives exactly that slice of the list."""
    market = Market()
    for _n in range(4):
        market.report()
    g.membership = active_membership(market.referent, market.region)
    who = (market.referent, market.region, g.membership)
    whole = [(d.kind, d.operation.id, str(d.label)) for d in across.page(*who)]
    assert len(whole) == across.count(*who) and len(whole) >= 4
    for offset in range(len(whole)):
        part = across.page(*who, limit=1, offset=offset)
        assert [(d.kind, d.operation.id, str(d.label)) for d in part] == whole[offset : offset + 1]
