"""Pseudonymising the audit log's personal fields past retention, the chain intact.

Each event's hash covers its IP and user agent (``chain.canonical_event``, frozen): an
event whose IP is blanked no longer hashes to its stored ``hash`` and would be reported
as altered. A redaction (``portal/privacy/retention.py``, ``flask retention apply``)
therefore proceeds in three steps:

1. it checks each event it redacts still matches its own hash — an altered event is
   never redacted, which would launder the tampering;
2. it blanks the event's personal fields (``PERSONAL_FIELDS``) and nothing else: the
   stored ``hash`` and ``prev_hash`` stay, so every link, the chain head and any anchor
   taken earlier still verify;
3. it appends to the chain one ``audit.redacted`` event per batch whose detail maps each
   redacted event's ``seq`` to the SHA-256 of its new canonical form (``digest``).

``verify_chain`` accepts an event whose content does not hash to its stored hash only
when a redaction recorded in the chain names it and its current canonical form has the
recorded digest. Altering a redacted event (its action, detail, actor, date) changes that
digest and is reported; altering the redaction's own record breaks its event's hash; a
redaction event that is deleted leaves a gap in ``seq``.

Why pseudonymised and not anonymised: the stored hash of an event was computed over its
IP, so someone holding the database could, in principle, try every IPv4 address until
one reproduces it. The values are gone from the database and its backups' future copies,
which is what the retention period asks; making them unrecoverable would need a new chain
version that hashes a salted digest of the personal fields, the salt deleted at expiry.
"""

import hashlib

from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.extensions import db

ACTION = "audit.redacted"
PERSONAL_FIELDS = ("ip", "user_agent")


def digest(canonical: str) -> str:
    """The SHA-256 of a redacted event's canonical form, as the redaction records it."""
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def recorded_digests() -> dict[int, str]:
    """Every redaction recorded in the chain: redacted event ``seq`` → digest. (Each
    redaction event is itself checked by the walk of the chain.)"""
    digests: dict[int, str] = {}
    for detail in db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == ACTION)):
        for seq, value in (detail or {}).get("digests", {}).items():
            digests[int(seq)] = value
    return digests


def accounts_for(digests: dict[int, str], seq: int, canonical: str) -> bool:
    """A recorded redaction explains why event ``seq`` no longer hashes to its hash."""
    return seq in digests and digests[seq] == digest(canonical)
