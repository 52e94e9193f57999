"""What a convention says, as one canonical document, and its SHA-256.

Everything a signer commits to goes in the snapshot: the operation, the parties, the
job promises, the clauses and the co-designed training it quotes — as the draft says
them: the sections as edited, and the parties and promises an amendment adds or withdraws
(``operations/pending.py``); the version in force keeps its own frozen snapshot. The
canonical form is sorted, compact JSON in UTF-8; the same content always gives the same
bytes, so any change to what the convention says gives another hash.
"""

import hashlib
import json

from flask_babel import force_locale
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from portal.core.employment import ContractType, contract_is_lasting, contract_label
from portal.core.memo import remember
from portal.design.models import Design, DesignSection, SectionKey
from portal.extensions import db
from portal.operations import dual_memberships
from portal.operations.models import (
    Operation,
    Participant,
    ParticipantRole,
    PendingChange,
)
from portal.recruitment import lasting

# 2 (issue #12): a promise says its contract's duration, whether it is lasting and the
# Région's acceptance of a non-lasting one; ``upgraded`` reads a format 1 snapshot so.
SNAPSHOT_FORMAT = 2
# How the contract types of format 1 were migrated (migration c3a7e2d4b915).
FORMAT_1_CONTRACTS = {"cdd_long": ("cdd", 6), "cdd_short": ("cdd", None)}
ROLE_ORDER = [role.value for role in ParticipantRole]


def canonical(content: dict) -> str:
    """Sorted, compact JSON: the exact text that is hashed and stored."""
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _operation_part(operation: Operation) -> dict:
    return {
        "id": operation.id,
        "title": operation.title,
        "territory": operation.territory.name,
        "category": operation.category.value,
        "category_title": operation.category.title,
        "rome_code": operation.rome_code,
        "trades": operation.trades,
        "funding": operation.funding.value,
        "lot": (
            {"number": operation.lot.number, "title": operation.lot.title}
            if operation.lot is not None
            else None
        ),
        "fref_reference": operation.fref_reference,
        "session_start": _iso(operation.session_start),
        "session_end": _iso(operation.session_end),
        "target_headcount": operation.target_headcount,
        "hours_centre": operation.hours_centre,
        "hours_company": operation.hours_company,
        "certification_code": operation.certification_code,
        "certification_title": operation.certification_title,
    }


def _draft_key(operation: Operation) -> tuple:
    return ("conventions.draft_participants", operation.id)


def keep_draft_participants(operation: Operation) -> None:
    """Remember for this request the parties ``_draft_participants`` would read, from the
    participants a page loaded with their organisations (no query). A verb that freezes a
    version reads them afresh: its ``lock()`` empties the memo, as does any write."""
    remember(
        _draft_key(operation),
        lambda: [
            p
            for p in operation.participants
            if p.withdrawn_at is None and p.pending_change != PendingChange.WITHDRAW
        ],
    )


def _draft_participants(operation: Operation) -> list[Participant]:
    """The parties the convention names now: active participants, with those joining by
    the next amendment and without those leaving by it (``operations/pending.py``); read
    once per request."""
    return remember(_draft_key(operation), lambda: _read_draft_participants(operation))


def _read_draft_participants(operation: Operation) -> list[Participant]:
    return db.session.scalars(
        select(Participant)
        .where(
            Participant.operation_id == operation.id,
            Participant.withdrawn_at.is_(None),
            or_(
                Participant.pending_change.is_(None),
                Participant.pending_change != PendingChange.WITHDRAW,
            ),
        )
        .options(joinedload(Participant.organisation))
    ).all()


def _parties(participants: list[Participant]) -> list[dict]:
    parties = [
        {
            "organisation_id": p.organisation_id,
            "name": p.organisation.name,
            "siret": p.organisation.siret or "",
            "city": p.organisation.city,
            "role": p.role.value,
            "role_title": p.role.title,
            "signs": p.role != ParticipantRole.REGION,
        }
        for p in participants
    ]
    return sorted(
        parties, key=lambda p: (ROLE_ORDER.index(p["role"]), p["name"], p["organisation_id"])
    )


def _contract(contract: ContractType, months: int | None, acceptance: str) -> dict:
    """What a promise says of its contract: type, duration, « durable » by the shared rule,
    and the Région's reason for accepting it when it is not lasting."""
    return {
        "contract_type": contract.value,
        "duration_months": months,
        "contract_title": contract_label(contract, months),
        "lasting": contract_is_lasting(contract, months),
        "region_acceptance": acceptance,
    }


