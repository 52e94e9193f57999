"""The archives the portal issued: what the public verification page recognises."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.enums import db_enum
from portal.core.time import utcnow
from portal.extensions import db
from portal.operations.models import Operation, Status


class IssuedArchive(db.Model):
    """An operation's archive as the portal issued it, identified by its manifest's SHA-256
    (and the zip's). The same state of the operation gives the same bytes, so one row per
    distinct archive: the first issue's date and author, like ``IssuedDocument`` for the
    convention's files. The archive itself is not stored."""

    __tablename__ = "issued_archives"
    __table_args__ = (UniqueConstraint("operation_id", "manifest_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), index=True)
    manifest_sha256: Mapped[str] = mapped_column(String(64), index=True)
    archive_sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    files: Mapped[int] = mapped_column(Integer)
    events: Mapped[int] = mapped_column(Integer)
    # Closed operation (the archive is final) or an archive made on demand before.
    final: Mapped[bool] = mapped_column(default=False)
    status: Mapped[Status] = mapped_column(db_enum(Status))  # the operation's step then
    as_of: Mapped[datetime] = mapped_column(DateTime)  # the state the archive records
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))

    operation: Mapped[Operation] = relationship()

    @property
    def after_cancellation(self) -> bool:
        """Issued once the operation was cancelled (a final archive, like a closed one's)."""
        return self.status == Status.CANCELLED
