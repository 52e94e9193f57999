"""Who has the co-design open, and which section they edit: the presence the live
updates show (``live_views.py``). It flushes and never commits."""

from datetime import timedelta

from sqlalchemy import delete, select

from portal.accounts.models import Organisation, User
from portal.core.time import utcnow
from portal.design.models import Design, DesignPresence
from portal.extensions import db

PRESENCE_SECONDS = 30


def touch_presence(design: Design, *, user: User, org: Organisation, editing: str = "") -> None:
    """Record that ``user`` has the design open (and which section they edit)."""
    presence = db.session.scalar(
        select(DesignPresence).where(
            DesignPresence.design_id == design.id, DesignPresence.user_id == user.id
        )
    )
    if presence is None:
        presence = DesignPresence(design_id=design.id, user_id=user.id, organisation_id=org.id)
        db.session.add(presence)
    presence.organisation_id = org.id
    presence.editing = editing
    presence.seen_at = utcnow()
    db.session.flush()


def present(design: Design) -> list[DesignPresence]:
    """Who had the design open in the last 30 seconds."""
    since = utcnow() - timedelta(seconds=PRESENCE_SECONDS)
    db.session.execute(
        delete(DesignPresence).where(DesignPresence.seen_at < since - timedelta(hours=1))
    )
    return db.session.scalars(
        select(DesignPresence).where(
            DesignPresence.design_id == design.id, DesignPresence.seen_at >= since
        )
    ).all()
