"""Command-line verbs: ``flask --app portal demo`` and ``flask --app portal mail send``."""

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from portal.extensions import db


def register_cli(app: Flask) -> None:
    """Attach the portal's commands to ``app.cli``."""

    @app.cli.command("demo")
    @click.option(
        "--if-empty", is_flag=True, help="Ne rien faire si la base contient déjà des données."
    )
    def demo_command(if_empty: bool) -> None:
        """Load the French demo data (refused in production)."""
        from portal.accounts.models import Organisation
        from portal.demo import DEMO_LOGINS, load_demo

        if current_app.config["PORTAL_ENV"] == "production":
            raise click.ClickException("Les données de démonstration sont refusées en production.")
        if db.session.scalar(select(func.count()).select_from(Organisation)):
            if if_empty:
                click.echo("La base contient déjà des données : démonstration non rechargée.")
                return
            raise click.ClickException("La base n'est pas vide : démonstration non chargée.")
        with current_app.test_request_context(base_url=current_app.config["PUBLIC_URL"]):
            load_demo()
            db.session.commit()
        click.echo(f"Données de démonstration chargées ({len(DEMO_LOGINS)} comptes).")

    @app.cli.command("demo-logins")
    def demo_logins_command() -> None:
        """Print the demo accounts and their password."""
        from portal.demo import DEMO_LOGINS, DEMO_PASSWORD

        click.echo(f"Comptes de démonstration (mot de passe commun : {DEMO_PASSWORD})")
        for email, role in DEMO_LOGINS:
            click.echo(f"  {email:<32} {role}")

    # AppGroup (not click.Group): its commands run inside the application context.
    mail = AppGroup("mail", help="Courriels de la boîte d'envoi.")

    @mail.command("send")
    @click.option("--limit", default=200, show_default=True)
    def mail_send(limit: int) -> None:
        """Send (or retry) the unsent messages of the outbox."""
        from portal.mail.services import send_pending, smtp_configured

        if not smtp_configured():
            raise click.ClickException("MAIL_SERVER n'est pas défini : aucun envoi possible.")
        sent, failed = send_pending(limit=limit)
        click.echo(f"{sent} envoyé(s), {failed} en échec (conservé(s) pour un nouvel essai).")
        if failed:
            raise SystemExit(1)

    app.cli.add_command(mail)
    from portal.lots import cli as lots_cli

    lots_cli.register(app)
