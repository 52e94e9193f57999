"""The home pages' lists are bounded (issue #16): the first items and a link to the rest,
never every operation, action item or meeting, so that a home costs the same queries and
about the same bytes at 100 and at 10,000 operations."""

import re

from sqlalchemy import select

from portal.core.views import HOME_OPERATIONS
from portal.extensions import db
from portal.operations.models import Operation, Status
from portal.steering import minutes, services
from portal.steering.models import SteeringMeeting
from portal.steering.queries import HOME_ITEMS
from portal.steering.rules import paris
from tests.operations.factories import EMPLOYER, OF_A, add_operations, build_market
from tests.steering.factories import Committee, meeting_data
from tests.support import committed, explain, login_as, queries, text


def section(page: str, title_id: str) -> str:
    """The HTML of the home card labelled by ``title_id``."""
    match = re.search(rf'<section[^>]*aria-labelledby="{title_id}".*?</section>', page, re.S)
    assert match, title_id
    return match.group(0)


def test_more_operations_than_the_home_shows_link_to_the_list(app, client):
    market = build_market(app)
    add_operations(app, market, HOME_OPERATIONS + 8)
    with app.app_context():
        shown = db.session.scalars(
            select(Operation.id)
            .where(Operation.status != Status.CANCELLED)
            .order_by(Operation.reported_at.desc(), Operation.id.desc())
        ).all()
    assert len(shown) > HOME_OPERATIONS
    login_as(client, OF_A)
    card = section(client.get("/").get_data(as_text=True), "ops")
    links = set(map(int, re.findall(r'href="/operations/(\d+)"', card)))
    assert links == set(shown[:HOME_OPERATIONS])
    assert "Toutes les opérations" in card and 'href="/operations/"' in card


def _site(app) -> dict:
    """A committee with one meeting held yesterday; the ids ``_grow`` needs."""
    with committed(app):
        world = Committee()
        held = world.held()
        return {"meeting": held.id, "employer": world.market.employer.id,
                "region": world.region, "carrier": world.carrier}  # fmt: skip


def _grow(app, site: dict, meetings: int, actions: int) -> None:
    """``meetings`` more coming meetings and ``actions`` more open action items owned by
    Entreprise E."""
    with committed(app):
        held = db.session.get(SteeringMeeting, site["meeting"])
        region = {k: db.session.merge(v) for k, v in site["region"].items()}
        carrier = {k: db.session.merge(v) for k, v in site["carrier"].items()}
        start = len(held.committee.meetings)
        for days in range(start, start + meetings):
            services.schedule_meeting(held.committee.operation, meeting_data(10 + days),
                                      **region)  # fmt: skip
        start = len(held.actions)
        for n in range(start, start + actions):
            data = {"title": f"Action numéro {n:02d}", "owner_org_id": site["employer"],
                    "owner_user_id": None, "due_on": paris(held.starts_at).date()}  # fmt: skip
            minutes.add_action(held, data, **carrier)


def test_the_steering_card_shows_the_first_items_and_links_to_the_rest(app, client):
    site = _site(app)
    _grow(app, site, meetings=HOME_ITEMS + 2, actions=HOME_ITEMS + 2)
    login_as(client, EMPLOYER)
    card = section(client.get("/").get_data(as_text=True), "steering-home-title")
    shown = set(re.findall(r"Action numéro (\d+)", card))
    assert len(shown) == HOME_ITEMS and f"Action numéro {HOME_ITEMS:02d}" not in card
    assert "Voir toutes les tâches" in card and 'href="/a-faire"' in card
    coming = set(map(int, re.findall(r'/reunions/(\d+)"', card))) - {site["meeting"]}
    assert len(coming) == HOME_ITEMS
    assert "Seules les 10 prochaines réunions sont affichées" in card
    assert "Voir toutes les opérations" in card


def test_the_home_costs_the_same_queries_with_more_committee_items(app, client):
    site = _site(app)
    _grow(app, site, meetings=1, actions=1)
    login_as(client, EMPLOYER)
    small = queries(app, client, "/")
    assert "Action numéro 00" in text(client.get("/"))
    _grow(app, site, meetings=HOME_ITEMS + 3, actions=HOME_ITEMS + 3)
    large = queries(app, client, "/")
    assert len(small) == len(large), explain(small, large)
