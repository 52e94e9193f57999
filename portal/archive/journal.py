"""The operation's audit events, as its archive lists them, and the date of the state the
archive records.

An audit event names its object by type and id (``portal/audit/models.py``); the objects
that belong to an operation are listed in ``SCOPES``, one entry per model with the query
of its ids in an operation. A new kind of audited object (a steering meeting, say) is one
entry. All of it is one query, whatever the number of trainees.

Downloads are left out (``*.downloaded``): reading leaves its trace in the log, but an
archive that listed its own downloads would change with each one — like the convention's
evidence page (``portal/conventions/evidence_page.py``).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, or_, select

from portal.assessment.models import Assessment, Bonus
from portal.audit.models import AuditEvent
from portal.conventions.models import Convention, ConventionVersion
from portal.extensions import db
from portal.followup.models import Answer, Attempt, Milestone, PromiseOutcome
from portal.operations.models import Operation, Status
from portal.recruitment.models import JobPromise, Trainee

READS = "%.downloaded"
# The event that ends an operation, by its final step: the date of a final archive.
ENDINGS = {
    Status.CLOSED: ("operation.advanced", Status.CLOSED.value),
    Status.CANCELLED: ("operation.cancelled", None),
}


@dataclass(frozen=True)
class Scope:
    """Audited objects of one model that belong to an operation: ``ids(operation_id)``."""

    model: type
    ids: Callable[[int], Select]


def _milestones(operation_id: int) -> Select:
    return select(Milestone.id).where(Milestone.operation_id == operation_id)


SCOPES: list[Scope] = [
    Scope(Operation, lambda op: select(Operation.id).where(Operation.id == op)),
    Scope(Convention, lambda op: select(Convention.id).where(Convention.operation_id == op)),
    Scope(
        ConventionVersion,
        lambda op: (
            select(ConventionVersion.id)
            .join(Convention, Convention.id == ConventionVersion.convention_id)
            .where(Convention.operation_id == op)
        ),
    ),
    Scope(Trainee, lambda op: select(Trainee.id).where(Trainee.operation_id == op)),
    Scope(Milestone, _milestones),
    Scope(Answer, lambda op: select(Answer.id).where(Answer.milestone_id.in_(_milestones(op)))),
    Scope(Attempt, lambda op: select(Attempt.id).where(Attempt.milestone_id.in_(_milestones(op)))),
    Scope(
        PromiseOutcome,
        lambda op: (
            select(PromiseOutcome.id)
            .join(JobPromise, JobPromise.id == PromiseOutcome.promise_id)
            .where(JobPromise.operation_id == op)
        ),
    ),
    Scope(Assessment, lambda op: select(Assessment.id).where(Assessment.operation_id == op)),
    Scope(Bonus, lambda op: select(Bonus.id).where(Bonus.operation_id == op)),
]


@dataclass(frozen=True)
class Event:
    """One audit event as the manifest lists it: its place in the chain and its hashes."""

    seq: int
    at: datetime
    action: str
    object_type: str
    object_id: int | None
    prev_hash: str
    hash: str
    detail: dict

    def listed(self) -> dict:
        """The event in the manifest (no actor, address or detail: the manifest may be
        shown to anyone who checks it)."""
        return {
            "seq": self.seq,
            "at": self.at.isoformat(timespec="microseconds"),
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def operation_events(operation: Operation) -> list[Event]:
    """The audit events of ``operation`` and of what belongs to it, in chain order."""
    belongs = or_(
        *(
            and_(
                AuditEvent.object_type == scope.model.__name__,
                AuditEvent.object_id.in_(scope.ids(operation.id)),
            )
            for scope in SCOPES
        )
    )
    rows = db.session.execute(
        select(
            AuditEvent.seq,
            AuditEvent.at,
            AuditEvent.action,
            AuditEvent.object_type,
            AuditEvent.object_id,
            AuditEvent.prev_hash,
            AuditEvent.hash,
            AuditEvent.detail,
        )
        .where(belongs, AuditEvent.action.not_like(READS))
        .order_by(AuditEvent.seq)
    ).all()
    return [Event(*row[:-1], detail=row.detail or {}) for row in rows]


def state_date(operation: Operation, events: list[Event]) -> datetime:
    """The date of the state the archive records, to the second: the closing (or the
    cancellation) of an operation that ended, else its last audited change. The same state
    gives the same date."""
    ending = ENDINGS.get(operation.status)
    endings = []
    if ending is not None:
        action, target = ending
        endings = [
            e.at
            for e in events
            if e.object_type == Operation.__name__
            and e.action == action
            and (target is None or e.detail.get("target") == target)
        ]
    if endings:
        moment = endings[-1]
    elif events:
        moment = max(e.at for e in events)
    else:  # taken over as history, or never changed: when it was reported
        moment = operation.reported_at
    return moment.replace(microsecond=0)
