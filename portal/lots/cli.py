"""``flask --app portal lots import FILE``: the CSV import, from the command line."""

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from portal.accounts.models import Membership, Organisation, OrgKind, User
from portal.core.errors import RuleError
from portal.extensions import db
from portal.lots.services import import_lots_csv

lots = AppGroup("lots", help="Lots du marché régional de formation.")


def _first_region_admin() -> User | None:
    """The actor recorded in the audit trail: the Région's first admin, if there is one."""
    return db.session.scalar(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(
            Organisation.kind == OrgKind.REGION,
            Membership.is_admin.is_(True),
            Membership.active.is_(True),
            User.is_enabled.is_(True),
        )
        .order_by(Membership.id)
        .limit(1)
    )


@lots.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(file: Path) -> None:
    """Import the lots of FILE (CSV); a file with any bad line is refused whole."""
    # The French messages and the audit trail expect a request context, as in the web app.
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
        try:
            report = import_lots_csv(file.read_bytes(), by=_first_region_admin())
        except RuleError as exc:
            db.session.rollback()
            raise click.ClickException(exc.message) from exc
        if not report.ok:
            db.session.rollback()
            lines = len({line for line, _column, _reason in report.errors})
            click.echo(f"Fichier refusé, aucun lot importé : {lines} ligne(s) en erreur.", err=True)
            for line, column, reason in report.errors:
                where = f", colonne « {column} »" if column else ""
                click.echo(f"  ligne {line}{where} : {reason}", err=True)
            raise SystemExit(1)
        db.session.commit()
    click.echo(
        f"Import terminé : {len(report.created)} lot(s) créé(s), "
        f"{len(report.updated)} lot(s) mis à jour."
    )


def register(app: Flask) -> None:
    """Attach the ``lots`` commands to the application's CLI."""
    app.cli.add_command(lots)
