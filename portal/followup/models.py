"""Promise outcomes, follow-up milestones (exit, +3, +6 months), the parties' answers, the
contact attempts and the answer retained for each milestone.

Answers are never overwritten: a party that answers again adds a row. Which answer counts
is the milestone's ``RetainedAnswer`` (one per milestone, the database says so), set
automatically when the answers agree and by the organisme porteur when they disagree.
« Emploi durable » is never stored: ``portal/core/employment.py`` derives it.
"""

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Organisation, User
from portal.core.employment import Situation, is_lasting
from portal.core.enums import TitledEnum, db_enum, titled
from portal.core.time import utcnow
from portal.extensions import db
from portal.operations.models import Operation
from portal.recruitment.models import JobPromise, Trainee

SALARIED_SQL = "('cdi', 'cdd', 'interim', 'alternance')"
WITH_DURATION_SQL = "('cdd', 'interim', 'alternance')"


@titled(
    {
        "position_cancelled": _l("Poste supprimé"),
        "candidate_rejected": _l("Candidat·e non retenu·e par l'employeur"),
        "trainee_declined": _l("Refus du ou de la stagiaire"),
        "other": _l("Autre motif"),
    }
)
class NotKeptReason(TitledEnum):
    """Why a job promise was not kept."""

    POSITION_CANCELLED = "position_cancelled"
    CANDIDATE_REJECTED = "candidate_rejected"
    TRAINEE_DECLINED = "trainee_declined"
    OTHER = "other"


