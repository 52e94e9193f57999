"""Anchors of the audit chain: a (sequence number, hash) pair kept outside the database.

The chain (``chain.py``) shows any event altered or deleted behind the ORM's back, but
someone who can write the database could rewrite an event, recompute every later hash and
move the chain head: the chain would verify again. An anchor written down before the
rewrite catches it, because the event it names no longer carries the same hash.

Anchors live where the database cannot reach them:

- every validated convention's evidence page (the DOCX and its PDF, and the version page)
  prints the hash of the Région's validation event, which was the chain head at that
  moment; every party keeps a copy of that document;
- ``flask --app portal audit anchor`` prints the current head (cron, daily) as one line to
  keep elsewhere: mailed, printed or appended to a file on another machine.

``flask --app portal audit verify --anchor SEQ:HASH`` (or ``--anchors FILE``) checks the
chain and then each anchor.
"""

import json
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from portal.audit.chain import GENESIS
from portal.audit.models import AuditChainHead, AuditEvent
from portal.core.time import utcnow
from portal.extensions import db

ANCHOR = re.compile(r"^\s*(\d+)\s*:\s*([0-9a-fA-F]{64})\s*$")


@dataclass(frozen=True)
class Anchor:
    """The chain's state after event ``seq``: that event's hash (``seq`` 0 is the empty
    chain, whose hash is the genesis value)."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"


def parse_anchor(text: str) -> Anchor:
    """Read ``SEQ:HASH``, or one line written by ``audit anchor`` (JSON with ``seq`` and
    ``hash``). Raises ``ValueError`` with an English reason for the command to print."""
    text = (text or "").strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
            text = f"{int(data['seq'])}:{data['hash']}"
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"unreadable anchor line: {text[:80]!r}") from exc
    found = ANCHOR.match(text)
    if found is None:
        raise ValueError(f"an anchor is SEQ:HASH (64 hexadecimal digits), not {text[:80]!r}")
    return Anchor(int(found.group(1)), found.group(2).lower())


def read_anchors(lines) -> list[Anchor]:
    """Anchors from lines of a file; blank lines and lines starting with # are skipped."""
    return [
        parse_anchor(line) for line in lines if line.strip() and not line.lstrip().startswith("#")
    ]


def current_anchor() -> Anchor:
    """The chain head now (the empty chain when nothing was ever recorded)."""
    head = db.session.execute(select(AuditChainHead.seq, AuditChainHead.hash)).first()
    if head is None:
        return Anchor(0, GENESIS)
    return Anchor(head.seq, head.hash)


def anchor_line(anchor: Anchor, at: datetime | None = None) -> str:
    """One line for the anchors file: JSON with the UTC time, the sequence and the hash."""
    stamp = (at or utcnow()).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
    return json.dumps({"at": stamp, "seq": anchor.seq, "hash": anchor.hash}, sort_keys=True)


def event_anchor(event: AuditEvent | None) -> Anchor | None:
    """The anchor an event's hash gives (``None`` without an event)."""
    return None if event is None else Anchor(event.seq, event.hash)


def check_anchors(anchors: list[Anchor]) -> list[str]:
    """The anchors the database contradicts, in English (empty when every one holds)."""
    problems: list[str] = []
    wanted = {a.seq for a in anchors if a.seq > 0}
    stored = dict(
        db.session.execute(
            select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.seq.in_(wanted))
        ).all()
    )
    for anchor in anchors:
        if anchor.seq == 0:
            if anchor.hash != GENESIS:
                problems.append("anchor 0 must carry the genesis hash (64 zeros)")
            continue
        found = stored.get(anchor.seq)
        if found is None:
            problems.append(
                f"anchor {anchor.seq}: the event is missing (the log was cut or rewritten)"
            )
        elif found != anchor.hash:
            problems.append(
                f"anchor {anchor.seq}: the event's hash differs from the anchor "
                "(the log was rewritten since)"
            )
    return problems
