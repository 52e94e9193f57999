"""Hypothesis strategies and the harness of the fuzz tests (issue #17, « Fuzzing »).

tests/core/test_fuzz_forms.py posts generated bodies to every POST route of the URL map;
tests/core/test_fuzz_uploads.py sends generated files to every upload. What they share is
here: the values (random Unicode with C0/C1 controls and U+2028, huge values, numbers and
dates out of range, wrong types), the bodies (fields missing, duplicated, unknown keys),
the files (bad encodings, BOMs, huge lines, zip bombs and random zips named .docx,
truncated PDFs), and the checks every answer passes:

- never a server error (the test app propagates exceptions, so a 500 is a traceback);
- a refused request (wrong CSRF, 4xx, a form shown again with its errors) wrote nothing;
- what an accepted request wrote is clean: every text column without control characters
  (TAB and LF aside), in Unicode NFC, within its column's length (``StoredTextCheck``).

The number of cases per route is ``support.examples(n)`` in the normal suite, and
``FUZZ_EXAMPLES`` when set (``make fuzz``).
"""

import datetime
import io
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from docx import Document
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import JSON, String, event, inspect
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict
from wtforms import Form

from tests.support import examples

# --- How many cases ----------------------------------------------------------------------


# Cases the normal suite runs (in CI; a fifth locally, 3 at least) for a route with a form,
# a button, an upload: ~900 cases in CI, about 30 s of CPU (``make fuzz`` runs thousands).
PER_FORM = 6
PER_BUTTON = 3
PER_UPLOAD = 30


def fuzz_examples(n: int) -> int:
    """Cases for a test asking for ``n``: ``examples(n)`` in the normal suite (``n`` in CI, a
    fifth locally); with ``FUZZ_EXAMPLES`` set (``make fuzz``), that many per form, in
    proportion for the others."""
    forced = os.environ.get("FUZZ_EXAMPLES")
    return max(1, int(forced) * n // PER_FORM) if forced else examples(n)


def fuzz_settings(n: int):
    """Hypothesis settings of a fuzz test asking for ``n`` cases: no deadline (the first
    request of a route warms caches), derandomized in CI so a run is repeatable."""
    return settings(
        max_examples=fuzz_examples(n),
        deadline=None,
        derandomize=bool(os.environ.get("CI")),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )


# --- Values ------------------------------------------------------------------------------

# Characters that broke or could break what reads stored text (see portal/core/text.py).
NASTY = [
    *"\x00\x01\x07\x08\x0b\x0c\r\x1b\x7f\x80\x85\x9f",
    "\u2028",
    "\u2029",
    "\ufeff",
    "\ufffe",
    "\uffff",
    "\u0301",  # a combining accent: « e\u0301 » is not NFC
    "\u202e",  # right-to-left override
    "\u200b",
    "\t",
    "\n",
    "\r\n",
    "'",
    '"',
    "<",
    "%",
    "\\",
    ";",
    "😀",
]
nasty_text = st.lists(
    st.one_of(st.characters(codec="utf-8"), st.sampled_from(NASTY)), max_size=30
).map("".join)
huge_text = st.builds(
    lambda unit, times: unit * times,
    st.sampled_from(["a", "é", "\x01", "9", "😀", "ab\u2028"]),
    st.integers(256, 70_000),
)
numbers_as_text = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["NaN", "inf", "-0", "1e309", "0x10", "٣", "1 000", "1,5", "+-1", ""]),
)
dates_as_text = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["2026-02-30", "0000-01-01", "9999-12-31", "31/12/2026", "2026-13-01"]),
    st.datetimes().map(lambda d: d.isoformat(timespec="minutes")),
)
any_value = st.one_of(
    nasty_text,
    numbers_as_text,
    dates_as_text,
    st.sampled_from(["", " ", "y", "on", "true", "1", "0", "-1", "None", "[]", "{}"]),
    huge_text,
)
# A body posted as JSON (the portal posts none): any shape, fields' names or not.
json_bodies = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), nasty_text),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(nasty_text, inner, max_size=3)
    ),
    max_leaves=8,
)
# Keys a form does not have, or should not let a role set (issue #17, field-level).
EXTRA_KEYS = [
    "id",
    "organisation_id",
    "org_id",
    "operation_id",
    "user_id",
    "status",
    "is_admin",
    "promise_id",
    "csrf_token",
    "submit",
    "action",
    "add_row",
    "remove_row",
]


