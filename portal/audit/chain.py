"""The audit hash chain: how one event is hashed, and how the chain is checked.

``event_hash`` is frozen: migration 047cca648fab backfilled existing events with a copy
of it, and every stored hash depends on it. Changing it needs a migration that
re-chains, which would defeat the purpose; add fields only with a new chain version.
"""

import hashlib
import json
from datetime import datetime

GENESIS = "0" * 64


def canonical_event(
    *,
    seq: int,
    at: datetime,
    actor_id: int | None,
    organisation_id: int | None,
    action: str,
    object_type: str,
    object_id: int | None,
    detail: dict,
    ip: str,
    user_agent: str,
) -> str:
    """The event as sorted, compact JSON: the exact bytes the hash covers."""
    return json.dumps(
        {
            "seq": seq,
            "at": at.replace(tzinfo=None).isoformat(timespec="microseconds"),
            "actor_id": actor_id,
            "organisation_id": organisation_id,
            "action": action,
            "object_type": object_type or "",
            "object_id": object_id,
            "detail": detail or {},
            "ip": ip or "",
            "user_agent": user_agent or "",
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )


def event_hash(prev_hash: str, canonical: str) -> str:
    """SHA-256 of the previous hash and the event's canonical form."""
    return hashlib.sha256((prev_hash + "\n" + canonical).encode("utf-8")).hexdigest()
