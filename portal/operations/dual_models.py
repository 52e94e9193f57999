"""One person in two parties of one operation: the Région's approval (issue #11 M6).

A user who is an active member of two organisations taking part in the same open operation
could speak, and sign, for both. The portal lets the situation exist (people do work for
two organisations) but keeps it blocked until the Région decides: one row per request, for
one person and one pair of organisations in one operation, approved or refused once. The
rules and verbs are in ``dual_memberships.py``.
"""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Organisation, User
from portal.core.enums import TitledEnum, db_enum, titled
from portal.core.time import utcnow
from portal.extensions import db
from portal.operations.models import Operation


@titled({"approved": _l("Cumul approuvé"), "refused": _l("Cumul refusé")})
class DualDecision(TitledEnum):
    """The Région's one decision on a request."""

    APPROVED = "approved"
    REFUSED = "refused"


class DualMembershipApproval(db.Model):
    """A request for the Région to approve that ``user`` is a member of two parties of
    ``operation`` (the pair in id order), and its decision. Kept once decided: a refused
    situation that arises again makes a new request."""

    __tablename__ = "dual_membership_approvals"
    __table_args__ = (
        CheckConstraint(
            "first_organisation_id < second_organisation_id", name="organisations_in_order"
        ),
        CheckConstraint(
            "(decision IS NULL AND decided_at IS NULL) OR "
            "(decision IS NOT NULL AND decided_at IS NOT NULL)",
            name="decided_with_a_date",
        ),
        CheckConstraint(
            "decision IS NULL OR decision != 'refused' OR reason != ''", name="refusal_reason"
        ),
        # One request waiting per situation: two requests at once cannot both open one.
        Index(
            "uq_dual_membership_approvals_pending",
            "operation_id",
            "user_id",
            "first_organisation_id",
            "second_organisation_id",
            unique=True,
            sqlite_where=text("decision IS NULL"),
            postgresql_where=text("decision IS NULL"),
        ),
        Index("ix_dual_membership_approvals_operation_user", "operation_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    first_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    second_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Who made the situation arise (accepted an invitation, added a participant); empty for
    # a situation found without a request (one from before the rule).
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[DualDecision | None] = mapped_column(db_enum(DualDecision, 10))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")

    operation: Mapped[Operation] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    first_organisation: Mapped[Organisation] = relationship(foreign_keys=[first_organisation_id])
    second_organisation: Mapped[Organisation] = relationship(foreign_keys=[second_organisation_id])
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def is_pending(self) -> bool:
        return self.decision is None

    @property
    def is_approved(self) -> bool:
        return self.decision == DualDecision.APPROVED

    @property
    def is_refused(self) -> bool:
        return self.decision == DualDecision.REFUSED