@dataclass(frozen=True, repr=False)
class Upload:
    """A file of a generated body (the test client is given a fresh stream per request)."""

    data: bytes
    filename: str
    content_type: str = "application/octet-stream"

    def __repr__(self) -> str:  # the bytes may be megabytes: their length and first ones
        return f"Upload({self.data[:40]!r}… {len(self.data)} bytes, {self.filename!r})"

    def as_file(self):
        return (io.BytesIO(self.data), self.filename, self.content_type)


def _choice_values(field) -> list[str]:
    try:
        return [str(choice[0]) for choice in field.iter_choices()]
    except (TypeError, ValueError, AttributeError):
        return []


def field_value(field) -> st.SearchStrategy:
    """Values for one WTForms field: mostly of its kind (a choice, a number, a date), else
    anything."""
    kind = type(field).__name__
    choices = _choice_values(field) if hasattr(field, "iter_choices") else []
    if kind == "FileField" or kind == "MultipleFileField":
        return uploads()
    if choices:
        typed = st.sampled_from(choices)
    elif kind in {"IntegerField", "DecimalField", "FloatField", "IntegerRangeField"}:
        typed = st.one_of(st.integers(-5, 10**6).map(str), numbers_as_text)
    elif kind in {"DateField", "DateTimeField", "DateTimeLocalField", "TimeField", "MonthField"}:
        typed = st.one_of(st.dates(min_value=datetime.date(2020, 1, 1)).map(str), dates_as_text)
    elif kind == "BooleanField":
        typed = st.sampled_from(["y", "on", "1", ""])
    elif kind == "EmailField" or "email" in field.name:
        typed = st.one_of(st.emails(), st.just("camille.martin@example.fr"))
    else:
        typed = st.one_of(st.just("Texte valide"), nasty_text)
    return st.one_of(typed, typed, any_value)


def form_fields(forms: list[Form]) -> dict[str, object]:
    """Every input name of ``forms`` (nested and listed fields flattened, their first two
    rows), with the field it reads."""
    names: dict[str, object] = {}

    def walk(field):
        kind = type(field).__name__
        if kind == "FormField":
            for sub in field:
                walk(sub)
        elif kind == "FieldList":
            entries = list(field.entries)
            for entry in entries[:2]:
                walk(entry)
            if not entries:
                names[f"{field.name}-0"] = field
        elif kind not in {"CSRFTokenField", "SubmitField"}:
            names[field.name] = field

    for form in forms:
        for field in form:
            walk(field)
    return names


@st.composite
def form_bodies(draw, fields: dict[str, object]) -> MultiDict:
    """A body for these fields: each one missing, present or repeated, plus unknown keys."""
    body = MultiDict()
    for name, field in fields.items():
        times = draw(st.sampled_from([0, 1, 1, 1, 1, 1, 2]))
        strategy = field_value(field) if not isinstance(field, str) else any_value
        for _ in range(times):
            body.add(name, draw(strategy))
    extra = draw(st.lists(st.tuples(st.one_of(st.sampled_from(EXTRA_KEYS), nasty_text), any_value),
                          max_size=3))  # fmt: skip
    for key, value in extra:
        body.add(key, value)
    return body


def request_body(body: MultiDict) -> MultiDict:
    """The body as the test client takes it (files as fresh streams)."""
    return MultiDict(
        [
            (key, value.as_file() if isinstance(value, Upload) else value)
            for key, value in body.items(multi=True)
        ]
    )


