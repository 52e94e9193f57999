"""Job promises and trainees: one trainee for one promise, with the minimum personal data."""

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
from portal.operations.models import ContractType, Operation, Position


class JobPromise(db.Model):
    """One promised job: a position of count N gives N promises (ranks 1..N)."""

    __tablename__ = "job_promises"
    __table_args__ = (UniqueConstraint("position_id", "rank"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    position_id: Mapped[int | None] = mapped_column(
        ForeignKey("need_positions.id", ondelete="SET NULL")
    )
    rank: Mapped[int] = mapped_column(Integer, default=1)
    job_title: Mapped[str] = mapped_column(String(200))
    contract_type: Mapped[ContractType] = mapped_column(db_enum(ContractType))
    planned_start: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    operation: Mapped[Operation] = relationship()
    organisation: Mapped[Organisation] = relationship()
    position: Mapped[Position | None] = relationship()
    trainee: Mapped["Trainee | None"] = relationship(back_populates="promise", uselist=False)


@titled(
    {
        "candidate": _l("Candidat·e"),
        "not_retained": _l("Non retenu·e"),
        "retained": _l("Retenu·e"),
        "in_training": _l("En formation"),
        "exited": _l("Sorti·e"),
        "certified": _l("Certifié·e"),
    }
)
class TraineeStatus(TitledEnum):
    """Where a trainee stands; transitions are declared in ``recruitment/rules.py``."""

    CANDIDATE = "candidate"
    NOT_RETAINED = "not_retained"
    RETAINED = "retained"
    IN_TRAINING = "in_training"
    EXITED = "exited"
    CERTIFIED = "certified"


@titled(
    {
        "end_of_training": _l("Fin de formation"),
        "dropout": _l("Abandon"),
        "exclusion": _l("Exclusion"),
        "early_hire": _l("Embauche anticipée"),
        "health": _l("Raisons de santé"),
        "moved": _l("Déménagement"),
        "other": _l("Autre motif"),
    }
)
class ExitReason(TitledEnum):
    """Why a trainee left the training."""

    END_OF_TRAINING = "end_of_training"
    DROPOUT = "dropout"
    EXCLUSION = "exclusion"
    EARLY_HIRE = "early_hire"
    HEALTH = "health"
    MOVED = "moved"
    OTHER = "other"


class Trainee(db.Model):
    """A trainee (stagiaire) of an operation: only the personal data the job needs."""

    __tablename__ = "trainees"
    __table_args__ = (
        CheckConstraint(
            "birth_year IS NULL OR (birth_year >= 1940 AND birth_year <= 2015)", name="birth_year"
        ),
        Index("ix_trainees_operation_status", "operation_id", "status"),
        # One candidacy per e-mail address in an operation (addresses are stored lowercase).
        Index(
            "uq_trainees_operation_email",
            "operation_id",
            "email",
            unique=True,
            sqlite_where=text("email <> ''"),
            postgresql_where=text("email <> ''"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    birth_year: Mapped[int | None] = mapped_column(Integer)
    prescriber_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    # A key of portal.operations.needs.TARGET_PUBLICS, or "" when not said.
    public_category: Mapped[str] = mapped_column(String(30), default="")
    status: Mapped[TraineeStatus] = mapped_column(
        db_enum(TraineeStatus), default=TraineeStatus.CANDIDATE
    )
    status_changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    exit_date: Mapped[date | None] = mapped_column(Date)
    exit_reason: Mapped[ExitReason | None] = mapped_column(db_enum(ExitReason))
    # Why the trainee left (an abandon's or an exclusion's reason), from the end-of-training
    # page (portal/followup/exits.py).
    exit_detail: Mapped[str] = mapped_column(Text, default="")
    # One promise, one trainee: the database refuses a second trainee on a promise.
    promise_id: Mapped[int | None] = mapped_column(
        ForeignKey("job_promises.id", ondelete="SET NULL"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    operation: Mapped[Operation] = relationship()
    prescriber: Mapped[Organisation | None] = relationship()
    promise: Mapped[JobPromise | None] = relationship(back_populates="trainee")
    created_by: Mapped[User | None] = relationship()

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def __str__(self) -> str:
        return self.full_name


class TraineeStatusChange(db.Model):
    """The history of a trainee's status, with who changed it and why."""

    __tablename__ = "trainee_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("trainees.id"), index=True)
    from_status: Mapped[TraineeStatus | None] = mapped_column(
        db_enum(TraineeStatus, name="from_traineestatus")
    )
    to_status: Mapped[TraineeStatus] = mapped_column(db_enum(TraineeStatus))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")

    by: Mapped[User | None] = relationship()


class TraineeAccess(db.Model):
    """Every view of a trainee's record: who, for which organisation, when, from where."""

    __tablename__ = "trainee_accesses"
    __table_args__ = (Index("ix_trainee_accesses_trainee_at", "trainee_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("trainees.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    action: Mapped[str] = mapped_column(String(30), default="view")
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ip: Mapped[str] = mapped_column(String(45), default="")

    user: Mapped[User] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
