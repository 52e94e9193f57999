"""What a convention says, as one canonical document, and its SHA-256.

Everything a signer commits to goes in the snapshot: the operation, the parties, the
job promises, the clauses and the co-designed training it quotes. The canonical form is
sorted, compact JSON in UTF-8; the same content always gives the same bytes, so any
change to what the convention says gives another hash.
"""

import hashlib
import json

from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.design.models import Design, DesignSection, SectionKey
from portal.extensions import db
from portal.operations.models import EmployerNeed, Operation, Participant, ParticipantRole

SNAPSHOT_FORMAT = 1
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


def _parties(operation: Operation) -> list[dict]:
    participants = db.session.scalars(
        select(Participant)
        .where(Participant.operation_id == operation.id, Participant.withdrawn_at.is_(None))
        .options(selectinload(Participant.organisation))
    ).all()
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


def _promises(operation: Operation) -> list[dict]:
    needs = db.session.scalars(
        select(EmployerNeed)
        .where(EmployerNeed.operation_id == operation.id)
        .options(selectinload(EmployerNeed.positions), selectinload(EmployerNeed.organisation))
    ).all()
    promises = []
    for need in needs:
        for position in need.positions:
            promises.append(
                {
                    "employer_id": need.organisation_id,
                    "employer": need.organisation.name,
                    "position_id": position.id,
                    "job_title": position.job_title,
                    "rome_code": position.rome_code,
                    "count": position.count,
                    "contract_type": position.contract_type.value,
                    "contract_title": position.contract_type.title,
                    "planned_start": _iso(position.planned_start),
                    "technical_platform": need.technical_platform,
                }
            )
    return sorted(promises, key=lambda p: (p["employer"], p["employer_id"], p["position_id"]))


def _sections(operation: Operation) -> tuple[list[dict], list[dict]]:
    design = db.session.scalar(select(Design).where(Design.operation_id == operation.id))
    if design is None:
        return [], []
    rows = db.session.scalars(
        select(DesignSection).where(
            DesignSection.design_id == design.id, DesignSection.meeting_id.is_(None)
        )
    ).all()
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
    return {
        "format": SNAPSHOT_FORMAT,
        "reference": reference,
        "amends_version": amends,
        "operation": _operation_part(operation),
        "parties": _parties(operation),
        "promises": _promises(operation),
        "clauses": clauses,
        "design": design,
    }


PARTS = ("operation", "parties", "promises", "clauses", "design")


def changed_parts(old: dict, new: dict) -> list[str]:
    """Which parts differ between two snapshots (ignoring the amendment pointer)."""
    return [part for part in PARTS if old.get(part) != new.get(part)]
