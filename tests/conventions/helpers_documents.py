"""Helpers of the convention document tests: a submitted convention committed for HTTP
tests, reading a DOCX back, editing one of its characters, and reading a PDF's text.

``pdf_text`` reads what LibreOffice writes (Flate streams, fonts with a ToUnicode CMap,
text shown with ``Tj``/``TJ``): CI has no poppler, so the tests cannot count on
``pdftotext``; where it exists, the tests compare both readings.
"""

import re
import shutil
import subprocess
import zipfile
import zlib
from dataclasses import dataclass
from io import BytesIO

from docx import Document

from portal.extensions import db
from tests.conventions.factories import make_convention_ready
from tests.support import committed

DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass
class Submitted:
    """Ids of a convention submitted for signature (version 1), committed."""

    operation_id: int
    convention_id: int
    version_id: int
    reference: str
    sha256: str

    def url(self, kind: str = "docx", number: int = 1) -> str:
        return f"/operations/{self.operation_id}/convention/versions/{number}/convention.{kind}"


def submit_convention(app) -> Submitted:
    """Build an operation at the convention step and submit version 1 (nothing signed)."""
    with committed(app):
        ready = make_convention_ready()
        version = ready.submit()
        db.session.flush()
        submitted = Submitted(
            ready.operation.id,
            ready.convention.id,
            version.id,
            ready.convention.reference,
            version.sha256,
        )
    return submitted


# --- DOCX ---------------------------------------------------------------------------------


def read_docx(data: bytes) -> Document:
    return Document(BytesIO(data))


def table_rows(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def all_text(document) -> str:
    """Every paragraph and table cell of the body, one per line."""
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        lines.extend(cell.text for row in table.rows for cell in row.cells)
    return "\n".join(lines)


def replace_in_document(data: bytes, old: str, new: str) -> bytes:
    """The same package with ``old`` replaced by ``new`` once in word/document.xml."""
    source = zipfile.ZipFile(BytesIO(data))
    output = BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "word/document.xml":
                text = content.decode("utf-8")
                assert old in text
                content = text.replace(old, new, 1).encode("utf-8")
            target.writestr(info, content)
    return output.getvalue()


# --- PDF ----------------------------------------------------------------------------------

_OBJECT = re.compile(rb"(\d+) 0 obj(.*?)endobj", re.S)
_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
_TEXT_OP = re.compile(rb"/(\w+) [\d.]+ Tf|\[(.*?)\]\s*TJ|<([0-9A-Fa-f]*)>\s*Tj", re.S)


def _stream(body: bytes) -> bytes:
    match = _STREAM.search(body)
    if match is None:
        return b""
    raw = match.group(1)
    return zlib.decompress(raw) if b"/FlateDecode" in body[: match.start()] else raw


def _cmap(data: bytes) -> dict[bytes, str]:
    """Code → text of a ToUnicode CMap (bfchar and bfrange entries)."""
    mapping = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for code, text in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[bytes.fromhex(code.decode())] = bytes.fromhex(text.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for start, end, text in re.findall(
            rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
        ):
            width, first = len(start) // 2, int(start, 16)
            base = int(text, 16)
            for offset in range(int(end, 16) - first + 1):
                code = (first + offset).to_bytes(width, "big")
                mapping[code] = chr(base + offset)
    return mapping


def pdf_text(data: bytes) -> str:
    """The text a LibreOffice PDF shows, page content streams in file order."""
    objects = {int(num): body for num, body in _OBJECT.findall(data)}
    fonts: dict[bytes, dict[bytes, str]] = {}
    for body in objects.values():
        for name, ref in re.findall(rb"/(F\d+) (\d+) 0 R", body):
            font = objects.get(int(ref), b"")
            unicode_ref = re.search(rb"/ToUnicode (\d+) 0 R", font)
            if unicode_ref:
                fonts[name] = _cmap(_stream(objects[int(unicode_ref.group(1))]))
    pages = [body for body in objects.values() if re.search(rb"/Type\s*/Page\b", body)]
    contents = [int(ref) for page in pages for ref in re.findall(rb"/Contents (\d+) 0 R", page)]
    chunks = []
    for number in contents:
        content = _stream(objects[number])
        mapping: dict[bytes, str] = {}
        for font, array, single in _TEXT_OP.findall(content):
            if font:
                mapping = fonts.get(font, {})
                continue
            for hexa in re.findall(rb"<([0-9A-Fa-f]*)>", array) if array else [single]:
                codes = bytes.fromhex(hexa.decode())
                width = 2 if mapping and len(next(iter(mapping))) == 2 else 1
                chunks.append(
                    "".join(
                        mapping.get(codes[i : i + width], "") for i in range(0, len(codes), width)
                    )
                )
            chunks.append("\n")
    return "".join(chunks)


def pdftotext(data: bytes) -> str | None:
    """Poppler's reading of the PDF, when ``pdftotext`` is installed."""
    command = shutil.which("pdftotext")
    if command is None:
        return None
    result = subprocess.run(  # noqa: S603 - a fixed command on our own bytes
        [command, "-", "-"], input=data, capture_output=True, check=True, timeout=60
    )
    return result.stdout.decode("utf-8")
