"""Command-line verbs: ``demo``, ``mail send``, ``audit verify``, ``reminders send``,
``notifications digest``, ``jobs work``, ``retention apply``, ``backup`` and ``restore``.

Run them as ``flask --app portal <command>``.
"""

import signal
import threading

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from portal.accounts.models import Organisation
from portal.audit.anchors import (
    anchor_line,
    check_anchors,
    current_anchor,
    parse_anchor,
    read_anchors,
)
from portal.audit.models import AuditEvent
from portal.audit.services import verify_chain
from portal.backups import cli as backups_cli
from portal.conventions import reminders as convention_reminders
from portal.core.time import utcnow
from portal.demo import DEMO_LOGINS, DEMO_PASSWORD, load_demo
from portal.extensions import db
from portal.followup import reminders as followup_reminders
from portal.immersions import reminders as immersion_reminders
from portal.lots import cli as lots_cli
from portal.mail.services import send_pending, smtp_configured
from portal.notifications import digest
from portal.privacy import purge
from portal.reporting import jobs
from portal.steering import reminders as steering_reminders


def register_cli(app: Flask) -> None:
    """Attach the portal's commands to ``app.cli``."""

    @app.cli.command("demo")
    @click.option(
        "--if-empty", is_flag=True, help="Ne rien faire si la base contient déjà des données."
    )
    def demo_command(if_empty: bool) -> None:
        """Load the French demo data (refused in production)."""
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
        click.echo(f"Comptes de démonstration (mot de passe commun : {DEMO_PASSWORD})")
        for email, role in DEMO_LOGINS:
            click.echo(f"  {email:<32} {role}")

    # AppGroup (not click.Group): its commands run inside the application context.
    mail = AppGroup("mail", help="Courriels de la boîte d'envoi.")

    @mail.command("send")
    @click.option("--limit", default=200, show_default=True)
    def mail_send(limit: int) -> None:
        """Send (or retry) the unsent messages of the outbox."""
        if not smtp_configured():
            raise click.ClickException("MAIL_SERVER n'est pas défini : aucun envoi possible.")
        sent, failed = send_pending(limit=limit)
        click.echo(f"{sent} envoyé(s), {failed} en échec (conservé(s) pour un nouvel essai).")
        if failed:
            raise SystemExit(1)

    app.cli.add_command(mail)
    app.cli.add_command(audit)
    app.cli.add_command(reminders)
    app.cli.add_command(notifications)
    app.cli.add_command(jobs_group)
    app.cli.add_command(retention)
    lots_cli.register(app)
    backups_cli.register(app)


def _cli_request_context():
    """A request context for links in e-mails (``PUBLIC_URL``), with no client address.

    Services record the request's IP and user agent as evidence: a scheduled job has
    neither, so the fake request must not lend it Werkzeug's test values.
    """
    return current_app.test_request_context(
        base_url=current_app.config["PUBLIC_URL"],
        environ_base={"REMOTE_ADDR": "", "HTTP_USER_AGENT": ""},
    )


audit = AppGroup("audit", help="Journal d'audit chaîné.")


@audit.command("verify")
@click.option(
    "--anchor",
    "anchor_texts",
    multiple=True,
    metavar="SEQ:HASH",
    help="Ancre à contrôler (répétable) : numéro d'évènement et empreinte, "
    "par exemple celle imprimée dans le dossier de preuve d'une convention validée.",
)
@click.option(
    "--anchors",
    "anchors_file",
    type=click.File("r", encoding="utf-8"),
    help="Fichier d'ancres, une par ligne (les lignes écrites par « audit anchor »).",
)
def audit_verify(anchor_texts: tuple[str, ...], anchors_file) -> None:
    """Check the audit hash chain, and the anchors given: exit 0 when intact, 1 listing
    the problems otherwise, 2 when an anchor cannot be read."""
    try:
        given = [parse_anchor(text) for text in anchor_texts]
        if anchors_file is not None:
            given += read_anchors(anchors_file)
    except ValueError as exc:
        click.echo(f"Ancre illisible : {exc}", err=True)
        raise SystemExit(2) from exc
    problems = verify_chain() + check_anchors(given)
    total = db.session.scalar(select(func.count()).select_from(AuditEvent))
    if not problems:
        checked = f" {len(given)} ancre(s) concordante(s)." if given else ""
        click.echo(
            f"Journal d'audit intact : {total} événement(s) chaîné(s) vérifié(s).{checked} "
            f"(Audit chain intact: {total} event(s).)"
        )
        return
    click.echo(
        f"Journal d'audit altéré : {len(problems)} problème(s) sur {total} événement(s). "
        f"(Audit chain broken: {len(problems)} problem(s).)"
    )
    for problem in problems:
        click.echo(f"  - {problem}")
    raise SystemExit(1)


