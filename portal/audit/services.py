"""Writing audit events; every service that changes something calls ``record``."""

from flask import has_request_context, request

from portal.audit.models import AuditEvent
from portal.extensions import db


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
    event = AuditEvent(
        action=action,
        actor_id=getattr(actor, "id", None),
        organisation_id=getattr(organisation, "id", None),
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=getattr(obj, "id", None),
        detail=detail,
        ip=ip,
        user_agent=agent,
    )
    db.session.add(event)
    db.session.flush()
    return event
