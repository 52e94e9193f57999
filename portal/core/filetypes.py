"""What a file is, from its bytes: never from its name or what the browser claims."""

import zipfile
from io import BytesIO


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