class PromiseOutcome(db.Model):
    """Whether a job promise was kept (the contract signed) or not (why): one per promise."""

    __tablename__ = "promise_outcomes"
    __table_args__ = (
        CheckConstraint(
            "(kept AND contract IS NOT NULL AND start_date IS NOT NULL AND reason IS NULL) "
            "OR (NOT kept AND reason IS NOT NULL AND contract IS NULL)",
            name="kept_or_reason",
        ),
        CheckConstraint(f"contract IS NULL OR contract IN {SALARIED_SQL}", name="salaried"),
        CheckConstraint(
            f"contract IS NULL OR contract NOT IN {WITH_DURATION_SQL} "
            "OR duration_months IS NOT NULL",
            name="duration_when_needed",
        ),
        CheckConstraint(
            "duration_months IS NULL OR (duration_months >= 1 AND duration_months <= 120)",
            name="duration_months",
        ),
        CheckConstraint(
            "weekly_hours IS NULL OR (weekly_hours > 0 AND weekly_hours <= 48)",
            name="weekly_hours",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    promise_id: Mapped[int] = mapped_column(
        ForeignKey("job_promises.id", ondelete="CASCADE"), unique=True
    )
    kept: Mapped[bool] = mapped_column(Boolean)
    contract: Mapped[Situation | None] = mapped_column(db_enum(Situation, name="contract"))
    duration_months: Mapped[int | None] = mapped_column(Integer)
    start_date: Mapped[date | None] = mapped_column(Date)
    weekly_hours: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[NotKeptReason | None] = mapped_column(db_enum(NotKeptReason))
    comment: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_by_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    promise: Mapped[JobPromise] = relationship()
    recorded_by: Mapped[User | None] = relationship()
    recorded_by_org: Mapped[Organisation | None] = relationship()

    @property
    def lasting(self) -> bool:
        """The contract signed is an « emploi durable » (derived, never typed)."""
        return bool(self.kept and self.contract and is_lasting(self.contract, self.duration_months))


@titled({"exit": _l("À la sortie"), "m3": _l("À 3 mois"), "m6": _l("À 6 mois")})
class MilestoneKind(TitledEnum):
    """The three follow-ups of the convention: at exit, three and six months after."""

    EXIT = "exit"
    M3 = "m3"
    M6 = "m6"

    @property
    def months(self) -> int:
        """Months after the exit date the follow-up is due."""
        return {"exit": 0, "m3": 3, "m6": 6}[self.value]


@titled(
    {
        "awaiting": _l("Sans réponse"),
        "to_reconcile": _l("Réponses divergentes"),
        "retained": _l("Renseigné"),
    }
)
class MilestoneStatus(TitledEnum):
    """What the answers of a milestone amount to (kept in step by the services)."""

    AWAITING = "awaiting"
    TO_RECONCILE = "to_reconcile"
    RETAINED = "retained"


@titled(
    {
        "provider": _l("Organisme de formation"),
        "employer": _l("Employeur"),
        "prescriber": _l("Prescripteur"),
    }
)
class Party(TitledEnum):
    """In which capacity an organisation answers a follow-up."""

    PROVIDER = "provider"
    EMPLOYER = "employer"
    PRESCRIBER = "prescriber"


@titled({"phone": _l("Téléphone"), "email": _l("Courriel"), "interview": _l("Entretien")})
class Channel(TitledEnum):
    """How the person was reached (or tried)."""

    PHONE = "phone"
    EMAIL = "email"
    INTERVIEW = "interview"


@titled({"full_time": _l("Temps plein"), "part_time": _l("Temps partiel")})
class WorkingTime(TitledEnum):
    """Working time of a job."""

    FULL_TIME = "full_time"
    PART_TIME = "part_time"


@titled(
    {
        "single": _l("Réponse unique"),
        "agreed": _l("Réponses concordantes"),
        "chosen": _l("Réponse choisie par l'organisme de formation"),
        "written": _l("Réponse rédigée par l'organisme de formation"),
    }
)
class RetainedBasis(TitledEnum):
    """Why an answer is the one retained: alone, agreed by all, or reconciled."""

    SINGLE = "single"
    AGREED = "agreed"
    CHOSEN = "chosen"
    WRITTEN = "written"

    @property
    def reconciled(self) -> bool:
        return self in (RetainedBasis.CHOSEN, RetainedBasis.WRITTEN)


class Milestone(db.Model):
    """One follow-up of one trainee (at exit, +3 or +6 months), due on a date computed from
    the exit date. ``version`` grows with every change, so a reconciliation made on a
    stale page is refused."""

    __tablename__ = "followup_milestones"
    __table_args__ = (
        UniqueConstraint("trainee_id", "kind"),
        Index("ix_followup_milestones_operation_due", "operation_id", "due_on"),
        # The dashboard's overdue count reads only the awaited ones (reporting.queries).
        Index("ix_followup_milestones_status_due", "status", "due_on", "operation_id"),
        CheckConstraint("version > 0", name="version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"))
    trainee_id: Mapped[int] = mapped_column(ForeignKey("trainees.id"))
    kind: Mapped[MilestoneKind] = mapped_column(db_enum(MilestoneKind))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[MilestoneStatus] = mapped_column(
        db_enum(MilestoneStatus), default=MilestoneStatus.AWAITING
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Reminders: « à faire » once, « en retard » again after a cooldown, the escalation once.
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime)
    overdue_reminded_at: Mapped[datetime | None] = mapped_column(DateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    operation: Mapped[Operation] = relationship()
    trainee: Mapped[Trainee] = relationship()
    answers: Mapped[list["Answer"]] = relationship(back_populates="milestone", order_by="Answer.id")
    attempts: Mapped[list["Attempt"]] = relationship(
        back_populates="milestone", order_by="Attempt.id"
    )
    retained: Mapped["RetainedAnswer | None"] = relationship(
        back_populates="milestone", uselist=False
    )


class Answer(db.Model):
    """What one party says of the person's situation at a milestone (never overwritten)."""

    __tablename__ = "followup_answers"
    __table_args__ = (
        CheckConstraint(
            f"situation NOT IN {WITH_DURATION_SQL} OR duration_months IS NOT NULL",
            name="duration_when_needed",
        ),
        CheckConstraint(
            "duration_months IS NULL OR (duration_months >= 1 AND duration_months <= 120)",
            name="duration_months",
        ),
        CheckConstraint(
            f"situation NOT IN {SALARIED_SQL} OR employer_id IS NOT NULL OR employer_name != ''",
            name="employer_when_salaried",
        ),
        CheckConstraint("employer_id IS NULL OR employer_name = ''", name="one_employer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("followup_milestones.id"), index=True)
    party: Mapped[Party] = mapped_column(db_enum(Party))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    situation: Mapped[Situation] = mapped_column(db_enum(Situation))
    duration_months: Mapped[int | None] = mapped_column(Integer)
    # One of the operation's employers, or another one named.
    employer_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    employer_name: Mapped[str] = mapped_column(String(200), default="")
    job_title: Mapped[str] = mapped_column(String(200), default="")
    working_time: Mapped[WorkingTime | None] = mapped_column(db_enum(WorkingTime))
    contacted_on: Mapped[date] = mapped_column(Date)
    channel: Mapped[Channel] = mapped_column(db_enum(Channel))
    comment: Mapped[str] = mapped_column(Text, default="")
    # Written by the organisme porteur as the retained answer when reconciling.
    reconciliation: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    milestone: Mapped[Milestone] = relationship(back_populates="answers")
    organisation: Mapped[Organisation] = relationship(foreign_keys=[organisation_id])
    user: Mapped[User] = relationship()
    employer: Mapped[Organisation | None] = relationship(foreign_keys=[employer_id])

    @property
    def lasting(self) -> bool:
        """« Emploi durable », derived from the situation and its duration."""
        return is_lasting(self.situation, self.duration_months)

    @property
    def employer_label(self) -> str:
        if self.employer is not None:
            return self.employer.name
        return self.employer_name


class Attempt(db.Model):
    """A try to reach the person for a milestone: « sans nouvelles » needs several."""

    __tablename__ = "followup_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("followup_milestones.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    attempted_on: Mapped[date] = mapped_column(Date)
    channel: Mapped[Channel] = mapped_column(db_enum(Channel))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    milestone: Mapped[Milestone] = relationship(back_populates="attempts")
    organisation: Mapped[Organisation] = relationship()
    user: Mapped[User] = relationship()


class RetainedAnswer(db.Model):
    """The answer that counts for a milestone, and why: one per milestone. A reconciliation
    (chosen or written by the organisme porteur) carries its note and its author."""

    __tablename__ = "followup_retained_answers"
    __table_args__ = (
        CheckConstraint(
            "basis IN ('single', 'agreed') OR (note != '' AND decided_by_id IS NOT NULL)",
            name="reconciliation_note",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("followup_milestones.id"), unique=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("followup_answers.id"))
    basis: Mapped[RetainedBasis] = mapped_column(db_enum(RetainedBasis))
    note: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    decided_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    milestone: Mapped[Milestone] = relationship(back_populates="retained")
    answer: Mapped[Answer] = relationship()
    decided_by: Mapped[User | None] = relationship()
    decided_by_org: Mapped[Organisation | None] = relationship()
