"""Notify people in the portal and by e-mail, in one call."""

from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import Membership, Organisation, OrgKind, User
from portal.core.urls import absolute_url, site_path
from portal.extensions import db
from portal.mail.services import queue_mail
from portal.notifications.models import Notification


def notify(
    users,
    *,
    kind: str,
    message: str,
    endpoint: str | None = None,
    operation=None,
    email_subject: str | None = None,
    attachments=(),
    **url_values,
) -> list[Notification]:
    """Create an in-app notification for each user and, with ``email_subject``, an e-mail
    (with ``attachments``: ``(file name, media type, bytes)``, e.g. an invitation).

    The notification links to a path of this site; the e-mail, to PUBLIC_URL.
    """
    link = site_path(endpoint, **url_values) if endpoint else ""
    mail_link = absolute_url(endpoint, **url_values) if endpoint else ""
    notes = []
    seen = set()
    for user in users:
        if user is None or user.id in seen or not user.is_enabled:
            continue
        seen.add(user.id)
        note = Notification(
            user_id=user.id,
            operation_id=getattr(operation, "id", None),
            kind=kind,
            message=message,
            link=link,
        )
        db.session.add(note)
        notes.append(note)
        if email_subject:
            queue_mail(user.email, email_subject, email_body(user, message, mail_link), attachments)
    db.session.flush()
    return notes


def email_body(user: User, message: str, link: str = "") -> str:
    """The e-mail copy of a notification: a greeting, the message, where to act."""
    body = _("Bonjour %(name)s,\n\n%(message)s\n", name=user.first_name, message=message)
    if link:
        body += "\n" + _("Pour agir : %(link)s", link=link) + "\n"
    return body


def region_admins() -> list[User]:
    """Active admins of the Région, who hear of what has no referent."""
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .join(Organisation, Organisation.id == Membership.organisation_id)
            .where(
                Organisation.kind == OrgKind.REGION,
                Membership.active.is_(True),
                Membership.is_admin.is_(True),
            )
        ).unique()
    )


def organisation_members(organisation_id: int, *, admins_only: bool = False) -> list[User]:
    """Active members of an organisation (only its admins if asked)."""
    query = (
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == organisation_id, Membership.active.is_(True))
    )
    if admins_only:
        query = query.where(Membership.is_admin.is_(True))
    return list(db.session.scalars(query))


def unread_count(user: User) -> int:
    """Unread notifications of ``user`` (the header badge)."""
    from sqlalchemy import func

    return db.session.scalar(
        select(func.count()).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )
