"""Job promises: one row per promised job, from the employers' positions.

A position of count N gives N promises ranked 1..N; ``create_promises`` keeps them in step
with the positions, and never removes a promise a trainee is matched to.
"""

from collections import defaultdict

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.accounts.models import User
from portal.core.french import de
from portal.extensions import db
from portal.operations.events import log_event
from portal.operations.models import EmployerNeed, Operation
from portal.operations.needs import employer_participants
from portal.recruitment.models import JobPromise


def create_promises(operation: Operation, *, by: User | None = None, org=None) -> list[str]:
    """One promise per promised job, from the employers' positions; safe to run again.

    A position of count N gives promises ranked 1..N. Run again, it adds the ranks of a
    count that grew and removes the surplus of one that shrank, moving a trainee matched on
    a surplus rank to a free rank of the same position. A promise that is no longer planned
    but still matched is kept: the French warnings returned say which.
    """
    # The convention in force: employers and positions an amendment adds wait for its
    # validation (``operations/pending.py``).
    employers = {o.id for o in employer_participants(operation, in_force=True)}
    needs = db.session.scalars(
        select(EmployerNeed)
        .where(EmployerNeed.operation_id == operation.id)
        .options(selectinload(EmployerNeed.positions), selectinload(EmployerNeed.organisation))
    ).all()
    existing = db.session.scalars(
        select(JobPromise)
        .where(JobPromise.operation_id == operation.id)
        .options(selectinload(JobPromise.trainee), selectinload(JobPromise.organisation))
    ).all()
    by_position: dict[int, dict[int, JobPromise]] = defaultdict(dict)
    orphans = []
    for promise in existing:
        if promise.position_id is None:
            orphans.append(promise)
        else:
            by_position[promise.position_id][promise.rank] = promise
    created, surplus, planned = 0, [], set()
    for need in needs:
        if need.organisation_id not in employers:
            continue
        for position in need.positions:
            if position.is_joining:
                continue
            planned.add(position.id)
            ranks = by_position.get(position.id, {})
            for rank in range(1, position.count + 1):
                promise = ranks.get(rank)
                if promise is None:
                    promise = JobPromise(operation_id=operation.id, position=position, rank=rank)
                    db.session.add(promise)
                    created += 1
                promise.organisation_id = need.organisation_id
                promise.job_title = position.job_title
                promise.contract_type = position.contract_type
                promise.duration_months = position.duration_months
                promise.planned_start = position.planned_start
            extra = [ranks[r] for r in sorted(ranks) if r > position.count]
            free = [ranks[r] for r in sorted(ranks) if r <= position.count and not ranks[r].trainee]
            for promise in extra:
                if promise.trainee is not None and free:
                    promise.trainee.promise = free.pop(0)
            surplus.extend(extra)
    orphans += [
        p for pid, ranks in by_position.items() if pid not in planned for p in ranks.values()
    ]
    db.session.flush()
    warnings, removed = [], 0
    for promise in surplus + orphans:
        if promise.trainee is not None:
            warnings.append(
                _(
                    "La promesse « %(job)s » %(of_employer)s n'est plus prévue, mais un·e "
                    "stagiaire y est positionné·e : elle est conservée jusqu'à ce que ce "
                    "positionnement soit retiré.",
                    job=promise.job_title,
                    of_employer=de(promise.organisation.name),
                )
            )
        else:
            db.session.delete(promise)
            removed += 1
    db.session.flush()
    if created or removed:
        kind = "promises_updated" if existing else "promises_created"
        log_event(operation, kind, by=by, org=org, created=created, removed=removed)
    return warnings
