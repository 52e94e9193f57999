"""``flask --app portal lots import FILE``: the same all-or-nothing import, from a terminal."""

import pytest
from sqlalchemy import select

from portal.accounts.models import OrgKind
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.lots.models import MarketLot
from tests.factories import make_org, make_territory, make_user
from tests.lots import OF_SIRET, csv_bytes, lot_row


@pytest.fixture
def market(app):
    """Bassins ORL and TRS, an organisme with a SIRET and a Région admin, committed."""
    with app.app_context():
        make_territory("Orléans", "ORL")
        make_territory("Tours", "TRS")
        make_org(OrgKind.PROVIDER, "Forma'Centre", siret=OF_SIRET)
        region = make_org(OrgKind.REGION, "Région")
        make_user(region, email="simple.membre@example.fr")
        admin = make_user(region, admin=True, email="admin.region@example.fr")
        db.session.commit()
        return admin.id


def run_import(app, path):
    return app.test_cli_runner().invoke(args=["lots", "import", str(path)])


def numbers(app) -> list[str]:
    with app.app_context():
        return db.session.scalars(select(MarketLot.number).order_by(MarketLot.number)).all()


def test_good_file_is_imported(app, market, tmp_path):
    path = tmp_path / "lots.csv"
    path.write_bytes(csv_bytes(lot_row("2024-PM-01"), lot_row("2024-PM-02"), encoding="cp1252"))
    result = run_import(app, path)
    assert result.exit_code == 0, result.output
    assert "Import terminé : 2 lot(s) créé(s), 0 lot(s) mis à jour." in result.stdout
    assert numbers(app) == ["2024-PM-01", "2024-PM-02"]
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "lots.imported"))
        assert event.actor_id == market  # the Région's admin, not its first member

    path.write_bytes(csv_bytes(lot_row("2024-PM-01", intitule="Révisé")))
    again = run_import(app, path)
    assert again.exit_code == 0
    assert "0 lot(s) créé(s), 1 lot(s) mis à jour." in again.stdout


def test_bad_file_exits_1_with_every_bad_line_and_imports_nothing(app, market, tmp_path):
    path = tmp_path / "lots.csv"
    path.write_bytes(
        csv_bytes(
            lot_row("2024-PM-01"),
            lot_row("2024-PM-02", categorie="Qualifiante"),
            lot_row("2024-PM-03", bassins="XYZ", codes_rome="H29"),
        )
    )
    result = run_import(app, path)
    assert result.exit_code == 1
    assert "Fichier refusé, aucun lot importé : 2 ligne(s) en erreur." in result.stderr
    assert "ligne 3, colonne « categorie » : catégorie inconnue « Qualifiante »" in result.stderr
    assert "ligne 4, colonne « bassins » : bassin(s) inconnu(s) : XYZ" in result.stderr
    assert "ligne 4, colonne « codes_rome » : Code ROME invalide : H29" in result.stderr
    assert numbers(app) == []


def test_undecodable_file_is_refused(app, market, tmp_path):
    path = tmp_path / "lots.csv"
    path.write_bytes(b"numero\x81\x8d\n")
    result = run_import(app, path)
    assert result.exit_code == 1
    assert "ni en UTF-8 ni en Windows-1252" in result.stderr


def test_missing_file_is_a_usage_error(app, tmp_path):
    result = run_import(app, tmp_path / "absent.csv")
    assert result.exit_code == 2
    assert numbers(app) == []


def test_import_without_any_region_admin_records_no_actor(app, tmp_path):
    with app.app_context():
        make_territory("Orléans", "ORL")
        make_territory("Tours", "TRS")
        make_org(OrgKind.PROVIDER, "Forma'Centre", siret=OF_SIRET)
        db.session.commit()
    path = tmp_path / "lots.csv"
    path.write_bytes(csv_bytes(lot_row("2024-PM-01")))
    result = run_import(app, path)
    assert result.exit_code == 0, result.output
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "lot.created"))
        assert event.actor_id is None
