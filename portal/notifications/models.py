"""A notification tells one person that something needs their attention."""

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.time import utcnow
from portal.extensions import db


class Notification(db.Model):
    """A message for one user, with a link to where to act; read or not."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("operations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(50))
    message: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)


class ReferentNotice(db.Model):
    """What the Région was told by e-mail about one event: at once, or held for the digest.

    Every notification to a referent (or to the Région's admins) gets one: its e-mail goes
    out at once while the person has had fewer than ``REFERENT_DIGEST_THRESHOLD`` of them
    that day, otherwise it waits (``held``) for the next daily digest, which sets
    ``digested_at``. A held notice stays pending until a digest lists it: none is dropped.
    """

    __tablename__ = "referent_notices"
    __table_args__ = (
        Index("ix_referent_notices_user_created", "user_id", "created_at"),
        CheckConstraint("held OR digested_at IS NULL", name="digest_only_when_held"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), unique=True)
    email_subject: Mapped[str] = mapped_column(String(200))
    held: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    digested_at: Mapped[datetime | None] = mapped_column(DateTime)

    notification: Mapped[Notification] = relationship()
