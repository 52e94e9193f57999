"""Reminders before an immersion starts unprepared (run by ``flask reminders send``)."""

from datetime import datetime, timedelta

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.core.french import de
from portal.core.time import paris_day, utcnow
from portal.extensions import db
from portal.immersions import rules
from portal.immersions.models import Immersion
from portal.notifications.services import notify, organisation_members
from portal.operations.models import Operation


def send_due_reminders(now: datetime | None = None) -> int:
    """Tell the organisme porteur's members (and the tutor, if set) once about each
    immersion that starts within IMMERSION_REMINDER_DAYS and is not ready; returns how
    many immersions were reminded. Flushes; the caller commits."""
    # The French calendar day (an explicit ``now`` is UTC: its own date is close enough).
    today = rules.today() if now is None else paris_day(now)
    now = now or utcnow()
    horizon = today + timedelta(days=rules.reminder_days())
    candidates = db.session.scalars(
        select(Immersion)
        .join(Operation, Operation.id == Immersion.operation_id)
        .where(
            Immersion.reminder_sent_at.is_(None),
            Immersion.prepared_at.is_(None),
            Immersion.starts_on >= today,
            Immersion.starts_on <= horizon,
            Operation.status.in_(rules.RUNNING_STEPS),
        )
        .options(
            selectinload(Immersion.operation),
            selectinload(Immersion.trainee),
            selectinload(Immersion.employer),
            selectinload(Immersion.tutor),
        )
        .order_by(Immersion.starts_on, Immersion.id)
    ).all()
    members: dict[int, list] = {}
    sent = 0
    for immersion in candidates:
        if immersion.is_ready:
            continue
        operation = immersion.operation
        if operation.provider_id not in members:
            members[operation.provider_id] = organisation_members(operation.provider_id)
        start = format_date(immersion.starts_on, "d MMMM y")
        notify(
            [*members[operation.provider_id], immersion.tutor],
            kind="immersion_reminder",
            message=_(
                "L'immersion %(of_trainee)s chez %(org)s commence le %(d)s et n'est pas encore "
                "prête : complétez sa préparation (objectifs, tuteur·rice, consignes, "
                "sécurité, convention de stage).",
                of_trainee=de(immersion.trainee.full_name),
                org=immersion.employer.name,
                d=start,
            ),
            endpoint="immersions.list_immersions",
            operation=operation,
            email_subject=_("Immersion à préparer avant le %(d)s", d=start),
            operation_id=operation.id,
            _anchor=f"immersion-{immersion.id}",
        )
        immersion.reminder_sent_at = now
        sent += 1
    db.session.flush()
    return sent
