"""Checking a convention copy: by its file (its SHA-256 among the files the portal issued)
or by the reference and the version hash printed in every page footer.

Nothing is told about an unknown document, and what is told about a known one is what
the copy itself shows: the operation, the signers' names and capacities, the dates,
the version's status. Never an IP address, an e-mail or a user agent.
"""

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.conventions.evidence_page import status_text
from portal.conventions.models import (
    Convention,
    ConventionVersion,
    IssuedDocument,
    Signature,
    VersionStatus,
)
from portal.conventions.services import in_force, snapshot_of
from portal.core.filetypes import kind_of  # noqa: F401  (the page checks uploads with it)
from portal.extensions import db

REFERENCE = re.compile(r"DEFI-\d{4}-\d{4,}")


def normalise_hash(text: str) -> str:
    """A typed hash without spaces, colons or case (people copy it in several ways)."""
    return re.sub(r"[\s:]", "", text or "").lower()


@dataclass
class SignerLine:
    """A signature as the public page tells it: who, for whom, in which capacity, when."""

    name: str
    organisation: str
    capacity: str
    signed_at: datetime
    valid: bool


@dataclass
class Verdict:
    """A known version, and the issued file when the check was by file (or full hash)."""

    version: ConventionVersion
    document: IssuedDocument | None = None
    signers: list[SignerLine] = field(default_factory=list)

    @property
    def operation_title(self) -> str:
        return snapshot_of(self.version)["operation"]["title"]

    @property
    def reference(self) -> str:
        return self.version.convention.reference

    @property
    def status(self) -> str:
        """The version's status in French (en cours de signature, validée le …)."""
        return status_text(self.version)

    @property
    def in_force(self) -> bool:
        """This version is the validated one currently in force."""
        current = in_force(self.version.convention)
        return current is not None and current.id == self.version.id

    @property
    def valid_count(self) -> int:
        return sum(1 for s in self.signers if s.valid)

    @property
    def outdated_copy(self) -> bool:
        """The file carried fewer (or other) signatures than the version has now."""
        return self.document is not None and self.document.signatures != self.valid_count


def _verdict(version: ConventionVersion, document: IssuedDocument | None = None) -> Verdict:
    # Voided versions keep their signatures, marked annulée; others show only valid ones.
    keep_voided = version.status == VersionStatus.VOIDED
    signers = [
        SignerLine(s.user.full_name, s.organisation.name, s.capacity, s.signed_at, s.is_valid)
        for s in sorted(version.signatures, key=lambda s: (s.signed_at, s.id))
        if s.is_valid or keep_voided
    ]
    return Verdict(version, document, signers)


def _versions():
    return select(ConventionVersion).options(
        selectinload(ConventionVersion.convention),
        selectinload(ConventionVersion.signatures).selectinload(Signature.user),
        selectinload(ConventionVersion.signatures).selectinload(Signature.organisation),
    )


def find_by_file(data: bytes) -> Verdict | None:
    """The version whose issued file has exactly these bytes, or None."""
    digest = hashlib.sha256(data).hexdigest()
    return _by_document_hash(digest)


def _by_document_hash(digest: str, convention_id: int | None = None) -> Verdict | None:
    query = select(IssuedDocument).where(IssuedDocument.sha256 == digest)
    if convention_id is not None:
        query = query.join(ConventionVersion).where(
            ConventionVersion.convention_id == convention_id
        )
    document = db.session.scalars(query.order_by(IssuedDocument.id).limit(1)).first()
    if document is None:
        return None
    version = db.session.scalars(_versions().where(ConventionVersion.id == document.version_id))
    return _verdict(version.one(), document)


def find_by_reference(reference: str, digest: str) -> Verdict | None:
    """The version of convention ``reference`` whose hash is ``digest``, or None.

    ``digest`` is the version's SHA-256 in full or its first 12 digits or more (as in the
    footers); a full hash may also be that of an issued file of this convention.
    """
    reference, digest = reference.strip().upper(), normalise_hash(digest)
    if not REFERENCE.fullmatch(reference) or not re.fullmatch(r"[0-9a-f]{12,64}", digest):
        return None
    convention_id = db.session.scalar(
        select(Convention.id).where(Convention.reference == reference)
    )
    if convention_id is None:
        return None
    found = db.session.scalars(
        _versions().where(
            ConventionVersion.convention_id == convention_id,
            ConventionVersion.sha256.startswith(digest, autoescape=True),
        )
    ).all()
    if len(found) == 1:
        return _verdict(found[0])
    if len(digest) == 64:
        return _by_document_hash(digest, convention_id)
    return None
