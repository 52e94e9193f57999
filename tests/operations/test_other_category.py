"""« Autre session de formation » (issue #12): the sheet says any training session can
become a DEFI, so a need outside the three Parcours Métiers categories is accepted by the
form and the services, lots of that category are imported, and the database allows it."""

from sqlalchemy import select

from portal.accounts.models import OrgKind
from portal.extensions import db
from portal.lots.models import Category, MarketLot
from portal.lots.services import import_lots_csv
from portal.operations.models import Funding, Operation
from tests.factories import make_org, make_territory, make_user
from tests.lots import OF_SIRET, csv_bytes, lot_row
from tests.operations.factories import OF_A, Market, build_market, make_lot, need_form
from tests.support import login_as, text


def test_a_need_outside_the_parcours_metiers_is_reported(ctx):
    market = Market()
    operation = market.report(category=Category.OTHER, rome_code="H2903")
    db.session.flush()
    db.session.expire(operation)
    assert operation.category == Category.OTHER
    assert operation.category.title == "Autre session de formation"
    assert operation.funding == Funding.PENDING  # no lot of that category: the Région decides


def test_a_lot_of_another_session_covers_its_needs(ctx):
    market = Market()
    lot = make_lot(market.of_a, [market.tours], codes=("H2903",), category=Category.OTHER)
    operation = market.report(category=Category.OTHER, rome_code="H2903")
    assert (operation.funding, operation.lot) == (Funding.LOT, lot)


def test_lots_of_another_session_are_imported(ctx):
    make_territory("Orléans", "ORL")
    make_territory("Tours", "TRS")
    make_org(OrgKind.PROVIDER, "Forma'Centre", siret=OF_SIRET)
    admin = make_user(make_org(OrgKind.REGION, "Région"), admin=True)
    report = import_lots_csv(
        csv_bytes(lot_row("2024-AS-01", categorie="Autre session de formation")), by=admin
    )
    assert report.ok, report.errors
    assert db.session.scalar(select(MarketLot.category)) == Category.OTHER


def test_the_form_offers_and_accepts_the_category(app, client):
    market = build_market(app)
    login_as(client, OF_A)
    form = text(client.get("/operations/nouveau-besoin"))
    assert '<option value="other">Autre session de formation</option>' in form
    assert "toute session de formation peut prendre la forme d'un DEFI" in form
    response = client.post(
        "/operations/nouveau-besoin", data=need_form(market, category="other", rome_code="h2903")
    )
    assert response.status_code in (302, 303)
    with app.app_context():
        assert db.session.scalar(select(Operation.category)) == Category.OTHER
