"""Market lots services: the covering lot, the rules of a lot, and the all-or-nothing import."""

import csv
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.accounts.models import OrgKind
from portal.audit.models import AuditEvent
from portal.core.errors import RuleError
from portal.extensions import db
from portal.lots.models import Category, MarketLot
from portal.lots.services import find_covering_lot, import_lots_csv, parse_rome_codes, save_lot
from tests.factories import make_org, make_territory, make_user
from tests.lots import HEADER, OF_SIRET, OTHER_OF_SIRET, csv_bytes, lot_row, make_lot

IN_PERIOD = date(2025, 6, 1)


@pytest.fixture
def market(ctx):
    """Two bassins (ORL, TRS), two organismes with a SIRET, an employer and a Région admin."""
    region = make_org(OrgKind.REGION, "Région")
    return type(
        "Market",
        (),
        {
            "orl": make_territory("Orléans", "ORL"),
            "trs": make_territory("Tours", "TRS"),
            "of": make_org(OrgKind.PROVIDER, "Forma'Centre", siret=OF_SIRET),
            "other_of": make_org(OrgKind.PROVIDER, "Touraine Formation", siret=OTHER_OF_SIRET),
            "employer": make_org(OrgKind.EMPLOYER, "Entreprise", siret="90000000005034"),
            "admin": make_user(region, admin=True),
        },
    )


def lot_count() -> int:
    return db.session.scalar(select(func.count()).select_from(MarketLot))


def lot_data(market, **overrides) -> dict:
    data = {
        "number": "2024-PM-01",
        "title": "Prépa Métiers industrie",
        "category": Category.PREPA_METIERS,
        "territories": [market.orl],
        "holder": market.of,
        "period_start": 2024,
        "period_end": 2027,
        "rome_codes": ["H2903"],
    }
    data.update(overrides)
    return data


# --- find_covering_lot ---------------------------------------------------------------------


def test_covering_lot_is_the_active_lot_for_category_bassin_trade_and_year(market):
    lot = make_lot(market.of, [market.orl, market.trs], rome_codes=("H2903", "K2204"))
    make_lot(market.other_of, [market.trs], category=Category.SE_FORMER, rome_codes=("K2204",))
    found = find_covering_lot(Category.PREPA_METIERS, market.trs, " k2204 ", on=IN_PERIOD)
    assert found == lot
    assert found.holder == market.of


@pytest.mark.parametrize(
    ("change", "search"),
    [
        pytest.param({}, {"category": Category.CHANTIER_FORMATION}, id="other-category"),
        pytest.param({}, {"territory": "trs"}, id="other-bassin"),
        pytest.param({}, {"rome_code": "K2204"}, id="other-trade"),
        pytest.param({"active": False}, {}, id="inactive"),
        pytest.param({}, {"on": date(2028, 1, 1)}, id="after-period"),
        pytest.param({}, {"on": date(2023, 12, 31)}, id="before-period"),
    ],
)
def test_no_covering_lot(market, change, search):
    make_lot(market.of, [market.orl], rome_codes=("H2903",), period=(2024, 2027), **change)
    args = {"category": Category.PREPA_METIERS, "rome_code": "H2903", "on": IN_PERIOD}
    args.update(search)
    territory = getattr(market, args.pop("territory", "orl"))
    assert find_covering_lot(territory=territory, **args) is None


def test_covering_lot_on_the_period_bounds(market):
    lot = make_lot(market.of, [market.orl], period=(2024, 2027))
    for day in (date(2024, 1, 1), date(2027, 12, 31)):
        assert find_covering_lot(Category.PREPA_METIERS, market.orl, "H2903", on=day) == lot


# --- save_lot ------------------------------------------------------------------------------


def test_save_lot_creates_with_bassins_and_trades_and_audits(market):
    lot = save_lot(
        lot_data(market, territories=[market.orl, market.trs], rome_codes=["H2903", "K2204"]),
        by=market.admin,
    )
    assert lot.holder == market.of
    assert {t.code for t in lot.territories} == {"ORL", "TRS"}
    assert lot.rome_codes == ["H2903", "K2204"]
    assert lot.active is True
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "lot.created"))
    assert event.actor_id == market.admin.id
    assert event.object_id == lot.id


def test_save_lot_updates_trades_and_bassins(market):
    lot = save_lot(lot_data(market, rome_codes=["H2903", "K2204"]), by=market.admin)
    save_lot(
        lot_data(market, territories=[market.trs], rome_codes=["K2204", "K2201"], active=False),
        by=market.admin,
        lot=lot,
    )
    db.session.expire_all()
    assert lot.rome_codes == ["K2201", "K2204"]
    assert [t.code for t in lot.territories] == ["TRS"]
    assert lot.active is False


