"""What a file is, from its bytes: never from its name or what the browser claims.

``kind_of`` tells a PDF or a Word document from its first bytes (and its zip's member
names). ``damage`` says, in French, why a file of that kind cannot be kept as it is: a PDF
cut short (no ``%%EOF`` at its end: an interrupted upload or copy), a zip that is not a
whole Word document, or a zip bomb (members that would inflate to far more than any
document: the portal never inflates them, but whoever downloads the file would).
Found by the uploads' fuzz (tests/core/test_fuzz_uploads.py): such files were published.
"""

import zipfile
from io import BytesIO

from flask_babel import gettext as _

# A Word document of the portal's kind inflates to a few megabytes; 20× its zip at most
# (text compresses about 5 to 10 times).
DOCX_MAX_INFLATED = 64 * 1024 * 1024
DOCX_MAX_RATIO = 200
DOCX_PARTS = ("[Content_Types].xml", "word/document.xml")


def kind_of(data: bytes) -> str | None:
    """``"pdf"`` or ``"docx"`` from the file's first bytes (and zip content), else None."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(BytesIO(data)) as package:
                return "docx" if "word/document.xml" in package.namelist() else None
        except zipfile.BadZipFile:
            return None
    return None


def damage(data: bytes, kind: str) -> str | None:
    """Why a file ``kind_of`` calls ``kind`` is not a whole document (French), or None."""
    if kind == "pdf":
        return (
            None
            if b"%%EOF" in data[-1024:]
            else _("Ce PDF est incomplet (fin de fichier absente).")
        )
    return _docx_damage(data)


def _docx_damage(data: bytes) -> str | None:
    damaged = _("Ce document Word est endommagé : ouvrez-le et enregistrez-le de nouveau.")
    try:
        with zipfile.ZipFile(BytesIO(data)) as package:
            members = package.infolist()
            inflated = sum(member.file_size for member in members)
            if inflated > DOCX_MAX_INFLATED or inflated > DOCX_MAX_RATIO * max(len(data), 1):
                return _("Ce fichier se décompresse en un volume anormal : il est refusé.")
            names = {member.filename for member in members}
            if not all(part in names for part in DOCX_PARTS):
                return damaged
            if package.testzip() is not None:  # a member whose CRC does not match
                return damaged
            if not package.read("word/document.xml").lstrip().startswith(b"<"):
                return damaged
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        return damaged
    return None
