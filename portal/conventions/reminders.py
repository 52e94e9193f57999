"""Reminding pending signers: manual reminders from the page, automatic ones from cron.

- Anyone taking part in the operation may remind a party that has not signed the open
  version yet, at most once per 24 h per party (manual reminders only count here).
- ``send_due_reminders`` (run by ``flask --app portal reminders send``) reminds every
  pending party once the version is ``CONVENTION_REMINDER_DAYS`` days old, then at most
  every ``CONVENTION_REMINDER_INTERVAL_HOURS`` hours, counting manual reminders too.

A reminder goes to the party's designated signer (in-app notification and e-mail, with
a link to the version), is stored as a ``SignatureReminder`` and audited as
``convention.reminded``.
"""

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.accounts.models import Organisation, User
from portal.audit.services import record
from portal.conventions.models import (
    Convention,
    ConventionVersion,
    SignatureReminder,
    VersionStatus,
)
from portal.conventions.services import latest_version, pending_parties, signer_for
from portal.core.errors import RuleError
from portal.core.time import utcnow
from portal.extensions import db
from portal.notifications.services import notify
from portal.operations.events import log_event
from portal.operations.models import Status

MANUAL_GAP = timedelta(hours=24)
SIGNING = (VersionStatus.TO_SIGN, VersionStatus.PARTIALLY_SIGNED)


def _last_reminder(version: ConventionVersion, organisation_id: int, kind: str | None = None):
    """When ``organisation_id`` was last reminded about ``version`` (of ``kind`` if given)."""
    query = select(func.max(SignatureReminder.sent_at)).where(
        SignatureReminder.version_id == version.id,
        SignatureReminder.organisation_id == organisation_id,
    )
    if kind is not None:
        query = query.where(SignatureReminder.kind == kind)
    return db.session.scalar(query)


def _remind(
    version: ConventionVersion,
    party: dict,
    *,
    kind: str,
    now: datetime,
    by: User | None = None,
    by_org: Organisation | None = None,
) -> SignatureReminder:
    """Store, audit and send one reminder to the designated signer of ``party``."""
    convention = version.convention
    operation = convention.operation
    designation = signer_for(convention, party["organisation_id"])
    reminder = SignatureReminder(
        version_id=version.id,
        organisation_id=party["organisation_id"],
        user_id=designation.user_id,
        kind=kind,
        sent_at=now,
        sent_by_id=getattr(by, "id", None),
        detail={"number": version.number, "by_org": getattr(by_org, "id", None)},
    )
    db.session.add(reminder)
    db.session.flush()
    if by is not None:
        message = _(
            "%(who)s (%(org)s) vous rappelle que la version %(n)s de la convention « %(title)s » "
            "attend votre signature pour %(party)s.",
            who=by.full_name,
            org=by_org.name,
            n=version.number,
            title=operation.title,
            party=party["name"],
        )
    else:
        message = _(
            "Rappel : la version %(n)s de la convention « %(title)s » attend votre signature "
            "pour %(party)s depuis le %(date)s.",
            n=version.number,
            title=operation.title,
            party=party["name"],
            date=format_datetime(version.submitted_at, "d MMMM y"),
        )
    notify(
        [designation.user],
        kind="convention_reminder",
        message=message,
        endpoint="conventions.show_version",
        operation=operation,
        email_subject=_("Rappel : convention DEFI à signer"),
        operation_id=operation.id,
        number=version.number,
    )
    record(
        "convention.reminded",
        actor=by,
        organisation=by_org,
        obj=version,
        number=version.number,
        party=party["organisation_id"],
        signer=designation.user_id,
        kind=kind,
        reminder=reminder.id,
    )
    return reminder


def send_manual_reminder(
    version: ConventionVersion, organisation_id: int, *, by: User, by_org: Organisation
) -> SignatureReminder:
    """Remind the designated signer of a party that has not signed ``version`` yet.

    ``by`` acts for ``by_org``, which must take part in the operation. Refused (French
    ``RuleError``) when the version is not collecting signatures, the party already
    signed, has no designated signer, or was reminded by hand less than 24 h ago.
    """
    convention: Convention = version.convention
    operation = convention.operation
    if not any(p.organisation_id == by_org.id for p in operation.active_participants()):
        raise RuleError(_("Seuls les participants de l'opération peuvent relancer un signataire."))
    if (
        operation.status == Status.CANCELLED
        or version.status not in SIGNING
        or latest_version(convention).id != version.id
    ):
        raise RuleError(_("Cette version n'attend plus de signature : aucune relance possible."))
    party = next(
        (p for p in pending_parties(version) if p["organisation_id"] == organisation_id), None
    )
    if party is None:
        raise RuleError(_("Cette partie a déjà signé cette version, ou n'est pas signataire."))
    designation = signer_for(convention, organisation_id)
    if designation is None:
        raise RuleError(
            _(
                "Aucun signataire n'est désigné pour %(org)s : personne à relancer.",
                org=party["name"],
            )
        )
    now = utcnow()
    last = _last_reminder(version, organisation_id, "manual")
    if last is not None and now - last < MANUAL_GAP:
        raise RuleError(
            _(
                "%(org)s a déjà été relancé·e le %(last)s : prochaine relance possible le "
                "%(next)s.",
                org=party["name"],
                last=format_datetime(last, _("d MMMM y 'à' HH:mm")),
                next=format_datetime(last + MANUAL_GAP, _("d MMMM y 'à' HH:mm")),
            )
        )
    reminder = _remind(version, party, kind="manual", now=now, by=by, by_org=by_org)
    log_event(
        operation,
        "convention_reminded",
        by=by,
        org=by_org,
        number=version.number,
        party=party["name"],
    )
    return reminder


def send_due_reminders(now: datetime | None = None) -> int:
    """Send the automatic reminders that are due at ``now`` (UTC); return how many.

    A pending party with a designated signer is reminded once the version is
    ``CONVENTION_REMINDER_DAYS`` days old, then no more often than every
    ``CONVENTION_REMINDER_INTERVAL_HOURS`` hours after its last reminder of any kind.
    Running it twice at the same time sends nothing the second time. Needs a request
    context for the links (the CLI provides one); the caller commits.
    """
    now = now or utcnow()
    age = timedelta(days=current_app.config.get("CONVENTION_REMINDER_DAYS", 3))
    interval = timedelta(hours=current_app.config.get("CONVENTION_REMINDER_INTERVAL_HOURS", 48))
    candidates = db.session.scalars(
        select(ConventionVersion)
        .where(ConventionVersion.status.in_(SIGNING), ConventionVersion.submitted_at <= now - age)
        .order_by(ConventionVersion.id)
    ).all()
    sent = 0
    for version in candidates:
        convention = version.convention
        if convention.operation.status == Status.CANCELLED:
            continue
        if latest_version(convention).id != version.id:
            continue
        for party in pending_parties(version):
            if signer_for(convention, party["organisation_id"]) is None:
                continue
            last = _last_reminder(version, party["organisation_id"])
            if last is not None and now - last < interval:
                continue
            _remind(version, party, kind="auto", now=now)
            sent += 1
    return sent
