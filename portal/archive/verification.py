"""Checking an operation's archive on the public verification page: by its manifest
(``manifeste.json``, or the SHA-256 printed in ``manifeste.md``) or by the zip itself.

A manifest is recognised only byte for byte: one character changed, and it is « inconnu
ou modifié ». What is told about a known archive is what its manifest already says: the
operation, the step it was at, the date of the state and when the portal first issued
it — never who downloaded it.
"""

import hashlib
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

from sqlalchemy import select

from portal.archive.manifest import JSON_NAME
from portal.archive.models import IssuedArchive
from portal.conventions.models import Convention
from portal.extensions import db


def is_archive_file(data: bytes) -> bool:
    """A JSON document (a manifest, perhaps modified) or a zip that holds a manifest."""
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(BytesIO(data)) as package:
                names = package.namelist()
        except zipfile.BadZipFile:
            return False
        return any(n == JSON_NAME or n.endswith("/" + JSON_NAME) for n in names)
    try:
        value = json.loads(data.decode("utf-8-sig"))
    except ValueError:  # not UTF-8 (UnicodeDecodeError), or not JSON
        return False
    return isinstance(value, dict)


@dataclass
class ArchiveVerdict:
    """A known archive, recognised by its manifest or by its zip."""

    issued: IssuedArchive
    by_zip: bool
    reference: str | None
    newer: bool  # another archive of the operation was issued since

    @property
    def operation_title(self) -> str:
        return self.issued.operation.title

    @property
    def issued_at(self) -> datetime:
        return self.issued.issued_at


def find_by_file(data: bytes) -> ArchiveVerdict | None:
    """The archive whose manifest (or zip) has exactly these bytes, or None."""
    return find_by_hash(hashlib.sha256(data).hexdigest())


def find_by_hash(digest: str) -> ArchiveVerdict | None:
    """The archive whose manifest's (or zip's) SHA-256 is ``digest``, or None."""
    issued = db.session.scalars(
        select(IssuedArchive)
        .where((IssuedArchive.manifest_sha256 == digest) | (IssuedArchive.archive_sha256 == digest))
        .order_by(IssuedArchive.id)
        .limit(1)
    ).first()
    if issued is None:
        return None
    reference = db.session.scalar(
        select(Convention.reference).where(Convention.operation_id == issued.operation_id)
    )
    newer = db.session.scalar(
        select(IssuedArchive.id)
        .where(
            IssuedArchive.operation_id == issued.operation_id,
            IssuedArchive.id > issued.id,
            IssuedArchive.manifest_sha256 != issued.manifest_sha256,
        )
        .limit(1)
    )
    return ArchiveVerdict(issued, issued.manifest_sha256 != digest, reference, newer is not None)
