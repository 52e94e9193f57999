"""Context builders shared by the operation page and the needs-analysis routes."""

from portal.accounts.access import current_org
from portal.operations import needs
from portal.operations.access import can_steer
from portal.operations.models import Operation
from portal.operations.queries import existing_analysis, needs_by_org

__all__ = ["existing_analysis", "needs_by_org", "summary_context"]


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
