"""The audit event table: written by services, never updated or deleted."""

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from portal.core.time import utcnow
from portal.extensions import db


class AuditEvent(db.Model):
    """Who did what, on which object, from where and when (UTC)."""

    __tablename__ = "audit_events"
    # An object's events (a version's evidence page, an operation's archive) by index.
    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(50), default="")
    object_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    ip: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    # The hash chain: ``seq`` numbers events without gaps, ``hash`` covers the event
    # and the previous event's hash, so altering or deleting one breaks the chain.
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    actor = relationship("User")
    organisation = relationship("Organisation")


class AuditChainHead(db.Model):
    """One row: the last sequence number and hash; updating it serialises writers."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64), default="0" * 64)


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(mapper, connection, target):  # noqa: ARG001 - SQLAlchemy signature
    raise RuntimeError("Audit events are append-only.")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(mapper, connection, target):  # noqa: ARG001 - SQLAlchemy signature
    raise RuntimeError("Audit events are append-only.")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state):
    """ORM ``update()``/``delete()`` statements bypass the mapper events: refuse them too."""
    changes = state.is_update or state.is_delete
    if changes and state.statement.table.name == AuditEvent.__tablename__:
        raise RuntimeError("Audit events are append-only.")
