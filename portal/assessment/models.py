"""The evaluation of an operation (its state: the written parts live in the design) and the
prime DEFI the organisme porteur may request from the Région."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Organisation, User
from portal.core.enums import TitledEnum, db_enum, titled
from portal.core.time import utcnow
from portal.extensions import db
from portal.operations.models import Operation


@titled(
    {
        "draft": _l("Brouillon"),
        "submitted": _l("Soumise à la Région"),
        "accepted": _l("Acceptée"),
        "changes_requested": _l("À reprendre"),
    }
)
class AssessmentStatus(TitledEnum):
    """Where the evaluation stands: written, then submitted, then accepted or sent back."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    CHANGES_REQUESTED = "changes_requested"

    @property
    def editable(self) -> bool:
        """The written parts change in draft and when the Région asked for changes."""
        return self in (AssessmentStatus.DRAFT, AssessmentStatus.CHANGES_REQUESTED)


class Assessment(db.Model):
    """The evaluation of one operation, started in the employment follow-up."""

    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), unique=True)
    status: Mapped[AssessmentStatus] = mapped_column(
        db_enum(AssessmentStatus), default=AssessmentStatus.DRAFT
    )
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The Région's word when it accepts or sends the evaluation back (required then).
    decision_comment: Mapped[str] = mapped_column(Text, default="")

    operation: Mapped[Operation] = relationship()
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


@titled(
    {
        "requested": _l("Demandée"),
        "withdrawn": _l("Demande retirée"),
        "granted": _l("Accordée"),
        "refused": _l("Refusée"),
    }
)
class BonusStatus(TitledEnum):
    """A prime DEFI request and the Région's one decision."""

    REQUESTED = "requested"
    WITHDRAWN = "withdrawn"
    GRANTED = "granted"
    REFUSED = "refused"

    @property
    def decided(self) -> bool:
        return self in (BonusStatus.GRANTED, BonusStatus.REFUSED)

    @property
    def granted(self) -> bool:
        return self == BonusStatus.GRANTED

    @property
    def stands(self) -> bool:
        """The request is there to show (requested or decided): not withdrawn."""
        return self != BonusStatus.WITHDRAWN


class Bonus(db.Model):
    """The prime DEFI of one operation: requested with its justification by the organisme
    porteur, granted (with an amount in whole euros) or refused (with a reason) once."""

    __tablename__ = "bonuses"
    __table_args__ = (
        CheckConstraint("amount_euros IS NULL OR amount_euros > 0", name="amount_positive"),
        CheckConstraint("status != 'granted' OR amount_euros IS NOT NULL", name="granted_amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), unique=True)
    status: Mapped[BonusStatus] = mapped_column(db_enum(BonusStatus))
    justification: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    amount_euros: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text, default="")  # of a refusal
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    operation: Mapped[Operation] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    requested_org: Mapped[Organisation | None] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