@audit.command("anchor")
@click.option(
    "--append",
    "append_to",
    type=click.Path(dir_okay=False),
    help="Ajoute aussi la ligne à ce fichier (à garder hors de la base : autre machine, "
    "courriel, papier).",
)
def audit_anchor(append_to: str | None) -> None:
    """Print the chain head as one line to keep outside the database (cron, daily): a
    later rewrite of the log is detected by ``audit verify --anchors FILE``."""
    line = anchor_line(current_anchor())
    click.echo(line)
    if append_to:
        with open(append_to, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")


reminders = AppGroup("reminders", help="Relances automatiques (à lancer par cron).")


@reminders.command("send")
def reminders_send() -> None:
    """Send the due reminders: convention signatures, immersions, employment follow-ups,
    the steering committees' action items; commit.

    Meant for cron, e.g. every hour::

        0 * * * *  cd /srv/portail && .venv/bin/flask --app portal reminders send

    Each run sends only what is due (see ``CONVENTION_REMINDER_DAYS`` and
    ``CONVENTION_REMINDER_INTERVAL_HOURS``): running it more often sends nothing twice.
    E-mails are queued in the outbox; ``mail send`` delivers them.
    """
    now = utcnow()
    with _cli_request_context():
        conventions = convention_reminders.send_due_reminders(now)
        immersions = immersion_reminders.send_due_reminders(now)
        followups = followup_reminders.send_due_reminders(now)
        actions = steering_reminders.send_due_reminders(now)
        db.session.commit()
    click.echo(
        f"Relances envoyées : {conventions} pour des conventions à signer, "
        f"{immersions} pour des immersions."
    )
    click.echo(f"Suivi dans l'emploi : {followups} suivi(s) relancé(s) ou signalé(s).")
    click.echo(f"Comités de pilotage : {actions} action(s) relancée(s).")


notifications = AppGroup("notifications", help="Notifications de la Région.")


@notifications.command("digest")
def notifications_digest() -> None:
    """Send each referent's daily digest of the events held beyond the threshold; commit.

    Meant for cron, once a day, e.g. at 18:00::

        0 18 * * *  cd /srv/portail && .venv/bin/flask --app portal notifications digest

    Each person gets at most one digest a day (Paris time); what is held after it waits for
    the next one, and nothing is ever dropped. ``mail send`` delivers the e-mails.
    """
    with _cli_request_context():
        sent = digest.send_digests(utcnow())
        db.session.commit()
    click.echo(f"Résumés quotidiens envoyés : {sent}.")


jobs_group = AppGroup("jobs", help="Exports écrits en arrière-plan.")


@jobs_group.command("work")
@click.option("--once", is_flag=True, help="Traite les demandes en attente, puis s'arrête.")
def jobs_work(once: bool) -> None:
    """Write the exports the dashboard queues, until stopped (Ctrl+C, SIGTERM).

    ``make run`` starts one next to the web server; in production, run it as a service of
    its own (several may run: each request is taken by one only). With ``--once`` (cron,
    a check), the requests waiting now are written and the command ends.
    """
    if once:
        with _cli_request_context():
            jobs.sweep()
        done = 0
        while jobs.work_once(_cli_request_context) is not None:
            done += 1
        click.echo(f"Exports écrits : {done}.")
        return
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_args: stop.set())
    click.echo("Service d'exports lancé (Ctrl+C pour arrêter).")
    jobs.work(_cli_request_context, stop=stop)
    click.echo("Service d'exports arrêté.")


retention = AppGroup("retention", help="Durées de conservation des données personnelles.")


@retention.command("apply")
@click.option("--dry-run", is_flag=True, help="Liste ce qui partirait, sans rien changer.")
def retention_apply(dry_run: bool) -> None:
    """Anonymise the trainees past retention, delete the access logs past theirs and
    pseudonymise the audit log's IP and user agent past theirs (portal/privacy/); commit.

    Meant for cron, once a day, e.g. at 03:00::

        0 3 * * *  cd /srv/portail && .venv/bin/flask --app portal retention apply

    Durations: ``RETENTION_TRAINEE_MONTHS`` and ``ACCESS_LOG_RETENTION_MONTHS``. The audit
    chain still verifies afterwards (``audit verify``).
    """
    now = utcnow()
    with _cli_request_context():
        if dry_run:
            done = purge.plan(now)
            db.session.rollback()
        else:
            done = purge.apply(now)
            db.session.commit()
    verb = "seraient" if dry_run else "ont été"
    click.echo(f"Stagiaires dont les données {verb} anonymisées : {len(done.trainees)}.")
    for trainee, until in done.trainees:
        # Ids only: the listing goes to cron's mail and logs.
        click.echo(
            f"  - stagiaire n° {trainee.id} (opération n° {trainee.operation_id}), "
            f"conservées jusqu'au {until:%d/%m/%Y}"
        )
    click.echo(
        f"Journaux d'accès supprimés{' (simulation)' if dry_run else ''} : "
        f"{done.trainee_accesses} accès aux fiches, {done.user_sessions} session(s), "
        f"{done.login_failures} échec(s) de connexion, {done.sent_emails} courriel(s) envoyé(s)."
    )
    click.echo(
        f"Événements du journal d'audit pseudonymisés{' (simulation)' if dry_run else ''} : "
        f"{done.audit_events}."
    )
