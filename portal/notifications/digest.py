"""The Région is told in every case, by e-mail at once or in one daily digest — never silence.

A referent (or, without one, each of the Région's admins) is told of new needs, employers
and partners added later, withdrawals, cancellations, amendments… Each event makes an
in-app notification at once. Its e-mail also goes at once while the person has had fewer
than ``REFERENT_DIGEST_THRESHOLD`` (default 5) such events that day (Paris time); beyond
that, the e-mail is held and the next digest lists it: one e-mail per person and per day
(``flask --app portal notifications digest``, a daily cron). A held event stays pending
until a digest lists it: a missed run, or a digest already sent that day, only delays it.
The person whose account was disabled meanwhile is not written to: their digest goes to
the Région's admins instead, so that nothing is lost.
"""

from datetime import datetime, time
from itertools import groupby
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal.accounts.models import User
from portal.core.time import PARIS, utcnow
from portal.extensions import db
from portal.mail.services import queue_mail
from portal.notifications.models import Notification, ReferentNotice
from portal.notifications.services import email_body, notify, region_admins

UTC = ZoneInfo("UTC")


def threshold() -> int:
    """How many e-mails a person gets one by one in a day before the rest wait."""
    return int(current_app.config.get("REFERENT_DIGEST_THRESHOLD", 5))


def day_start(now: datetime) -> datetime:
    """Midnight in Paris of the day of ``now``, both naive UTC (as the database stores)."""
    paris_day = now.replace(tzinfo=UTC).astimezone(PARIS).date()
    midnight = datetime.combine(paris_day, time(0), tzinfo=PARIS)
    return midnight.astimezone(UTC).replace(tzinfo=None)


def tell_referents(
    users,
    *,
    kind: str,
    message: str,
    email_subject: str,
    endpoint: str | None = None,
    operation=None,
    **url_values,
) -> list[Notification]:
    """Notify the Région's people in the portal at once, and by e-mail at once or in the
    day's digest (see the module's docstring)."""
    notes = notify(
        users, kind=kind, message=message, endpoint=endpoint, operation=operation, **url_values
    )
    since = day_start(utcnow())
    for note in notes:
        today = db.session.scalar(
            select(func.count(ReferentNotice.id)).where(
                ReferentNotice.user_id == note.user_id, ReferentNotice.created_at >= since
            )
        )
        held = today >= threshold()
        db.session.add(
            ReferentNotice(
                user_id=note.user_id,
                notification=note,
                email_subject=email_subject[:200],
                held=held,
            )
        )
        if not held:
            user = db.session.get(User, note.user_id)
            queue_mail(user.email, email_subject, email_body(user, message, note.link))
    db.session.flush()
    return notes


def pending_digests() -> dict[int, list[ReferentNotice]]:
    """Held notices no digest has listed yet, by person, oldest first."""
    notices = db.session.scalars(
        select(ReferentNotice)
        .where(ReferentNotice.held.is_(True), ReferentNotice.digested_at.is_(None))
        .options(joinedload(ReferentNotice.notification))
        .order_by(ReferentNotice.user_id, ReferentNotice.created_at, ReferentNotice.id)
    ).all()
    return {user_id: list(rows) for user_id, rows in groupby(notices, lambda n: n.user_id)}


def _digest_body(user: User, notices: list[ReferentNotice], *, addressee: User) -> str:
    lines = [_("Bonjour %(name)s,", name=addressee.first_name), ""]
    if addressee.id != user.id:
        lines += [
            _(
                "Ces événements étaient destinés à %(who)s, dont le compte est désactivé : "
                "ils vous sont transmis pour que la Région en soit informée.",
                who=user.full_name,
            ),
            "",
        ]
    lines += [
        _(
            "Au-delà de %(n)d courriels dans la journée, les événements des opérations DEFI "
            "sont regroupés : en voici %(count)d, les plus anciens d'abord. Chacun figure aussi "
            "dans vos notifications sur le portail.",
            n=threshold(),
            count=len(notices),
        ),
        "",
    ]
    for notice in notices:
        note = notice.notification
        lines.append(f"- {format_datetime(note.created_at, 'short')} — {note.message}")
        if note.link:
            lines.append("  " + _("Pour agir : %(link)s", link=note.link))
    return "\n".join(lines) + "\n"


def send_digests(now: datetime | None = None) -> int:
    """Send each person's digest of held notices, at most one a day; return how many went.

    A person who already had a digest today keeps the events held since for tomorrow's.
    """
    now = now or utcnow()
    since = day_start(now)
    sent = 0
    for user_id, notices in pending_digests().items():
        already = db.session.scalar(
            select(func.count(ReferentNotice.id)).where(
                ReferentNotice.user_id == user_id, ReferentNotice.digested_at >= since
            )
        )
        if already:
            continue
        user = db.session.get(User, user_id)
        addressees = [user] if user.is_enabled else region_admins()
        if not addressees:
            continue  # kept for the next run: someone will be there to read it
        subject = _("Portail DEFI — %(n)d événement(s) pour la Région", n=len(notices))
        for addressee in addressees:
            queue_mail(addressee.email, subject, _digest_body(user, notices, addressee=addressee))
        for notice in notices:
            notice.digested_at = now
        sent += 1
    db.session.flush()
    return sent
