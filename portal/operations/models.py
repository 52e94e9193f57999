"""An operation is one tailor-made training session run as a DEFI."""

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
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Organisation, Territory, User
from portal.core.employment import MONTHS_MAX, ContractTerms, ContractType
from portal.core.enums import TitledEnum, db_enum, titled
from portal.core.time import utcnow
from portal.extensions import db
from portal.lots.models import Category, MarketLot


@titled(
    {
        "need_reported": _l("Besoin repéré"),
        "analysis": _l("Analyse des besoins"),
        "co_design": _l("Co-conception"),
        "convention": _l("Convention de partenariat"),
        "recruitment": _l("Recrutement"),
        "training": _l("Formation en cours"),
        "follow_up": _l("Suivi dans l'emploi"),
        "closed": _l("Clôturée"),
        "cancelled": _l("Annulée"),
    }
)
class Status(TitledEnum):
    """Where an operation stands in the DEFI lifecycle."""

    NEED_REPORTED = "need_reported"
    ANALYSIS = "analysis"
    CO_DESIGN = "co_design"
    CONVENTION = "convention"
    RECRUITMENT = "recruitment"
    TRAINING = "training"
    FOLLOW_UP = "follow_up"
    CLOSED = "closed"
    CANCELLED = "cancelled"


# The steps in their order, and the steps where the partnership convention is drafted
# (first signature) or amended (while the operation runs): shared by several areas.
FORWARD_STEPS = (
    Status.NEED_REPORTED,
    Status.ANALYSIS,
    Status.CO_DESIGN,
    Status.CONVENTION,
    Status.RECRUITMENT,
    Status.TRAINING,
    Status.FOLLOW_UP,
    Status.CLOSED,
)
DRAFTING_STEPS = (Status.CONVENTION,)
AMENDMENT_STEPS = (Status.RECRUITMENT, Status.TRAINING, Status.FOLLOW_UP)


@titled(
    {
        "add": _l("Ajout en attente de l'avenant"),
        "withdraw": _l("Retrait en attente de l'avenant"),
    }
)
class PendingChange(TitledEnum):
    """A change to the parties or the promises made once a convention version is in force:
    it waits for the amendment (avenant) that carries it, and applies when the Région
    validates that amendment (``portal/operations/pending.py``)."""

    ADD = "add"
    WITHDRAW = "withdraw"


class Pending:
    """A row (a participant, a line of positions) added or withdrawn after signature: the
    change waits for the amendment that carries it (None: as the convention in force says,
    or as the draft says before any version is in force)."""

    pending_change: Mapped[PendingChange | None] = mapped_column(db_enum(PendingChange))
    pending_at: Mapped[datetime | None] = mapped_column(DateTime)

    @property
    def is_joining(self) -> bool:
        """Added after signature: in force once the amendment is validated."""
        return self.pending_change == PendingChange.ADD

    @property
    def is_leaving(self) -> bool:
        """Withdrawal asked after signature: in force until the amendment is validated."""
        return self.pending_change == PendingChange.WITHDRAW


@titled(
    {
        "lot": _l("Marché (lot)"),
        "pending": _l("Hors marché — décision de la Région attendue"),
        "fref": _l("Fonds réactifs emploi formation"),
        "declined": _l("Hors marché — non retenu par la Région"),
    }
)
class Funding(TitledEnum):
    """How the operation is financed: under a lot, or outside any lot (FREF)."""

    LOT = "lot"
    PENDING = "pending"
    FREF = "fref"
    DECLINED = "declined"


@titled(
    {
        "region": _l("Région (pilote)"),
        "provider": _l("Organisme de formation porteur"),
        "employer": _l("Employeur"),
        "partner_orientation": _l("Partenaire orientation"),
        "partner_employment": _l("Partenaire emploi / économie"),
        "opco": _l("OPCO"),
        "other": _l("Autre partenaire"),
    }
)
class ParticipantRole(TitledEnum):
    """The part an organisation plays in an operation."""

    REGION = "region"
    PROVIDER = "provider"
    EMPLOYER = "employer"
    PARTNER_ORIENTATION = "partner_orientation"
    PARTNER_EMPLOYMENT = "partner_employment"
    OPCO = "opco"
    OTHER = "other"


