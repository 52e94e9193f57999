"""Read-side queries of operations: filtered lists, counts, the page's data, the timeline."""

from dataclasses import dataclass

from flask import request
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from portal.core.memo import remember
from portal.extensions import db
from portal.lots.models import Category, MarketLot
from portal.operations.access import visible_operations
from portal.operations.models import (
    EmployerNeed,
    NeedsAnalysis,
    Operation,
    OperationEvent,
    Participant,
    Position,
    Status,
)

TIMELINE_PAGE = 20


@dataclass
class Filters:
    """The list's filters, read from the query string (invalid values are ignored)."""

    status: Status | None = None
    category: Category | None = None
    territory_id: int | None = None
    lot_id: int | None = None
    q: str = ""

    @classmethod
    def from_request(cls) -> "Filters":
        args = request.args

        def enum_or_none(enum_cls, value):
            try:
                return enum_cls(value) if value else None
            except ValueError:
                return None

        return cls(
            status=enum_or_none(Status, args.get("statut")),
            category=enum_or_none(Category, args.get("categorie")),
            territory_id=args.get("bassin", type=int),
            lot_id=args.get("lot", type=int),
            q=(args.get("q") or "").strip()[:100],
        )

    def apply(self, query):
        if self.status:
            query = query.where(Operation.status == self.status)
        if self.category:
            query = query.where(Operation.category == self.category)
        if self.territory_id:
            query = query.where(Operation.territory_id == self.territory_id)
        if self.lot_id:
            query = query.where(Operation.lot_id == self.lot_id)
        if self.q:
            # A literal search: autoescape keeps a typed % or _ from acting as a wildcard.
            q = self.q.lower()
            query = query.where(
                or_(
                    func.lower(Operation.title).contains(q, autoescape=True),
                    func.lower(Operation.trades).contains(q, autoescape=True),
                    func.lower(Operation.rome_code).contains(q, autoescape=True),
                )
            )
        return query

    @property
    def active(self) -> bool:
        return any([self.status, self.category, self.territory_id, self.lot_id, self.q])


def operations_query(filters: Filters, load=selectinload):
    """Visible operations matching ``filters``, newest first, with what the rows display
    (loaded by ``load``: ``joinedload`` reads them in the same query, for a short list)."""
    query = visible_operations(select(Operation)).options(
        load(Operation.territory),
        load(Operation.provider),
        load(Operation.lot),
    )
    return filters.apply(query).order_by(Operation.reported_at.desc(), Operation.id.desc())


def status_counts() -> dict[Status, int]:
    """How many visible operations stand at each status."""
    query = visible_operations(select(Operation.status, func.count(Operation.id))).group_by(
        Operation.status
    )
    counts = dict(db.session.execute(query).all())
    return {status: counts.get(status, 0) for status in Status}


def lots_for_filter():
    return db.session.scalars(select(MarketLot).order_by(MarketLot.number)).all()


def load_for_page(operation_id: int) -> Operation | None:
    """The operation with everything its page shows, in one query: the operation joined
    to what it names (one row each), to its participants (a few rows, so the page can
    also tell who may see it without asking the database again, ``access.can_view``) and
    to its needs analysis (remembered for this request, ``context.existing_analysis``)."""
    query = (
        select(Operation)
        .where(Operation.id == operation_id)
        .options(
            joinedload(Operation.territory),
            joinedload(Operation.lot).joinedload(MarketLot.holder),
            joinedload(Operation.provider),
            joinedload(Operation.reported_by),
            joinedload(Operation.reported_by_org),
            joinedload(Operation.acknowledged_by),
            joinedload(Operation.participants).options(
                joinedload(Participant.organisation), joinedload(Participant.withdrawn_by)
            ),
            joinedload(Operation.analysis).options(*ANALYSIS_LOADS),
        )
    )
    operation = db.session.scalars(query).unique().one_or_none()
    if operation is not None:  # the summary and « À faire » read it from the memo
        remember(analysis_key(operation.id), lambda: operation.analysis)
    return operation


# What the operation page shows of the needs analysis (its few figures joined).
ANALYSIS_LOADS = (
    joinedload(NeedsAnalysis.figures),
    joinedload(NeedsAnalysis.sent_by),
    joinedload(NeedsAnalysis.answered_by),
)


def analysis_key(operation_id: int) -> tuple:
    """The request memo's key of an operation's analysis (``existing_analysis``)."""
    return ("operations.analysis", operation_id)


def existing_analysis(operation: Operation) -> NeedsAnalysis | None:
    """The analysis if it exists: pages only read, the services create it on first write.
    Read once per request (the page's summary, its step's guard and « À faire » share it;
    a guard under ``lock()`` reads it afresh, the lock empties the memo)."""
    query = select(NeedsAnalysis).where(NeedsAnalysis.operation_id == operation.id)
    query = query.options(*ANALYSIS_LOADS)  # one statement: its few figures joined
    return remember(
        analysis_key(operation.id), lambda: db.session.scalars(query).unique().one_or_none()
    )


def needs_by_org(operation: Operation) -> dict[int, EmployerNeed]:
    """The employers' needs with their positions, by employer, read once per request (the
    page's summary and its step's guard)."""
    query = (
        select(EmployerNeed)
        .where(EmployerNeed.operation_id == operation.id)
        .options(joinedload(EmployerNeed.positions), joinedload(EmployerNeed.updated_by))
    )  # one statement: a need has a few positions

    def read() -> dict[int, EmployerNeed]:
        rows = db.session.scalars(query).unique().all()
        return {need.organisation_id: need for need in rows}

    return remember(("operations.needs", operation.id), read)


def positions_promised(operation: Operation) -> int:
    """Positions promised by the operation's employers (all contract types)."""
    return db.session.scalar(
        select(func.coalesce(func.sum(Position.count), 0))
        .join(EmployerNeed, EmployerNeed.id == Position.need_id)
        .where(EmployerNeed.operation_id == operation.id)
    )


def timeline_page(operation: Operation, page: int) -> tuple[list[OperationEvent], bool]:
    """One page of the timeline, newest first, and whether an older page exists."""
    events = db.session.scalars(
        select(OperationEvent)
        .where(OperationEvent.operation_id == operation.id)
        .options(joinedload(OperationEvent.actor), joinedload(OperationEvent.organisation))
        .order_by(OperationEvent.at.desc(), OperationEvent.id.desc())
        .limit(TIMELINE_PAGE + 1)
        .offset((page - 1) * TIMELINE_PAGE)
    ).all()
    return events[:TIMELINE_PAGE], len(events) > TIMELINE_PAGE
