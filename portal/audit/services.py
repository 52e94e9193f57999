"""Writing audit events; every service that changes something calls ``record``.

Events form a hash chain (``portal/audit/chain.py``). The single row of
``audit_chain_head`` is updated first: on PostgreSQL the row lock, on SQLite the write
lock it takes, serialise writers until commit, so two transactions never chain onto
the same predecessor.
"""

from flask import has_request_context, request
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from portal.audit import redaction
from portal.audit.chain import GENESIS, canonical_event, event_hash
from portal.audit.models import AuditChainHead, AuditEvent
from portal.core.time import utcnow
from portal.extensions import db


def _next_link() -> tuple[int, str]:
    """Reserve the next sequence number; return it with the previous event's hash."""
    statement = (
        update(AuditChainHead)
        .where(AuditChainHead.id == 1)
        .values(seq=AuditChainHead.seq + 1)
        .returning(AuditChainHead.seq, AuditChainHead.hash)
        .execution_options(synchronize_session=False)
    )
    row = db.session.execute(statement).first()
    if row is None:
        # An empty database (or a test that emptied the tables): start the chain. Two
        # first writers may race to create the row (PostgreSQL): the loser uses the
        # winner's row, whose lock it then waits for like any other writer.
        try:
            with db.session.begin_nested():
                db.session.execute(
                    AuditChainHead.__table__.insert().values(id=1, seq=0, hash=GENESIS)
                )
        except IntegrityError:
            pass
        row = db.session.execute(statement).first()
    return row.seq, row.hash


def record(
    action: str,
    *,
    actor=None,
    organisation=None,
    obj=None,
    **detail,
) -> AuditEvent:
    """Append an audit event for ``action``; IP and user agent come from the request."""
    ip, agent = "", ""
    if has_request_context():
        ip = request.remote_addr or ""
        agent = (request.user_agent.string or "")[:300]
    seq, prev_hash = _next_link()
    fields = {
        "at": utcnow(),
        "actor_id": getattr(actor, "id", None),
        "organisation_id": getattr(organisation, "id", None),
        "action": action,
        "object_type": type(obj).__name__ if obj is not None else "",
        "object_id": getattr(obj, "id", None),
        "detail": detail,
        "ip": ip,
        "user_agent": agent,
    }
    digest = event_hash(prev_hash, canonical_event(seq=seq, **fields))
    event = AuditEvent(seq=seq, prev_hash=prev_hash, hash=digest, **fields)
    db.session.add(event)
    db.session.flush()
    db.session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == 1)
        .values(hash=digest)
        .execution_options(synchronize_session=False)
    )
    return event


FIELDS = (
    "at",
    "actor_id",
    "organisation_id",
    "action",
    "object_type",
    "object_id",
    "detail",
    "ip",
    "user_agent",
)


def verify_chain(batch: int = 1000) -> list[str]:
    """Walk the chain in order; return the problems found, in English (empty when intact).

    An event whose personal fields were blanked past retention verifies against the digest
    its recorded redaction holds (``portal/audit/redaction.py``)."""
    problems: list[str] = []
    redacted = redaction.recorded_digests()
    prev, expected = GENESIS, 1
    columns = [getattr(AuditEvent, name) for name in ("id", "seq", "prev_hash", "hash", *FIELDS)]
    while True:
        rows = db.session.execute(
            select(*columns).where(AuditEvent.seq >= expected).order_by(AuditEvent.seq).limit(batch)
        ).all()
        if not rows:
            break
        for row in rows:
            if row.seq != expected:
                problems.append(f"events {expected}..{row.seq - 1} are missing (deleted?)")
            if row.prev_hash != prev:
                problems.append(f"event {row.seq} (id {row.id}): previous hash does not match")
            fields = {name: getattr(row, name) for name in FIELDS}
            canonical = canonical_event(seq=row.seq, **fields)
            if event_hash(row.prev_hash, canonical) != row.hash and not redaction.accounts_for(
                redacted, row.seq, canonical
            ):
                problems.append(f"event {row.seq} (id {row.id}): content was altered")
            prev, expected = row.hash, row.seq + 1
    head = db.session.execute(select(AuditChainHead.seq, AuditChainHead.hash)).first()
    if head is not None and (head.seq != expected - 1 or head.hash != prev):
        problems.append(
            f"the chain head says {head.seq} events but {expected - 1} were found "
            "(the last events were deleted or the head was altered)"
        )
    return problems
