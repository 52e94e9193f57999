"""``flask retention apply``: anonymise the trainees past retention, delete the access
logs and the sent e-mails past theirs, pseudonymise the audit log's IP and user agent
past theirs.

``plan(now)`` says what would go (the ``--dry-run`` listing); ``apply(now)`` does it and
flushes (the command commits). Both read the rules of ``retention.py``.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import delete, func, or_, select

from portal.accounts.models import LoginFailure, UserSession
from portal.audit import redaction
from portal.audit.chain import canonical_event, event_hash
from portal.audit.models import AuditEvent
from portal.audit.services import FIELDS, record
from portal.extensions import db
from portal.mail.models import OutboxAttachment, OutboxMessage
from portal.privacy.anonymise import anonymise_trainee
from portal.privacy.retention import access_log_cutoff, kept_until, six_month_dues
from portal.recruitment.models import Trainee, TraineeAccess

# Redacted events recorded per ``audit.redacted`` event (its detail stays small).
REDACTION_BATCH = 500


@dataclass
class Plan:
    """What retention removes at a given time."""

    trainees: list[tuple[Trainee, date]] = field(default_factory=list)
    trainee_accesses: int = 0
    user_sessions: int = 0
    login_failures: int = 0
    sent_emails: int = 0
    audit_events: int = 0


def _expired_sessions(cutoff: datetime):
    return func.coalesce(UserSession.ended_at, UserSession.last_seen_at) < cutoff


def _audit_to_redact(cutoff: datetime):
    return (AuditEvent.at < cutoff) & or_(AuditEvent.ip != "", AuditEvent.user_agent != "")


def _count(model, condition) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(condition))


def plan(now: datetime) -> Plan:
    """What ``apply(now)`` would anonymise, delete and pseudonymise (nothing changes)."""
    today = now.date()
    dues = six_month_dues()
    trainees = db.session.scalars(
        select(Trainee).where(Trainee.anonymised_at.is_(None)).order_by(Trainee.id)
    )
    expired = []
    for trainee in trainees:
        until = kept_until(trainee, dues.get(trainee.id))
        if until is not None and until < today:
            expired.append((trainee, until))
    cutoff = access_log_cutoff(now)
    return Plan(
        trainees=expired,
        trainee_accesses=_count(TraineeAccess, TraineeAccess.at < cutoff),
        user_sessions=_count(UserSession, _expired_sessions(cutoff)),
        login_failures=_count(LoginFailure, LoginFailure.at < cutoff),
        sent_emails=_count(OutboxMessage, OutboxMessage.sent_at < cutoff),
        audit_events=_count(AuditEvent, _audit_to_redact(cutoff)),
    )


def apply(now: datetime) -> Plan:
    """Carry out ``plan(now)``; return it. Flushes, never commits."""
    done = plan(now)
    for trainee, _until in done.trainees:
        anonymise_trainee(trainee, basis="retention")
    cutoff = access_log_cutoff(now)
    for statement in (
        delete(TraineeAccess).where(TraineeAccess.at < cutoff),
        delete(UserSession).where(_expired_sessions(cutoff)),
        delete(LoginFailure).where(LoginFailure.at < cutoff),
        # Sent e-mails (recipient, body); unsent ones stay for ``mail send`` to retry.
        delete(OutboxAttachment).where(
            OutboxAttachment.message_id.in_(
                select(OutboxMessage.id).where(OutboxMessage.sent_at < cutoff)
            )
        ),
        delete(OutboxMessage).where(OutboxMessage.sent_at < cutoff),
    ):
        db.session.execute(statement.execution_options(synchronize_session=False))
    done.audit_events = redact_audit(cutoff)
    db.session.flush()
    return done


def redact_audit(cutoff: datetime) -> int:
    """Blank the IP and user agent of the audit events older than ``cutoff``, recording
    each batch in the chain (``portal/audit/redaction.py``); return how many. An event
    that no longer matches its hash is left as it is, for ``audit verify`` to report."""
    columns = [getattr(AuditEvent, name) for name in ("id", "seq", "prev_hash", "hash", *FIELDS)]
    rows = db.session.execute(
        select(*columns).where(_audit_to_redact(cutoff)).order_by(AuditEvent.seq)
    ).all()
    blank = dict.fromkeys(redaction.PERSONAL_FIELDS, "")
    digests: dict[str, str] = {}
    table = AuditEvent.__table__
    # The one sanctioned write to audit events: a Core statement on the connection, below
    # the ORM's append-only guard (portal/audit/models.py), recorded in the chain below.
    connection = db.session.connection()
    redacted = 0
    for row in rows:
        fields = {name: getattr(row, name) for name in FIELDS}
        if event_hash(row.prev_hash, canonical_event(seq=row.seq, **fields)) != row.hash:
            continue
        connection.execute(table.update().where(table.c.id == row.id).values(**blank))
        digests[str(row.seq)] = redaction.digest(canonical_event(seq=row.seq, **fields | blank))
        redacted += 1
        if len(digests) == REDACTION_BATCH:
            record(redaction.ACTION, digests=digests, fields=list(redaction.PERSONAL_FIELDS))
            digests = {}
    if digests:
        record(redaction.ACTION, digests=digests, fields=list(redaction.PERSONAL_FIELDS))
    return redacted