def _promises(operation: Operation, participants: list[Participant]) -> list[dict]:
    """The positions of the employers among the parties, without those an amendment
    withdraws."""
    employers = {p.organisation_id for p in participants if p.role == ParticipantRole.EMPLOYER}
    promises = []
    # One query: the positions with their needs, employers and the Région's acceptances.
    for position, accepted in lasting.positions_with_acceptances(operation):
        need = position.need
        if need.organisation_id not in employers or position.is_leaving:
            continue
        acceptance = lasting.holding(accepted, position)
        promises.append(
            {
                "employer_id": need.organisation_id,
                "employer": need.organisation.name,
                "position_id": position.id,
                "job_title": position.job_title,
                "rome_code": position.rome_code,
                "count": position.count,
                **_contract(
                    position.contract_type,
                    position.duration_months,
                    acceptance.reason if acceptance is not None else "",
                ),
                "planned_start": _iso(position.planned_start),
                "technical_platform": need.technical_platform,
            }
        )
    return sorted(promises, key=lambda p: (p["employer"], p["employer_id"], p["position_id"]))


def _sections_key(operation: Operation) -> tuple:
    return ("conventions.draft_sections", operation.id)


def keep_sections(operation: Operation, design: Design) -> None:
    """Remember for this request the sections ``_sections`` would read, from the design's
    parts a page loaded (no query); as ``keep_draft_participants``, any write forgets."""
    remember(_sections_key(operation), lambda: list(design.parts))


def _section_rows(operation: Operation) -> list[DesignSection]:
    """Every section of the operation's design but the minutes (once per request)."""
    return remember(
        _sections_key(operation),
        lambda: db.session.scalars(  # one query: no design, no sections
            select(DesignSection)
            .join(Design, Design.id == DesignSection.design_id)
            .where(Design.operation_id == operation.id, DesignSection.meeting_id.is_(None))
        ).all(),
    )


def _sections(operation: Operation) -> tuple[list[dict], list[dict]]:
    rows = _section_rows(operation)
    by_key = {row.key: row for row in rows}
    parts: dict[bool, list[dict]] = {False: [], True: []}
    for key in SectionKey:
        row = by_key.get(key)
        # Neither the evaluation nor the committee's minutes are part of the convention.
        if row is None or key.is_assessment or key.is_minutes:
            continue
        parts[key.is_clause].append({"key": key.value, "title": key.title, "content": row.content})
    return parts[False], parts[True]


def build_snapshot(operation: Operation, reference: str, amends: int | None = None) -> dict:
    """The content of the convention of ``operation`` as it stands now.

    Built in French whatever the reader's language: the titles it quotes are part of
    what is signed, and the hash must not depend on who froze the version.
    """
    with force_locale("fr"):
        return _build(operation, reference, amends)


def _build(operation: Operation, reference: str, amends: int | None) -> dict:
    design, clauses = _sections(operation)
    participants = _draft_participants(operation)
    content = {
        "format": SNAPSHOT_FORMAT,
        "reference": reference,
        "amends_version": amends,
        "operation": _operation_part(operation),
        "parties": _parties(participants),
        "promises": _promises(operation, participants),
        "clauses": clauses,
        "design": design,
    }
    # The Région's approvals of a person in two parties (issue #11 M6), with the mention
    # the convention carries. Only when there are some: the snapshots (and hashes) of the
    # conventions without any stay what they were.
    mentions = dual_memberships.approved_mentions(operation)
    if mentions:
        content["dual_memberships"] = mentions
    return content


PARTS = ("operation", "parties", "dual_memberships", "promises", "clauses", "design")
# Parts a snapshot holds only when it has something to say in them.
OPTIONAL_PARTS = ("dual_memberships",)


def promise_is_lasting(promise: dict) -> bool:
    """A snapshot's promise is « emploi durable » (format 1 knew CDI and CDD ≥ 6 months)."""
    return promise.get("lasting", promise["contract_type"] in ("cdi", "cdd_long"))


def upgraded(snapshot: dict) -> dict:
    """``snapshot`` as the current format says the same content, to compare it with a new
    one: a version frozen before a format change is not « changed » by the change itself.
    (What a frozen version shows and hashes stays its own stored text.)"""
    if snapshot.get("format", 1) != 1:
        return snapshot
    with force_locale("fr"):
        promises = []
        for promise in snapshot.get("promises", []):
            value, months = FORMAT_1_CONTRACTS.get(
                promise["contract_type"], (promise["contract_type"], None)
            )
            promises.append({**promise, **_contract(ContractType(value), months, "")})
    return {**snapshot, "format": SNAPSHOT_FORMAT, "promises": promises}


def changed_parts(old: dict, new: dict) -> list[str]:
    """Which parts differ between two snapshots (ignoring the amendment pointer)."""
    old, new = upgraded(old), upgraded(new)
    return [part for part in PARTS if old.get(part) != new.get(part)]
