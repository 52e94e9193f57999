"""Job promises and trainees: one trainee for one promise, with the minimum personal data."""

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
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
from portal.core.employment import ContractTerms, ContractType
from portal.core.enums import TitledEnum, db_enum, titled
from portal.core.time import utcnow
from portal.extensions import db
from portal.operations.models import Operation, Position


class JobPromise(ContractTerms, db.Model):
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
    # A CDD's, an intérim's or an alternance's duration, copied from the position.
    duration_months: Mapped[int | None] = mapped_column(Integer)
    planned_start: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    operation: Mapped[Operation] = relationship()
    organisation: Mapped[Organisation] = relationship()
    position: Mapped[Position | None] = relationship()
    trainee: Mapped["Trainee | None"] = relationship(back_populates="promise", uselist=False)


class PromiseAcceptance(db.Model):
    """The Région accepts, with its reason, that a position's promises count toward « 1
    stagiaire pour 1 promesse » although their contract is not lasting.

    It accepts the contract the position named then (type and duration): should the
    position name another contract, the acceptance no longer holds (``recruitment/
    lasting.py``). One per position; a new decision replaces it, the audit log keeps both.
    """

    __tablename__ = "promise_acceptances"

    id: Mapped[int] = mapped_column(primary_key=True)
    position_id: Mapped[int] = mapped_column(
        ForeignKey("need_positions.id", ondelete="CASCADE"), unique=True
    )
    contract_type: Mapped[ContractType] = mapped_column(db_enum(ContractType))
    duration_months: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    accepted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    accepted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))

    position: Mapped[Position] = relationship()
    accepted_by: Mapped[User] = relationship()

    def holds_for(self, contract_type: ContractType, duration_months: int | None) -> bool:
        """The acceptance covers this contract (the one it was given for)."""
        return (self.contract_type, self.duration_months) == (contract_type, duration_months)


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
    # Set when the identity was replaced by a pseudonym (retention or erasure on request,
    # portal/privacy/anonymise.py): the record keeps its statuses and outcomes only.
    anonymised_at: Mapped[datetime | None] = mapped_column(DateTime)

    operation: Mapped[Operation] = relationship()
    prescriber: Mapped[Organisation | None] = relationship()
    promise: Mapped[JobPromise | None] = relationship(back_populates="trainee")
    created_by: Mapped[User | None] = relationship()
    # Set when a prescriber proposed the candidate (``recruitment/prescription.py``).
    proposal: Mapped["Proposal | None"] = relationship(back_populates="trainee", uselist=False)

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
    """Every page or export showing trainees' personal data: who, for which organisation,
    when, from where, and which trainees (one row per request).

    A record opened names its trainee in ``trainee_id``; a list (recruitment, immersions,
    tutor space, debriefs, evaluations) lists those it showed in ``trainee_ids``, with
    ``action`` saying which page.
    """

    __tablename__ = "trainee_accesses"
    __table_args__ = (Index("ix_trainee_accesses_trainee_at", "trainee_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int | None] = mapped_column(ForeignKey("trainees.id"))
    trainee_ids: Mapped[list] = mapped_column(JSON, default=list)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    action: Mapped[str] = mapped_column(String(30), default="view")
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ip: Mapped[str] = mapped_column(String(45), default="")

    user: Mapped[User] = relationship()
    organisation: Mapped[Organisation | None] = relationship()


class Proposal(db.Model):
    """A candidate proposed by a prescriber (France Travail, Mission locale, Cap emploi…):
    who proposed, when, and the exact consent statement they ticked."""

    __tablename__ = "candidate_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("trainees.id"), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The statement as the prescriber read it, in French, word for word.
    consent_text: Mapped[str] = mapped_column(Text)

    trainee: Mapped[Trainee] = relationship(back_populates="proposal")
    organisation: Mapped[Organisation] = relationship()
    proposed_by: Mapped[User] = relationship()


@titled({"information": _l("Réunion d'information collective"), "job_dating": _l("Job dating")})
class SessionKind(TitledEnum):
    """An information session on the training, or a job dating with the employers."""

    INFORMATION = "information"
    JOB_DATING = "job_dating"


@titled({"present": _l("Présent·e"), "absent": _l("Absent·e")})
class Attendance(TitledEnum):
    """Whether an invited candidate or employer came (None until recorded)."""

    PRESENT = "present"
    ABSENT = "absent"


class RecruitmentSession(db.Model):
    """An information session or a job dating of an operation: when, where (a place or a
    video link), the candidates invited and the employers present.

    ``attendance_version`` counts the recordings of the attendance sheet: a sheet posted
    from an older version is refused (two people recording at the door at once).
    """

    __tablename__ = "recruitment_sessions"
    __table_args__ = (CheckConstraint("place <> '' OR video_link <> ''", name="place_or_link"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), index=True)
    kind: Mapped[SessionKind] = mapped_column(db_enum(SessionKind))
    # Naive UTC, as every datetime of the portal (typed and shown in Paris time).
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    place: Mapped[str] = mapped_column(String(300), default="")
    video_link: Mapped[str] = mapped_column(String(500), default="")
    details: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    attendance_version: Mapped[int] = mapped_column(Integer, default=0)
    attendance_recorded_at: Mapped[datetime | None] = mapped_column(DateTime)
    attendance_recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    operation: Mapped[Operation] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    attendance_recorded_by: Mapped[User | None] = relationship(
        foreign_keys=[attendance_recorded_by_id]
    )
    candidates: Mapped[list["SessionCandidate"]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="SessionCandidate.id"
    )
    employers: Mapped[list["SessionEmployer"]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="SessionEmployer.id"
    )


class SessionCandidate(db.Model):
    """A candidate invited to a session, and whether they came."""

    __tablename__ = "session_candidates"
    __table_args__ = (UniqueConstraint("session_id", "trainee_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("recruitment_sessions.id", ondelete="CASCADE"), index=True
    )
    trainee_id: Mapped[int] = mapped_column(ForeignKey("trainees.id"), index=True)
    invited_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    attendance: Mapped[Attendance | None] = mapped_column(db_enum(Attendance))

    session: Mapped[RecruitmentSession] = relationship(back_populates="candidates")
    trainee: Mapped[Trainee] = relationship()


class SessionEmployer(db.Model):
    """An employer of the operation invited to a session, and whether it came."""

    __tablename__ = "session_employers"
    __table_args__ = (UniqueConstraint("session_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("recruitment_sessions.id", ondelete="CASCADE"), index=True
    )
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    invited_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    attendance: Mapped[Attendance | None] = mapped_column(db_enum(Attendance))

    session: Mapped[RecruitmentSession] = relationship(back_populates="employers")
    organisation: Mapped[Organisation] = relationship()


@titled(
    {
        "favourable": _l("Favorable"),
        "reserved": _l("Réservé"),
        "unfavourable": _l("Défavorable"),
    }
)
class Verdict(TitledEnum):
    """An employer's opinion of a candidate for its promises."""

    FAVOURABLE = "favourable"
    RESERVED = "reserved"
    UNFAVOURABLE = "unfavourable"


class CandidateOpinion(db.Model):
    """An employer's current opinion of a candidate: one per employer and candidate.

    Changed in place under the trainee's lock; ``version`` counts the changes, and a change
    posted from an older version is refused (a colleague's opinion is never overwritten
    unseen). The audit log keeps each verdict.
    """

    __tablename__ = "candidate_opinions"
    __table_args__ = (UniqueConstraint("trainee_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trainee_id: Mapped[int] = mapped_column(ForeignKey("trainees.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("recruitment_sessions.id", ondelete="SET NULL")
    )
    verdict: Mapped[Verdict] = mapped_column(db_enum(Verdict))
    comment: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    given_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    given_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    trainee: Mapped[Trainee] = relationship()
    organisation: Mapped[Organisation] = relationship()
    given_by: Mapped[User] = relationship()
    session: Mapped[RecruitmentSession | None] = relationship()