@pytest.mark.parametrize("kind", [OrgKind.EMPLOYER, OrgKind.PARTNER, OrgKind.REGION])
def test_holder_must_be_an_organisme_de_formation(market, kind):
    with pytest.raises(RuleError) as error:
        save_lot(lot_data(market, holder=make_org(kind)), by=market.admin)
    assert error.value.field == "holder_id"
    assert "organisme de formation" in error.value.message


def test_lot_number_is_unique(market):
    save_lot(lot_data(market), by=market.admin)
    with pytest.raises(RuleError) as error:
        save_lot(lot_data(market, title="Autre"), by=market.admin)
    assert error.value.field == "number"
    assert "existe déjà" in error.value.message


def test_editing_a_lot_keeps_its_own_number(market):
    lot = save_lot(lot_data(market), by=market.admin)
    assert save_lot(lot_data(market, title="Nouvel intitulé"), by=market.admin, lot=lot) is lot
    assert lot.title == "Nouvel intitulé"


def test_period_end_cannot_precede_start(market):
    with pytest.raises(RuleError) as error:
        save_lot(lot_data(market, period_start=2027, period_end=2024), by=market.admin)
    assert error.value.field == "period_end"
    assert lot_count() == 0


@pytest.mark.parametrize(
    ("override", "field"),
    [({"territories": []}, "territory_ids"), ({"rome_codes": []}, "rome_codes")],
)
def test_lot_needs_a_bassin_and_a_trade(market, override, field):
    with pytest.raises(RuleError) as error:
        save_lot(lot_data(market, **override), by=market.admin)
    assert error.value.field == field


def test_parse_rome_codes_normalises_and_refuses_bad_codes():
    assert parse_rome_codes("k2204, K2201;K2204 h2903") == ["H2903", "K2201", "K2204"]
    with pytest.raises(RuleError) as error:
        parse_rome_codes("K2204, Z9999, K22")
    assert "Z9999, K22" in error.value.message


# --- CSV import ----------------------------------------------------------------------------


def test_import_creates_lots_with_bassins_and_trades(market):
    raw = csv_bytes(
        lot_row("2024-PM-01"),
        lot_row(
            "2024-SF-02",
            intitule="Se former au métier d'aide à domicile",
            categorie="Se former au métier de",
            bassins="trs",
            attributaire_siret="900 000 000 05026",
            periode="2024 - 2027",
            codes_rome="K1302|k1304",
        ),
    )
    report = import_lots_csv(raw, by=market.admin)
    assert report.ok, report.errors
    assert report.created == ["2024-PM-01", "2024-SF-02"]
    first, second = db.session.scalars(select(MarketLot).order_by(MarketLot.number)).all()
    assert (first.category, first.holder, first.period_label) == (
        Category.PREPA_METIERS,
        market.of,
        "2024–2027",
    )
    assert [t.code for t in first.territories] == ["ORL", "TRS"]
    assert first.rome_codes == ["H2903", "H2913"]
    assert (second.category, second.holder) == (Category.SE_FORMER, market.other_of)
    assert [t.code for t in second.territories] == ["TRS"]
    assert second.rome_codes == ["K1302", "K1304"]
    assert db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "lots.imported")
    ).detail == {"created": 2, "updated": 0}


def test_reimport_updates_lots_by_number(market):
    import_lots_csv(csv_bytes(lot_row("2024-PM-01")), by=market.admin)
    lot = db.session.scalar(select(MarketLot))
    lot.active = False  # deactivated by the Région since the first import
    report = import_lots_csv(
        csv_bytes(
            lot_row("2024-PM-01", intitule="Intitulé révisé", bassins="TRS", codes_rome="K2204"),
            lot_row("2024-PM-02"),
        ),
        by=market.admin,
    )
    assert (report.created, report.updated) == (["2024-PM-02"], ["2024-PM-01"])
    assert lot_count() == 2
    db.session.expire_all()
    assert lot.title == "Intitulé révisé"
    assert [t.code for t in lot.territories] == ["TRS"]
    assert lot.rome_codes == ["K2204"]
    assert lot.active is False  # the file has no "active" column: re-import keeps the state


@pytest.mark.parametrize(
    ("override", "column", "reason"),
    [
        ({"categorie": "Formation qualifiante"}, "categorie", "catégorie inconnue"),
        ({"bassins": "ORL|XYZ"}, "bassins", "XYZ"),
        ({"bassins": ""}, "bassins", "aucun bassin"),
        ({"attributaire_siret": "90000000009999"}, "attributaire_siret", "90000000009999"),
        ({"attributaire_siret": "90000000005034"}, "attributaire_siret", "organisme"),
        ({"periode": "2024"}, "periode", "2021-2024"),
        ({"periode": "2027-2024"}, "periode", "précède"),
        ({"periode": "1990-2024"}, "periode", "entre 2000 et 2100"),
        ({"codes_rome": "H2903|XYZ"}, "codes_rome", "XYZ"),
        ({"codes_rome": ""}, "codes_rome", "aucun code ROME"),
        ({"numero": ""}, "numero", "manquant"),
        ({"numero": "N" * 31}, "numero", "trop long"),
        ({"intitule": ""}, "intitule", "manquant"),
    ],
)
def test_each_bad_line_is_reported_with_line_and_column(market, override, column, reason):
    raw = csv_bytes(lot_row("2024-PM-01"), lot_row("2024-PM-02", **override))
    report = import_lots_csv(raw, by=market.admin)
    assert [(line, col) for line, col, _reason in report.errors] == [(3, column)]
    assert reason in report.errors[0][2]
    assert report.created == []
    assert lot_count() == 0


