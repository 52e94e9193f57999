"""``flask --app portal backup [--to PATH]`` and ``flask --app portal restore PATH --yes``.

Meant for cron, e.g. every night at 02:30 (see the README, « Sauvegarde et restauration »)::

    30 2 * * *  cd /srv/portail && .venv/bin/flask --app portal backup

A restore replaces the database and the documents: stop the portal (gunicorn and
``jobs work``) first; it is refused without ``--yes``.
"""

from pathlib import Path

import click
from flask import Flask

from portal.backups import archive
from portal.core.errors import RuleError


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} Mo"


def register(app: Flask) -> None:
    """Attach ``backup`` and ``restore`` to ``app.cli``."""

    @app.cli.command("backup")
    @click.option(
        "--to",
        "destination",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Fichier de l'archive (par défaut BACKUPS_DIR/portail-AAAAMMJJ-HHMMSS.tar).",
    )
    def backup_command(destination: Path | None) -> None:
        """Save the database and the generated documents in one archive (.tar)."""
        try:
            outcome = archive.create_backup(destination or archive.default_destination())
        except (RuleError, OSError) as exc:
            raise click.ClickException(
                f"Sauvegarde impossible : {getattr(exc, 'message', exc)}"
            ) from exc
        manifest = outcome.manifest
        head = manifest["audit_chain_head"] or {"seq": 0, "hash": "-"}
        click.echo(
            f"Sauvegarde écrite : {outcome.path} ({_megabytes(outcome.size)}, "
            f"{outcome.seconds:.1f} s)."
        )
        click.echo(
            f"Base {manifest['dialect']} : {sum(manifest['tables'].values())} ligne(s) dans "
            f"{len(manifest['tables'])} table(s) ; "
            f"{len(manifest['files']) - 1} document(s) ; "
            f"chaîne d'audit : {head['seq']} événement(s), tête {head['hash']}."
        )

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--yes", is_flag=True, help="Confirme le remplacement des données actuelles.")
    def restore_command(path: Path, yes: bool) -> None:
        """Replace the database and the documents by those of the archive PATH."""
        if not yes:
            raise click.ClickException(
                "La restauration remplace toute la base et les documents actuels. Arrêtez le "
                "portail, puis relancez la commande avec --yes pour confirmer."
            )
        try:
            outcome = archive.restore_backup(path)
        except (RuleError, OSError) as exc:
            raise click.ClickException(
                f"Restauration impossible : {getattr(exc, 'message', exc)}"
            ) from exc
        manifest = outcome.manifest
        click.echo(
            f"Sauvegarde du {manifest['created_at']} restaurée en {outcome.seconds:.1f} s : "
            f"{sum(manifest['tables'].values())} ligne(s), "
            f"{len(manifest['files']) - 1} document(s)."
        )
        if outcome.problems:
            click.echo("Vérification après restauration : écarts constatés.")
            for problem in outcome.problems:
                click.echo(f"  - {problem}")
            raise SystemExit(1)
        click.echo(
            "Vérification après restauration : nombres de lignes conformes au manifeste, "
            "chaîne d'audit intacte."
        )
