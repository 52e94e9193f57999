"""Reading a convention's state: versions, what is in force, parties, signers.

Pure reads shared by the drafting verbs (services.py), signing (signing.py) and the
Région's decisions (decisions.py).
"""

import json

from sqlalchemy import exists, func, select
from sqlalchemy.orm import joinedload, selectinload

from portal.accounts.models import Membership
from portal.conventions.models import (
    Convention,
    ConventionVersion,
    DesignatedSigner,
    Signature,
    SigningParty,
    VersionStatus,
)
from portal.conventions.snapshot import build_snapshot, changed_parts
from portal.core.memo import remember
from portal.extensions import db
from portal.operations.models import Operation, Status


def convention_for(operation: Operation) -> Convention | None:
    return db.session.scalar(select(Convention).where(Convention.operation_id == operation.id))


def convention_for_page(operation: Operation) -> Convention | None:
    """The convention with its signers (and their people), its versions and their
    signatures, read once per request: the operation page's card and its « À faire »
    share it (two queries whatever the versions: the convention joined to its few signers,
    then its versions joined to their signatures — not all in one, where each version's
    text would come once per signer)."""
    query = (
        select(Convention)
        .where(Convention.operation_id == operation.id)
        .options(
            joinedload(Convention.signers).joinedload(DesignatedSigner.user),
            selectinload(Convention.versions).joinedload(ConventionVersion.signatures),
        )
    )
    return remember(
        ("conventions.for_page", operation.id),
        lambda: db.session.scalars(query).unique().one_or_none(),
    )


def reference_for(operation: Operation) -> str:
    """A stable, human reference: DEFI-<year reported>-<operation id on 4 digits>."""
    return f"DEFI-{operation.reported_at.year}-{operation.id:04d}"


def versions(convention: Convention) -> list[ConventionVersion]:
    return sorted(convention.versions, key=lambda v: v.number)


def latest_version(convention: Convention) -> ConventionVersion | None:
    found = versions(convention)
    return found[-1] if found else None


def open_version(convention: Convention) -> ConventionVersion | None:
    """The version collecting signatures or awaiting the Région, if any (at most one)."""
    return next((v for v in reversed(versions(convention)) if v.status.is_open), None)


def in_force(convention: Convention) -> ConventionVersion | None:
    """The validated version currently in force."""
    return next(
        (v for v in reversed(versions(convention)) if v.status == VersionStatus.VALIDATED), None
    )


def amended_version(version: ConventionVersion) -> ConventionVersion | None:
    """The version an amendment amends (the one in force when it was submitted)."""
    number = snapshot_of(version).get("amends_version") if version.is_amendment else None
    return next((v for v in version.convention.versions if v.number == number), None)


def state(convention: Convention | None) -> VersionStatus:
    """The convention's state: brouillon, à signer, … validée, annulée."""
    if convention is None:
        return VersionStatus.DRAFT
    if convention.operation.status == Status.CANCELLED:
        return VersionStatus.VOIDED
    current = open_version(convention)
    if current is not None:
        return current.status
    if in_force(convention) is not None:
        return VersionStatus.VALIDATED
    return VersionStatus.DRAFT


def snapshot_of(version: ConventionVersion) -> dict:
    return json.loads(version.canonical)


def current_snapshot(convention: Convention) -> dict:
    """What the convention says now (clauses, parties, promises, design)."""
    base = in_force(convention)
    return build_snapshot(
        convention.operation, convention.reference, base.number if base is not None else None
    )


def changes_since(convention: Convention, version: ConventionVersion) -> list[str]:
    """The parts changed since ``version`` was frozen: operation, parties, promises, …"""
    return changed_parts(snapshot_of(version), current_snapshot(convention))


def signing_parties(snapshot: dict) -> list[dict]:
    """The parties that sign (every participant but the Région, which validates)."""
    return [p for p in snapshot["parties"] if p["signs"]]


def signing_party_sql(organisation_id: int):
    """SQL condition on ``ConventionVersion``: the organisation is a signing party of the
    version's frozen text (``signing_parties``), as kept with the version
    (``SigningParty``) — across operations, « À faire » neither loads nor parses every
    text: casting each to JSON cost a second at 10,000 operations on PostgreSQL (issue
    #16)."""
    return exists().where(
        SigningParty.version_id == ConventionVersion.id,
        SigningParty.organisation_id == organisation_id,
    )


def party_ids(snapshot: dict) -> set[int]:
    """The organisations a convention text names as parties (the Région included)."""
    return {p["organisation_id"] for p in snapshot["parties"]}


def valid_signatures(version: ConventionVersion) -> list[Signature]:
    return [s for s in version.signatures if s.is_valid]


def pending_parties(version: ConventionVersion) -> list[dict]:
    signed = {s.organisation_id for s in valid_signatures(version)}
    return [p for p in signing_parties(snapshot_of(version)) if p["organisation_id"] not in signed]


def signer_for(convention: Convention, organisation_id: int) -> DesignatedSigner | None:
    return next((s for s in convention.signers if s.organisation_id == organisation_id), None)


def is_active_member(user_id: int, organisation_id: int, *, admin: bool = False) -> bool:
    """The user is an active member (with ``admin``, an active admin) of the organisation."""
    query = select(func.count(Membership.id)).where(
        Membership.user_id == user_id,
        Membership.organisation_id == organisation_id,
        Membership.active.is_(True),
    )
    if admin:
        query = query.where(Membership.is_admin.is_(True))
    return db.session.scalar(query) > 0


def is_party_admin(user_id: int, organisation_id: int) -> bool:
    """An active admin of the organisation: who decides its signer."""
    return is_active_member(user_id, organisation_id, admin=True)
