"""Context builders shared by the operation page and the needs-analysis routes."""

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from portal.accounts.access import current_org
from portal.core.memo import remember
from portal.extensions import db
from portal.operations import needs
from portal.operations.access import can_steer
from portal.operations.models import (
    EmployerNeed,
    NeedsAnalysis,
    Operation,
)


def needs_by_org(operation: Operation) -> dict[int, EmployerNeed]:
    rows = db.session.scalars(
        select(EmployerNeed)
        .where(EmployerNeed.operation_id == operation.id)
        .options(selectinload(EmployerNeed.positions), joinedload(EmployerNeed.updated_by))
    ).all()
    return {need.organisation_id: need for need in rows}


def existing_analysis(operation: Operation) -> NeedsAnalysis | None:
    """The analysis if it exists: pages only read, the services create it on first write.
    Read once per request (the page's summary and its « À faire » share it)."""
    query = (
        select(NeedsAnalysis)
        .where(NeedsAnalysis.operation_id == operation.id)
        .options(
            selectinload(NeedsAnalysis.figures),
            joinedload(NeedsAnalysis.sent_by),
            joinedload(NeedsAnalysis.answered_by),
        )
    )
    return remember(("operations.analysis", operation.id), lambda: db.session.scalar(query))


def summary_context(operation: Operation) -> dict:
    """What ``_analysis_summary.html`` shows: positions per employer vs the target headcount,
    and where the exchange with the Région stands. Reads only (safe on GET).

    The organisme porteur and the Région see every employer's line; an employer sees its
    own line; everyone sees the totals. ``operation.participants`` should be loaded.
    """
    by_org = needs_by_org(operation)
    rows = needs.positions_by_employer(operation, by_org)
    total = sum(count for _employer, count, _lasting in rows)
    lasting = sum(lasting for _employer, _count, lasting in rows)
    all_rows = can_steer(operation)
    org_id = current_org().id
    analysis = existing_analysis(operation)
    sent = analysis is not None and analysis.sent_at is not None
    answered = (
        sent and analysis.answered_at is not None and analysis.answered_at >= analysis.sent_at
    )
    target = operation.target_headcount
    return {
        "analysis": analysis,
        "needs_by_org": by_org,
        "promised": sum(p.count for need in by_org.values() for p in need.positions),
        "rows": rows if all_rows else [row for row in rows if row[0].id == org_id],
        "all_rows": all_rows,
        "total": total,
        "lasting": lasting,
        "target": target,
        "missing": max(target - total, 0) if target else 0,
        "sent": sent,
        "answered": answered,
        "awaiting_answer": sent and not answered,
    }
