"""Adding and removing the Région's reference documents.

A file is accepted when its first bytes say PDF or DOCX (``core/filetypes.py``) and it is
no larger than ``REFERENCE_DOCUMENT_MAX_BYTES``. It is stored under the instance folder
(``DOCUMENTS_DIR``) with a random name: the name people gave it is only shown and offered
at download, never used as a path. The verbs flush and never commit.
"""

import hashlib
import re
import secrets
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import Organisation, OrgKind, User
from portal.audit.services import record
from portal.core import storage
from portal.core.errors import RuleError
from portal.core.filetypes import damage, kind_of
from portal.core.text import clean_line
from portal.extensions import db
from portal.resources.models import DocumentKind, ReferenceDocument

# Anything that is not a printable character of a file name (no path, no control character).
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def max_bytes() -> int:
    """The largest reference document accepted."""
    return int(current_app.config.get("REFERENCE_DOCUMENT_MAX_BYTES", 4 * 1024 * 1024))


def storage_dir() -> Path:
    """Where the files live: ``DOCUMENTS_DIR``, by default ``instance/documents``."""
    folder = Path(
        current_app.config.get("DOCUMENTS_DIR") or Path(current_app.instance_path) / "documents"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def path_of(document: ReferenceDocument) -> Path:
    """The file of ``document`` on disk."""
    return storage_dir() / document.stored_name


def documents() -> list[ReferenceDocument]:
    """Every document, by title."""
    return list(db.session.scalars(select(ReferenceDocument).order_by(ReferenceDocument.title)))


def _check_region_admin(by: User, org: Organisation) -> None:
    if org.kind != OrgKind.REGION or not any(
        m.organisation_id == org.id and m.is_admin for m in by.active_memberships()
    ):
        raise RuleError(_("Seul·es les administrateur·rices de la Région gèrent ces documents."))


def display_name(filename: str, kind: DocumentKind) -> str:
    """The name offered at download: the given one without any path, with the right ending."""
    # Cleaned as typed text is (C1 controls, U+2028, NFC: issue #17 fuzz), then no path.
    name = clean_line((filename or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = _UNSAFE.sub(" ", name).strip(" .")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{(stem or 'document')[:180]}.{kind.value}"


def add_document(
    data: bytes, filename: str, title: str, description: str, *, by: User, org: Organisation
) -> ReferenceDocument:
    """Store a reference document after checking its type (by its bytes) and size."""
    _check_region_admin(by, org)
    if not data:
        raise RuleError(_("Le fichier est vide."), "file")
    if len(data) > max_bytes():
        raise RuleError(_("Le fichier dépasse %(n)d Mo.", n=max_bytes() // (1024 * 1024)), "file")
    kind = kind_of(data)
    if kind is None:
        raise RuleError(_("Ce fichier n'est ni un PDF ni un document Word (DOCX)."), "file")
    if problem := damage(data, kind):
        raise RuleError(problem, "file")
    kind = DocumentKind(kind)
    document = ReferenceDocument(
        title=title.strip(),
        description=(description or "").strip(),
        kind=kind,
        filename=display_name(filename, kind),
        stored_name=f"{secrets.token_hex(16)}.{kind.value}",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by_id=by.id,
    )
    db.session.add(document)
    db.session.flush()
    # Written once the row is valid, atomically (a full disk leaves no truncated file); a
    # failed commit leaves an unreferenced file, not a row without its file.
    storage.write(document.stored_name, data)
    record(
        "reference_document.added",
        actor=by,
        organisation=org,
        obj=document,
        title=document.title,
        sha256=document.sha256,
        size=document.size,
    )
    return document


def remove_document(document: ReferenceDocument, *, by: User, org: Organisation) -> Path:
    """Remove a document; return its file, which the caller deletes once committed."""
    _check_region_admin(by, org)
    path = path_of(document)
    record(
        "reference_document.removed",
        actor=by,
        organisation=org,
        obj=document,
        title=document.title,
        sha256=document.sha256,
    )
    db.session.delete(document)
    db.session.flush()
    return path


def discard_file(path: Path) -> None:
    """Delete a removed document's file (already gone: nothing to do)."""
    path.unlink(missing_ok=True)