def test_duplicate_number_in_the_file_is_reported_on_its_second_line(market):
    report = import_lots_csv(
        csv_bytes(lot_row("2024-PM-01"), lot_row("2024-PM-02"), lot_row("2024-PM-01")),
        by=market.admin,
    )
    assert [(line, column) for line, column, _reason in report.errors] == [(4, "numero")]
    assert "en double" in report.errors[0][2]


def test_missing_header_column_refuses_the_file(market):
    header = [c for c in HEADER if c not in ("periode", "codes_rome")]
    report = import_lots_csv(csv_bytes(lot_row()[:5], header=header), by=market.admin)
    assert report.errors == [(1, "periode, codes_rome", "colonne(s) absente(s) de l'en-tête")]
    assert lot_count() == 0


def test_every_bad_line_is_reported_and_nothing_is_imported(market):
    raw = csv_bytes(
        lot_row("2024-PM-01"),
        lot_row("2024-PM-02", categorie="Inconnue", codes_rome="Z1"),
        lot_row("2024-PM-03"),
        lot_row("2024-PM-04", bassins="NOPE"),
    )
    report = import_lots_csv(raw, by=market.admin)
    assert [(line, column) for line, column, _reason in report.errors] == [
        (3, "categorie"),
        (3, "codes_rome"),
        (5, "bassins"),
    ]
    assert lot_count() == 0
    lot_events = select(func.count()).where(AuditEvent.action.like("lot%"))
    assert db.session.scalar(lot_events) == 0


def test_line_numbers_are_physical_lines_despite_blank_lines(market):
    header = ";".join(HEADER)
    good, bad = ";".join(lot_row("A")), ";".join(lot_row("B", periode="x"))
    raw = f"{header}\r\n{good}\r\n\r\n;;;;;;\r\n{bad}\r\n".encode()
    report = import_lots_csv(raw, by=market.admin)
    assert [(line, column) for line, column, _reason in report.errors] == [(5, "periode")]


def test_a_line_with_more_fields_than_the_header_is_reported(market):
    raw = csv_bytes(lot_row("A"), [*lot_row("B"), "en trop"])
    report = import_lots_csv(raw, by=market.admin)
    assert [(line, column) for line, column, _reason in report.errors] == [(3, "")]
    assert "plus de colonnes" in report.errors[0][2]
    assert lot_count() == 0


def test_a_file_without_lines_is_refused(market):
    report = import_lots_csv(csv_bytes(), by=market.admin)
    assert [reason for _line, _column, reason in report.errors] == [
        "le fichier ne contient aucune ligne de lot"
    ]


@pytest.mark.parametrize("sep", [";", ","])
def test_semicolon_and_comma_delimiters(market, sep):
    raw = csv_bytes(lot_row("2024-PM-01", bassins="ORL"), lot_row("2024-PM-02"), sep=sep)
    report = import_lots_csv(raw, by=market.admin)
    assert report.created == ["2024-PM-01", "2024-PM-02"]


def test_windows_1252_file_is_accepted(market):
    raw = csv_bytes(
        lot_row(
            "2024-CF-01", intitule="Chantier formation bâtiment", categorie="Chantier formation"
        ),
        lot_row("2024-PM-02", intitule="Prépa Métiers : métiers de l'hôtellerie"),
        encoding="cp1252",
    )
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    report = import_lots_csv(raw, by=market.admin)
    assert report.ok, report.errors
    titles = db.session.scalars(select(MarketLot.title).order_by(MarketLot.number)).all()
    assert titles == ["Chantier formation bâtiment", "Prépa Métiers : métiers de l'hôtellerie"]


def test_utf8_with_bom_and_an_en_dash_period(market):
    raw = b"\xef\xbb\xbf" + csv_bytes(lot_row("2024-PM-01", periode="2024–2027"))
    report = import_lots_csv(raw, by=market.admin)
    assert report.ok, report.errors
    assert db.session.scalar(select(MarketLot.period_end)) == 2027


def test_undecodable_file_is_refused(market):
    with pytest.raises(RuleError) as error:
        import_lots_csv(b"numero\x81\x8d\n", by=market.admin)
    assert "UTF-8" in error.value.message


def test_a_file_without_delimiter_leaves_the_csv_module_untouched(market):
    report = import_lots_csv(b"numero\r\nA\r\n", by=market.admin)
    assert report.errors[0][0] == 1  # the missing columns
    assert csv.excel.delimiter == ","