# CSRF as a browser could send it: right (most cases, so the body reaches validation),
# missing, forged, or the token of another session in the form.
CSRF_MODES = ["header", "header", "header", "header", "field", "missing", "forged", "other"]


# --- Files -------------------------------------------------------------------------------


def _zip(members: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as package:
        for name, data in members.items():
            package.writestr(name, data)
    return buffer.getvalue()


def zip_bomb() -> bytes:
    """A small zip (~100 kB) that inflates to 100 MB, with a Word document's member names."""
    return _zip(
        {
            "[Content_Types].xml": b"<Types/>",
            "word/document.xml": b"<" + b"\0" * 100_000_000,
        }
    )


_BOMB = None


def _bomb() -> bytes:
    global _BOMB  # noqa: PLW0603 - built once per process (a second of deflate)
    if _BOMB is None:
        _BOMB = zip_bomb()
    return _BOMB


def minimal_pdf() -> bytes:
    """A tiny valid PDF (one empty page)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (4, xref))
    return out.getvalue()


def minimal_docx() -> bytes:
    """A small valid DOCX written by python-docx."""
    document = Document()
    document.add_paragraph("Document de référence")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


_VALID: dict[str, bytes] = {}


def valid_file(kind: str) -> bytes:
    if kind not in _VALID:
        _VALID[kind] = minimal_pdf() if kind == "pdf" else minimal_docx()
    return _VALID[kind]


filenames = st.one_of(
    st.sampled_from(["doc.pdf", "doc.docx", "import.csv", "IMPORT.CSV", ".csv", "a.csv.exe"]),
    st.builds(
        lambda stem, ext: stem + ext,
        nasty_text,
        st.sampled_from([".pdf", ".docx", ".csv", ".zip", ".json", ""]),
    ),
    st.just(""),
)


def _truncated(data: bytes, cut: int) -> bytes:
    return data[: max(1, cut % max(1, len(data)))]


def binary_files() -> st.SearchStrategy:
    """Bytes posed as documents: empty, random, truncated or damaged PDFs and DOCX, zips
    that are not Word documents, a zip bomb named .docx."""
    return st.one_of(
        st.just(b""),
        st.binary(max_size=2000),
        st.builds(lambda tail: b"%PDF-" + tail, st.binary(max_size=500)),
        st.builds(lambda cut: _truncated(valid_file("pdf"), cut), st.integers(0, 10_000)),
        st.builds(lambda cut: _truncated(valid_file("docx"), cut), st.integers(0, 100_000)),
        st.builds(lambda tail: b"PK\x03\x04" + tail, st.binary(max_size=500)),
        st.builds(
            lambda members: _zip(members),
            st.dictionaries(
                st.sampled_from(["word/document.xml", "[Content_Types].xml", "x", "../evil"]),
                st.binary(max_size=200),
                max_size=3,
            ),
        ),
        st.builds(lambda: _bomb()),
        st.sampled_from(["pdf", "docx"]).map(valid_file),
    )


def csv_texts() -> st.SearchStrategy:
    """CSV-ish text: a header line (right, partial or wrong), rows of random cells."""
    cell = st.one_of(nasty_text, numbers_as_text, dates_as_text, st.emails())
    row = st.lists(cell, max_size=12)
    return st.builds(
        lambda header, rows, sep, newline: newline.join(
            sep.join(cells) for cells in [header, *rows]
        ),
        st.lists(st.one_of(st.just("nom"), nasty_text), max_size=12),
        st.lists(row, max_size=6),
        st.sampled_from([";", ",", "\t"]),
        st.sampled_from(["\r\n", "\n", "\r"]),
    )


def encoded(text_strategy, header_lines=None) -> st.SearchStrategy:
    """Text encoded as a spreadsheet or a script could write it: UTF-8 with or without BOM,
    latin-1, cp1252, UTF-16; or damaged: invalid UTF-8, a huge line, NUL bytes, empty."""

    def encode(text: str, how: str) -> bytes:
        if how == "utf-8-sig":
            return text.encode("utf-8-sig", "surrogatepass")
        if how in ("latin-1", "cp1252"):
            return text.encode(how, "replace")
        if how == "utf-16":
            return text.encode("utf-16", "surrogatepass")
        if how == "invalid":
            return text.encode("utf-8", "surrogatepass")[:-1] + b"\xff\xfe\xc3"
        return text.encode("utf-8", "surrogatepass")

    return st.one_of(
        st.builds(
            encode,
            text_strategy,
            st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16", "invalid"]),
        ),
        st.just(b""),
        st.just(b"\xef\xbb\xbf"),
        st.builds(lambda n: b"a;" * n, st.integers(10_000, 400_000)),  # one huge line
        st.builds(lambda n: b"\n" * n, st.integers(1, 200_000)),
        st.binary(max_size=500),
        st.builds(lambda: _bomb()),
    )


def uploads(contents: st.SearchStrategy | None = None) -> st.SearchStrategy:
    """An ``Upload`` of these contents (by default, any bytes posed as a document or CSV)."""
    contents = contents or st.one_of(binary_files(), encoded(csv_texts()))
    return st.builds(
        Upload,
        contents,
        filenames,
        st.sampled_from(["application/octet-stream", "text/csv", "application/pdf", "x/y"]),
    )


# --- Capturing the forms of a view -------------------------------------------------------


@contextmanager
def captured_forms() -> Iterator[list[Form]]:
    """Record every top-level form (``FlaskForm``) a request builds: the fields to fuzz
    come from the view's own WTForms classes, whatever they are called."""
    built: list[Form] = []
    original = Form.__init__

    def recording(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if isinstance(self, FlaskForm):
            built.append(self)

    Form.__init__ = recording
    try:
        yield built
    finally:
        Form.__init__ = original


# --- What is stored ----------------------------------------------------------------------

_LENGTHLESS = (JSON,)
_UNCLEAN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]"
)  # control characters except TAB and LF, line separators, non-characters