class Operation(db.Model):
    """A DEFI operation, from the reported need to closing."""

    __tablename__ = "operations"
    __table_args__ = (
        CheckConstraint("target_headcount IS NULL OR target_headcount > 0", name="headcount"),
        CheckConstraint("hours_centre IS NULL OR hours_centre >= 0", name="hours_centre"),
        CheckConstraint("hours_company IS NULL OR hours_company >= 0", name="hours_company"),
        CheckConstraint(
            "session_end IS NULL OR session_start IS NULL OR session_end >= session_start",
            name="session_dates",
        ),
        CheckConstraint("funding != 'lot' OR lot_id IS NOT NULL", name="lot_when_funded_by_lot"),
        Index("ix_operations_status_territory", "status", "territory_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[Category] = mapped_column(db_enum(Category))
    territory_id: Mapped[int] = mapped_column(ForeignKey("territories.id"), index=True)
    rome_code: Mapped[str] = mapped_column(String(5))
    trades: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[Status] = mapped_column(db_enum(Status), default=Status.NEED_REPORTED)
    funding: Mapped[Funding] = mapped_column(db_enum(Funding))
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("market_lots.id"), index=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    # The need as reported.
    positions_estimate: Mapped[int | None] = mapped_column(Integer)
    desired_start: Mapped[date | None] = mapped_column(Date)
    context: Mapped[str] = mapped_column(Text, default="")
    reported_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reported_by_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    reported_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    # The Région's acknowledgement of the need.
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledgement_comment: Mapped[str] = mapped_column(Text, default="")
    # Outside any lot: the Région's decision.
    fref_reference: Mapped[str] = mapped_column(String(60), default="")
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    # The session as planned.
    session_start: Mapped[date | None] = mapped_column(Date)
    session_end: Mapped[date | None] = mapped_column(Date)
    target_headcount: Mapped[int | None] = mapped_column(Integer)
    hours_centre: Mapped[int | None] = mapped_column(Integer)
    hours_company: Mapped[int | None] = mapped_column(Integer)
    certification_code: Mapped[str] = mapped_column(String(20), default="")
    certification_title: Mapped[str] = mapped_column(String(250), default="")
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    # When the Région first validated a version of the convention: from then on, changes
    # to the parties and the promises wait for an amendment (``PendingChange``).
    convention_in_force_since: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    territory: Mapped[Territory] = relationship()
    lot: Mapped[MarketLot | None] = relationship()
    provider: Mapped[Organisation | None] = relationship(foreign_keys=[provider_id])
    reported_by: Mapped[User] = relationship(foreign_keys=[reported_by_id])
    reported_by_org: Mapped[Organisation] = relationship(foreign_keys=[reported_by_org_id])
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    participants: Mapped[list["Participant"]] = relationship(
        back_populates="operation", order_by="Participant.id"
    )
    # Read only, for the operation page's single query (``queries.load_for_page``): the
    # services create and change the analysis through ``NeedsAnalysis`` itself.
    analysis: Mapped["NeedsAnalysis | None"] = relationship(viewonly=True)

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status not in (Status.CLOSED, Status.CANCELLED)

    @property
    def is_cancelled(self) -> bool:
        return self.status == Status.CANCELLED

    def active_participants(self) -> list["Participant"]:
        return [p for p in self.participants if p.withdrawn_at is None]


class Participant(Pending, db.Model):
    """An organisation taking part in an operation, with its role; withdrawn, never deleted."""

    __tablename__ = "operation_participants"
    __table_args__ = (
        Index(
            "uq_operation_participants_active",
            "operation_id",
            "organisation_id",
            unique=True,
            sqlite_where=text("withdrawn_at IS NULL"),
            postgresql_where=text("withdrawn_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    role: Mapped[ParticipantRole] = mapped_column(db_enum(ParticipantRole))
    by_right: Mapped[bool] = mapped_column(Boolean, default=False)
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawal_reason: Mapped[str] = mapped_column(Text, default="")
    # Who added or withdrew it after signature (``Pending``): the withdrawal's author.
    pending_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    operation: Mapped[Operation] = relationship(back_populates="participants")
    organisation: Mapped[Organisation] = relationship()
    added_by: Mapped[User | None] = relationship(foreign_keys=[added_by_id])
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])
    pending_by: Mapped[User | None] = relationship(foreign_keys=[pending_by_id])


class OperationEvent(db.Model):
    """One line of an operation's timeline: who, for which organisation, did what, when."""

    __tablename__ = "operation_events"
    __table_args__ = (Index("ix_operation_events_operation_at", "operation_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(50))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()


class EmployerNeed(db.Model):
    """What one employer needs from the operation; the employer fills in its own."""

    __tablename__ = "employer_needs"
    __table_args__ = (UniqueConstraint("operation_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    skills: Mapped[str] = mapped_column(Text, default="")
    constraint_hours: Mapped[str] = mapped_column(Text, default="")
    constraint_mobility: Mapped[str] = mapped_column(Text, default="")
    constraint_licence: Mapped[str] = mapped_column(Text, default="")
    constraint_physical: Mapped[str] = mapped_column(Text, default="")
    technical_platform: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    operation: Mapped[Operation] = relationship()
    organisation: Mapped[Organisation] = relationship()
    updated_by: Mapped[User | None] = relationship()
    positions: Mapped[list["Position"]] = relationship(
        back_populates="need", cascade="all, delete-orphan", order_by="Position.id"
    )

    @property
    def positions_count(self) -> int:
        return sum(p.count for p in self.positions)


class Position(Pending, ContractTerms, db.Model):
    """Positions an employer promises to fill: job, count, contract (and its duration in
    months for a CDD, an intérim or an alternance), start."""

    __tablename__ = "need_positions"
    __table_args__ = (
        CheckConstraint("count > 0", name="count_positive"),
        CheckConstraint(
            "duration_months IS NULL OR "
            f"(duration_months >= 1 AND duration_months <= {MONTHS_MAX})",
            name="duration_months",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(
        ForeignKey("employer_needs.id", ondelete="CASCADE"), index=True
    )
    job_title: Mapped[str] = mapped_column(String(200))
    rome_code: Mapped[str] = mapped_column(String(5), default="")
    count: Mapped[int] = mapped_column(Integer)
    contract_type: Mapped[ContractType] = mapped_column(db_enum(ContractType))
    duration_months: Mapped[int | None] = mapped_column(Integer)
    planned_start: Mapped[date | None] = mapped_column(Date)

    need: Mapped[EmployerNeed] = relationship(back_populates="positions")


class NeedsAnalysis(db.Model):
    """Public needs, the territorial diagnosis and the proposed adaptations sent to the Région."""

    __tablename__ = "needs_analyses"

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), unique=True)
    target_publics: Mapped[list] = mapped_column(JSON, default=list)
    prerequisites: Mapped[str] = mapped_column(Text, default="")
    barriers: Mapped[list] = mapped_column(JSON, default=list)
    barriers_detail: Mapped[str] = mapped_column(Text, default="")
    accompaniment: Mapped[str] = mapped_column(Text, default="")
    prescribers: Mapped[str] = mapped_column(Text, default="")
    diagnosis: Mapped[str] = mapped_column(Text, default="")
    diagnosis_links: Mapped[str] = mapped_column(Text, default="")
    adaptations: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    region_answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    operation: Mapped[Operation] = relationship()
    sent_by: Mapped[User | None] = relationship(foreign_keys=[sent_by_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])
    figures: Mapped[list["DiagnosisFigure"]] = relationship(
        back_populates="analysis", cascade="all, delete-orphan", order_by="DiagnosisFigure.id"
    )


class DiagnosisFigure(db.Model):
    """A key figure of the territorial diagnosis, with its source."""

    __tablename__ = "diagnosis_figures"

    id: Mapped[int] = mapped_column(primary_key=True)
    analysis_id: Mapped[int] = mapped_column(
        ForeignKey("needs_analyses.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(200))
    value: Mapped[str] = mapped_column(String(60))
    source: Mapped[str] = mapped_column(String(250), default="")

    analysis: Mapped[NeedsAnalysis] = relationship(back_populates="figures")
