"""Immersion periods, tutors' assessments, debriefs, evaluations and juries."""

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
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
from portal.recruitment.models import Trainee


@titled(
    {
        "acquired": _l("Acquis"),
        "in_progress": _l("En cours d'acquisition"),
        "not_acquired": _l("Non acquis"),
    }
)
class SkillLevel(TitledEnum):
    """How far a skill is acquired, as seen by a tutor or at a debrief."""

    ACQUIRED = "acquired"
    IN_PROGRESS = "in_progress"
    NOT_ACQUIRED = "not_acquired"


class Immersion(db.Model):
    """A period in a signatory company: trainee × employer × tutor × dates × objectives."""

    __tablename__ = "immersions"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="dates"),
        Index("ix_immersions_operation_starts", "operation_id", "starts_on"),
        # The tutor's space (issue #16): a tutor's immersions at an employer — or all of the
        # employer's, for its admins — by dates, counted and paged from the index alone;
        # each also serves what ``tutor_id`` or ``employer_id`` alone did.
        Index(
            "ix_immersions_tutor_employer_dates", "tutor_id", "employer_id", "starts_on", "ends_on"
        ),
        Index("ix_immersions_employer_dates", "employer_id", "starts_on", "ends_on", "tutor_id"),
        # One immersion per trainee per company period of the rhythm, however often the
        # generation runs; immersions added by hand have no period.
        Index(
            "uq_immersions_trainee_period",
            "trainee_id",
            "period_id",
            unique=True,
            sqlite_where=text("period_id <> ''"),
            postgresql_where=text("period_id <> ''"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"))
    trainee_id: Mapped[int] = mapped_column(ForeignKey("trainees.id"), index=True)
    employer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    # The tutor the host employer designated; the organisme may only suggest one.
    tutor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    suggested_tutor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    # The rhythm period (design item id) it was generated from, if any.
    period_id: Mapped[str] = mapped_column(String(40), default="")
    # Skill item ids of the design's skills section to work on.
    objectives: Mapped[list] = mapped_column(JSON, default=list)
    # Preparation checklist.
    objectives_agreed: Mapped[bool] = mapped_column(Boolean, default=False)
    tutor_briefed: Mapped[bool] = mapped_column(Boolean, default=False)
    practical_details: Mapped[str] = mapped_column(Text, default="")
    safety_ppe: Mapped[bool] = mapped_column(Boolean, default=False)
    agreement_reference: Mapped[str] = mapped_column(String(80), default="")
    prepared_at: Mapped[datetime | None] = mapped_column(DateTime)
    prepared_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reminder_sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    operation: Mapped[Operation] = relationship()
    trainee: Mapped[Trainee] = relationship()
    employer: Mapped[Organisation] = relationship()
    tutor: Mapped[User | None] = relationship(foreign_keys=[tutor_id])
    suggested_tutor: Mapped[User | None] = relationship(foreign_keys=[suggested_tutor_id])
    prepared_by: Mapped[User | None] = relationship(foreign_keys=[prepared_by_id])
    # The current assessment; corrected ones stay in ``tutor_assessments``, superseded.
    assessment: Mapped["TutorAssessment | None"] = relationship(
        primaryjoin="and_(TutorAssessment.immersion_id == Immersion.id, "
        "TutorAssessment.superseded_at.is_(None))",
        uselist=False,
        viewonly=True,
    )

    @property
    def is_ready(self) -> bool:
        """Prepared: every item of the checklist is done."""
        return bool(
            self.objectives_agreed
            and self.tutor_briefed
            and self.practical_details.strip()
            and self.safety_ppe
            and self.agreement_reference.strip()
            and self.tutor_id is not None
        )


@titled(
    {"full": _l("Assidu·e"), "partial": _l("Absences ponctuelles"), "poor": _l("Absences répétées")}
)
class Presence(TitledEnum):
    """Attendance during an immersion, as the tutor saw it."""

    FULL = "full"
    PARTIAL = "partial"
    POOR = "poor"


@titled({"yes": _l("Oui"), "maybe": _l("Peut-être"), "no": _l("Non")})
class WouldHire(TitledEnum):
    """Whether the tutor's company would hire the trainee."""

    YES = "yes"
    MAYBE = "maybe"
    NO = "no"


class TutorAssessment(db.Model):
    """The tutor's view of one immersion: presence, skills observed, feedback, hiring.

    Once a debrief used it, an assessment is frozen: a correction is a new, dated
    assessment and the old one is kept, marked ``superseded_at`` (one current per immersion).
    """

    __tablename__ = "tutor_assessments"
    __table_args__ = (
        Index(
            "uq_tutor_assessments_current",
            "immersion_id",
            unique=True,
            sqlite_where=text("superseded_at IS NULL"),
            postgresql_where=text("superseded_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed whole, not only the current row (the partial unique index above): « not yet
    # assessed » is a NOT EXISTS on every assessment of an immersion (issue #16).
    immersion_id: Mapped[int] = mapped_column(ForeignKey("immersions.id"), index=True)
    tutor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    presence: Mapped[Presence] = mapped_column(db_enum(Presence))
    feedback: Mapped[str] = mapped_column(Text, default="")
    would_hire: Mapped[WouldHire] = mapped_column(db_enum(WouldHire))
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime)

    immersion: Mapped[Immersion] = relationship()
    tutor: Mapped[User] = relationship()
    ratings: Mapped[list["SkillRating"]] = relationship(
        back_populates="assessment", cascade="all, delete-orphan", order_by="SkillRating.id"
    )


class SkillRating(db.Model):
    """One skill of the design as observed by the tutor during an immersion."""

    __tablename__ = "skill_ratings"
    __table_args__ = (UniqueConstraint("assessment_id", "skill_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("tutor_assessments.id", ondelete="CASCADE")
    )
    skill_id: Mapped[str] = mapped_column(String(40))
    skill_label: Mapped[str] = mapped_column(String(300))
    level: Mapped[SkillLevel] = mapped_column(db_enum(SkillLevel))
    comment: Mapped[str] = mapped_column(Text, default="")

    assessment: Mapped[TutorAssessment] = relationship(back_populates="ratings")


@titled({"individual": _l("Individuel"), "collective": _l("Collectif")})
class DebriefKind(TitledEnum):
    """A debrief covers one trainee or several trainees of one period."""

    INDIVIDUAL = "individual"
    COLLECTIVE = "collective"


class Debrief(db.Model):
    """A retour d'expérience after an immersion period."""

    __tablename__ = "debriefs"
    __table_args__ = (Index("ix_debriefs_operation_held", "operation_id", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"))
    kind: Mapped[DebriefKind] = mapped_column(db_enum(DebriefKind))
    held_on: Mapped[date] = mapped_column(Date)
    went_well: Mapped[str] = mapped_column(Text, default="")
    difficulties: Mapped[str] = mapped_column(Text, default="")
    decisions: Mapped[str] = mapped_column(Text, default="")
    next_steps: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    operation: Mapped[Operation] = relationship()
    created_by: Mapped[User | None] = relationship()
    trainees: Mapped[list["DebriefTrainee"]] = relationship(
        back_populates="debrief", cascade="all, delete-orphan", order_by="DebriefTrainee.id"
    )
    attendees: Mapped[list["DebriefAttendee"]] = relationship(
        back_populates="debrief", cascade="all, delete-orphan", order_by="DebriefAttendee.id"
    )
    skills: Mapped[list["DebriefSkill"]] = relationship(
        back_populates="debrief", cascade="all, delete-orphan", order_by="DebriefSkill.id"
    )


class DebriefTrainee(db.Model):
    """A trainee a debrief is about, the immersion it closes, and whether they attended."""

    __tablename__ = "debrief_trainees"
    __table_args__ = (UniqueConstraint("debrief_id", "trainee_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    debrief_id: Mapped[int] = mapped_column(ForeignKey("debriefs.id", ondelete="CASCADE"))
    trainee_id: Mapped[int] = mapped_column(ForeignKey("trainees.id"), index=True)
    # One debrief line per immersion: a debrief closes it once.
    immersion_id: Mapped[int | None] = mapped_column(ForeignKey("immersions.id"), unique=True)
    attended: Mapped[bool] = mapped_column(Boolean, default=True)

    debrief: Mapped[Debrief] = relationship(back_populates="trainees")
    trainee: Mapped[Trainee] = relationship()
    immersion: Mapped[Immersion | None] = relationship()


class DebriefAttendee(db.Model):
    """A tutor or a member of the organisme's staff present at a debrief."""

    __tablename__ = "debrief_attendees"
    __table_args__ = (UniqueConstraint("debrief_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    debrief_id: Mapped[int] = mapped_column(ForeignKey("debriefs.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))

    debrief: Mapped[Debrief] = relationship(back_populates="attendees")
    user: Mapped[User] = relationship()
    organisation: Mapped[Organisation] = relationship()


class DebriefSkill(db.Model):
    """Skills progress of one trainee noted at a debrief, linked to the tutor's rating."""

    __tablename__ = "debrief_skills"
    __table_args__ = (UniqueConstraint("debrief_id", "trainee_id", "skill_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    debrief_id: Mapped[int] = mapped_column(ForeignKey("debriefs.id", ondelete="CASCADE"))
    trainee_id: Mapped[int] = mapped_column(ForeignKey("trainees.id"), index=True)
    skill_id: Mapped[str] = mapped_column(String(40))
    skill_label: Mapped[str] = mapped_column(String(300))
    level: Mapped[SkillLevel] = mapped_column(db_enum(SkillLevel))
    comment: Mapped[str] = mapped_column(Text, default="")
    rating_id: Mapped[int | None] = mapped_column(
        ForeignKey("skill_ratings.id", ondelete="SET NULL")
    )

    debrief: Mapped[Debrief] = relationship(back_populates="skills")
    trainee: Mapped[Trainee] = relationship()
    rating: Mapped[SkillRating | None] = relationship()


@titled(
    {
        "intermediate": _l("Bilan intermédiaire"),
        "final": _l("Évaluation finale"),
        "jury": _l("Jury de certification"),
    }
)
class EvaluationKind(TitledEnum):
    """Reviews, evaluations and certification juries employers and tutors are invited to."""

    INTERMEDIATE = "intermediate"
    FINAL = "final"
    JURY = "jury"


class Evaluation(db.Model):
    """An evaluation event of the operation."""

    __tablename__ = "evaluations"
    # A second evaluation of the same kind at the same time is a repeated submit.
    __table_args__ = (
        UniqueConstraint(
            "operation_id", "kind", "held_at", name="uq_evaluations_operation_kind_held_at"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), index=True)
    kind: Mapped[EvaluationKind] = mapped_column(db_enum(EvaluationKind))
    held_at: Mapped[datetime] = mapped_column(DateTime)
    place: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    operation: Mapped[Operation] = relationship()
    invitations: Mapped[list["EvaluationInvitation"]] = relationship(
        back_populates="evaluation",
        cascade="all, delete-orphan",
        order_by="EvaluationInvitation.id",
    )
    results: Mapped[list["EvaluationResult"]] = relationship(
        back_populates="evaluation", cascade="all, delete-orphan", order_by="EvaluationResult.id"
    )


class EvaluationInvitation(db.Model):
    """An employer's person or tutor invited to an evaluation; attendance recorded after."""

    __tablename__ = "evaluation_invitations"
    __table_args__ = (UniqueConstraint("evaluation_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    invited_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # None until the organisme records attendance.
    attended: Mapped[bool | None] = mapped_column(Boolean)

    evaluation: Mapped[Evaluation] = relationship(back_populates="invitations")
    user: Mapped[User] = relationship()
    organisation: Mapped[Organisation] = relationship()


@titled(
    {
        "passed": _l("Satisfaisant"),
        "to_improve": _l("À consolider"),
        "failed": _l("Insuffisant"),
        "full": _l("Certification obtenue"),
        "partial": _l("Certification partielle (blocs)"),
        "not_obtained": _l("Certification non obtenue"),
    }
)
class Outcome(TitledEnum):
    """A trainee's result: the three last are for a certification jury only."""

    PASSED = "passed"
    TO_IMPROVE = "to_improve"
    FAILED = "failed"
    FULL = "full"
    PARTIAL = "partial"
    NOT_OBTAINED = "not_obtained"


class EvaluationResult(db.Model):
    """One trainee's result at an evaluation; blocks obtained for a partial certification."""

    __tablename__ = "evaluation_results"
    __table_args__ = (UniqueConstraint("evaluation_id", "trainee_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id", ondelete="CASCADE"))
    trainee_id: Mapped[int] = mapped_column(ForeignKey("trainees.id"), index=True)
    outcome: Mapped[Outcome] = mapped_column(db_enum(Outcome))
    blocks: Mapped[str] = mapped_column(Text, default="")
    comment: Mapped[str] = mapped_column(Text, default="")

    evaluation: Mapped[Evaluation] = relationship(back_populates="results")
    trainee: Mapped[Trainee] = relationship()
