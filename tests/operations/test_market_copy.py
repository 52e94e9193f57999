"""The Market factory copies its first build: a copy must be the same rows, and the same
objects, as a build through the services."""

from sqlalchemy import func, select

from portal.accounts.models import Organisation, OrgKind
from portal.extensions import db
from tests.factories import make_org
from tests.operations.factories import Market
from tests.support import empty_database, read_rows


def _market_rows(app) -> dict:
    """The rows of a Market made in an empty database (built, or copied from a build)."""
    empty_database(app)
    with app.app_context():
        Market()
        rows = read_rows(db.session.connection())
        db.session.rollback()
    return rows


def test_a_copied_market_is_the_built_one_row_for_row(app):
    first, second = _market_rows(app), _market_rows(app)
    # Timestamps included: the second market was copied, not built again a moment later.
    assert second == first
    assert sum(len(rows) for rows in first.values()) > 20


def test_the_copied_objects_are_linked_like_built_ones(app):
    _market_rows(app)
    with app.app_context():
        market = Market()
        assert market.tours.referent is market.referent
        assert market.lot.holder is market.of_a
        assert [m.organisation for m in market.a_user.memberships] == [market.of_a]
        db.session.rollback()


def test_next_to_other_rows_the_market_is_built_for_real(app):
    _market_rows(app)
    with app.app_context():
        make_org(OrgKind.EMPLOYER, "Déjà là")  # takes the first identifier
        market = Market()
        assert market.region.name == "Région Centre-Val de Loire"
        assert db.session.scalar(select(func.count()).select_from(Organisation)) == 7
        db.session.rollback()