def unclean(value: str) -> str | None:
    """Why a stored text is not clean, or None."""
    if _UNCLEAN.search(value):
        return f"control character {_UNCLEAN.search(value).group()!r}"
    if unicodedata.normalize("NFC", value) != value:
        return "not NFC"
    return None


class StoredTextCheck:
    """Listens to every flush of the ORM and records each text value written that is not
    clean (``unclean``) or longer than its column: ``problems`` names table, column, value.

    Columns in ``exempt`` (``table.column``) are written by the portal itself (hashes,
    tokens, user agents), not typed by anyone."""

    def __init__(self, exempt: set[str] = frozenset()):
        self.exempt = exempt
        self.problems: list[str] = []

    def __enter__(self):
        event.listen(Session, "before_flush", self._before_flush)
        return self

    def __exit__(self, *_exc):
        event.remove(Session, "before_flush", self._before_flush)

    def _before_flush(self, session, _context, _instances):
        for obj in [*session.new, *session.dirty]:
            state = inspect(obj)
            table = state.mapper.local_table
            for attr in state.mapper.column_attrs:
                column = attr.columns[0]
                name = f"{table.name}.{column.name}"
                if name in self.exempt:
                    continue
                history = state.attrs[attr.key].history
                for value in history.added or ():
                    self._check(name, column, value)

    def _check(self, name: str, column, value) -> None:
        if isinstance(value, str):
            why = unclean(value)
            length = getattr(column.type, "length", None)
            if why is None and isinstance(column.type, String) and length and len(value) > length:
                why = f"{len(value)} characters for {length}"
            if why:
                self.problems.append(f"{name}: {why}: {value[:80]!r}")
        elif isinstance(column.type, _LENGTHLESS) and value is not None:
            for text in _strings(value):
                why = unclean(text)
                if why:
                    self.problems.append(f"{name} (JSON): {why}: {text[:80]!r}")


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
