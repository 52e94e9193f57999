"""``support.load_demo_copy``: after the first real load, the demo is copied from the rows
that load wrote; a copy must be the very same data, and later rows must get new ids."""

from sqlalchemy import select

from portal.accounts.models import Organisation, OrgKind
from portal.extensions import db
from tests.factories import make_org
from tests.support import all_rows, empty_database, load_demo_copy, login_as, text

BASE_URL = "http://copie.portail.test"  # a key of its own: the first call here loads for real


def test_a_copy_is_the_loaded_demo_row_for_row_and_the_portal_works_on_it(app, client):
    load_demo_copy(app, BASE_URL)
    loaded = all_rows(app)
    assert sum(len(rows) for rows in loaded.values()) > 500
    empty_database(app)
    assert not any(all_rows(app).values())

    load_demo_copy(app, BASE_URL)
    assert all_rows(app) == loaded

    # New rows take identifiers after the copied ones, and the pages read the copy.
    with app.app_context():
        newest = db.session.scalar(select(Organisation.id).order_by(Organisation.id.desc()))
        assert make_org(OrgKind.EMPLOYER, "Après la copie").id > newest
        db.session.rollback()
    login_as(client, "region@demo.defi.test")
    assert "Bonjour" in text(client.get("/"))
