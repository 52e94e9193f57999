"""The steering committee: members, meetings, attendance, decisions and action items.

Meeting times are naive UTC, like every datetime of the portal; they are typed and shown
in Europe/Paris time. The minutes themselves are a design section (``SectionKey.MINUTES``
with ``DesignSection.meeting_id``): the co-design's versions, merge, history and comments.
"""

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Organisation, User
from portal.core.enums import TitledEnum, db_enum, titled
from portal.core.time import utcnow
from portal.extensions import db
from portal.operations.models import Operation


class SteeringCommittee(db.Model):
    """The steering committee of one operation, constituted by the Région."""

    __tablename__ = "steering_committees"

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    operation: Mapped[Operation] = relationship()
    members: Mapped[list["SteeringMember"]] = relationship(
        back_populates="committee", order_by="SteeringMember.id"
    )
    meetings: Mapped[list["SteeringMeeting"]] = relationship(
        back_populates="committee", order_by="SteeringMeeting.starts_at"
    )

    def active_members(self) -> list["SteeringMember"]:
        return [m for m in self.members if m.removed_at is None]


class SteeringMember(db.Model):
    """An organisation taking part in the committee, or a person named for it."""

    __tablename__ = "steering_members"
    # One row per organisation as a whole and one per named person, among those present.
    __table_args__ = (
        Index(
            "uq_steering_members_organisation",
            "committee_id",
            "organisation_id",
            unique=True,
            sqlite_where=text("user_id IS NULL AND removed_at IS NULL"),
            postgresql_where=text("user_id IS NULL AND removed_at IS NULL"),
        ),
        Index(
            "uq_steering_members_person",
            "committee_id",
            "user_id",
            unique=True,
            sqlite_where=text("user_id IS NOT NULL AND removed_at IS NULL"),
            postgresql_where=text("user_id IS NOT NULL AND removed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("steering_committees.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime)

    committee: Mapped[SteeringCommittee] = relationship(back_populates="members")
    organisation: Mapped[Organisation] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])

    @property
    def label(self) -> str:
        if self.user is not None:
            return f"{self.user.full_name} ({self.organisation.name})"
        return self.organisation.name


@titled({"planned": _l("Convoquée"), "cancelled": _l("Annulée")})
class MeetingStatus(TitledEnum):
    PLANNED = "planned"
    CANCELLED = "cancelled"


class SteeringMeeting(db.Model):
    """A meeting of the committee. ``uid`` and ``sequence`` are its iCalendar identity:
    every change sends the invitation again with the same UID and a higher SEQUENCE."""

    __tablename__ = "steering_meetings"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("place != '' OR video_url != ''", name="somewhere"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("steering_committees.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    place: Mapped[str] = mapped_column(String(250), default="")
    video_url: Mapped[str] = mapped_column(String(500), default="")
    agenda: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[MeetingStatus] = mapped_column(
        db_enum(MeetingStatus), default=MeetingStatus.PLANNED
    )
    uid: Mapped[str] = mapped_column(String(120), unique=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    minutes_approved_at: Mapped[datetime | None] = mapped_column(DateTime)
    minutes_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    committee: Mapped[SteeringCommittee] = relationship(back_populates="meetings")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    minutes_approved_by: Mapped[User | None] = relationship(foreign_keys=[minutes_approved_by_id])
    attendances: Mapped[list["SteeringAttendance"]] = relationship(
        back_populates="meeting", order_by="SteeringAttendance.id"
    )
    decisions: Mapped[list["SteeringDecision"]] = relationship(
        back_populates="meeting", order_by="SteeringDecision.id"
    )
    actions: Mapped[list["SteeringAction"]] = relationship(
        back_populates="meeting", order_by="SteeringAction.id"
    )

    @property
    def is_cancelled(self) -> bool:
        return self.status == MeetingStatus.CANCELLED

    @property
    def minutes_approved(self) -> bool:
        return self.minutes_approved_at is not None

    def has_started(self, now: datetime | None = None) -> bool:
        return self.starts_at <= (now or utcnow())


@titled({"present": _l("Présent·e"), "excused": _l("Excusé·e"), "absent": _l("Absent·e")})
class Presence(TitledEnum):
    PRESENT = "present"
    EXCUSED = "excused"
    ABSENT = "absent"


class SteeringAttendance(db.Model):
    """Whether a member attended a meeting."""

    __tablename__ = "steering_attendances"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("steering_meetings.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("steering_members.id"))
    presence: Mapped[Presence] = mapped_column(db_enum(Presence, name="steeringpresence"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    meeting: Mapped[SteeringMeeting] = relationship(back_populates="attendances")
    member: Mapped[SteeringMember] = relationship()


class SteeringDecision(db.Model):
    """A decision the committee took at a meeting."""

    __tablename__ = "steering_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("steering_meetings.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    meeting: Mapped[SteeringMeeting] = relationship(back_populates="decisions")


class SteeringAction(db.Model):
    """An action item: who does what by when; its owner marks it done."""

    __tablename__ = "steering_actions"
    __table_args__ = (
        CheckConstraint("(done_at IS NULL) = (done_by_id IS NULL)", name="done_by_someone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("steering_meetings.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    owner_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The reminders (``flask reminders send``): once before the due date, then while late.
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime)
    overdue_reminded_at: Mapped[datetime | None] = mapped_column(DateTime)

    meeting: Mapped[SteeringMeeting] = relationship(back_populates="actions")
    owner_org: Mapped[Organisation] = relationship(foreign_keys=[owner_org_id])
    owner_user: Mapped[User | None] = relationship(foreign_keys=[owner_user_id])
    done_by: Mapped[User | None] = relationship(foreign_keys=[done_by_id])

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def owner_label(self) -> str:
        if self.owner_user is not None:
            return f"{self.owner_user.full_name} ({self.owner_org.name})"
        return self.owner_org.name
