"""The ``world`` fixture copies its first build (``factories.make_world``): a copy must be
the same rows as the build, timestamps and password hashes included, and its accounts
must log in; next to other rows it is built for real."""

from sqlalchemy import func, select

from portal.accounts.models import Organisation, OrgKind
from portal.extensions import db
from tests.factories import _WORLD_COPIES, make_org, make_world
from tests.support import all_rows, client_as, empty_database, form_login


def test_a_copied_world_is_the_built_one_row_for_row(app, client):
    empty_database(app)
    _WORLD_COPIES.clear()
    built = make_world(app)  # for real, and kept
    first = all_rows(app)
    empty_database(app)
    copied = make_world(app)  # copied
    assert all_rows(app) == first
    assert sum(len(rows) for rows in first.values()) >= 19
    assert copied.ids == built.ids and copied.emails == built.emails
    assert form_login(client, copied.emails["a_admin"]).status_code == 302
    assert client_as(app, copied.emails["region_admin"]).get("/").status_code == 200


def test_next_to_other_rows_the_world_is_built_for_real(app):
    make_world(app)
    empty_database(app)
    with app.app_context():
        make_org(OrgKind.EMPLOYER, "Déjà là")  # takes the first identifier
        db.session.commit()
    world = make_world(app)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Organisation)) == 6
        assert db.session.get(Organisation, world.of_a).name == "Organisme A"
