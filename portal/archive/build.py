"""Building an operation's archive: a deterministic zip of its documents and manifest.

The same state of the operation gives the same bytes, whenever and by whichever worker it
is built:

- every entry carries the date of the state (``journal.state_date``: the closing of a
  closed operation), fixed permissions (0644, Unix) and ZIP_DEFLATED at a fixed level;
- documents in the order of their paths, then the manifest, its French version and
  ``SHA256SUMS``; no directory entries, no comment, no extra field;
- each document is itself deterministic (``contents.py``).

The zip is written to a spooled temporary file (in memory up to ``SPOOL_BYTES``, then on
disk), one document at a time, and streamed from there: memory does not grow with the
number of trainees. Building writes nothing in the database; ``issue`` records the
evidence afterwards, in the request's one commit.
"""

import hashlib
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from tempfile import SpooledTemporaryFile

from flask_babel import force_locale
from sqlalchemy import select

from portal.archive import contents, journal
from portal.archive.manifest import (
    JSON_NAME,
    SUMS_NAME,
    TEXT_NAME,
    Header,
    Listed,
    manifest_json,
    manifest_text,
    sha256sums,
)
from portal.archive.models import IssuedArchive
from portal.conventions.models import Convention
from portal.core.locking import first_or_add
from portal.extensions import db
from portal.operations.models import Operation, Status

ZIP_MIMETYPE = "application/zip"
COMPRESSION_LEVEL = 9
FILE_MODE = 0o100644  # a regular file, rw-r--r--
EARLIEST = datetime(1980, 1, 1)  # the zip format's first date
SPOOL_BYTES = 16 * 1024 * 1024


def filename(operation: Operation) -> str:
    """The name the browser saves the archive under (also its folder inside the zip)."""
    return f"archive-operation-{operation.id}"


def is_final(operation: Operation) -> bool:
    """A closed operation's archive is final (a cancelled one's too: it never changes
    again); before, an archive is made on demand."""
    return operation.status in (Status.CLOSED, Status.CANCELLED)


@dataclass
class Outline:
    """The archive planned but not built: what the page shows before the download."""

    operation: Operation
    final: bool
    as_of: datetime
    events: list[journal.Event]
    context: contents.Context
    planned: list[tuple[contents.DocumentKind, contents.Planned]]

    @property
    def counts(self) -> list[tuple[contents.DocumentKind, int]]:
        """Each kind of document with its number of files (kinds without any left out)."""
        by_kind = {}
        for kind, _file in self.planned:
            by_kind[kind.key] = by_kind.get(kind.key, 0) + 1
        return [(k, by_kind[k.key]) for k in contents.KINDS if k.key in by_kind]


@dataclass
class Archive:
    """A built archive: the zip (positioned at its start) and what identifies it."""

    file: SpooledTemporaryFile
    name: str
    size: int
    sha256: str
    manifest_sha256: str
    files: int
    events: int
    final: bool
    as_of: datetime
    trainee_ids: list[int] = field(default_factory=list)
    after: list = field(default_factory=list)


def outline(operation: Operation, *, by=None) -> Outline:
    """Plan the archive of ``operation`` as it stands: its events, date and files."""
    with force_locale("fr"):
        events = journal.operation_events(operation)
        as_of = journal.state_date(operation, events)
        context = contents.Context(operation, as_of, by)
        planned = [(kind, file) for kind in contents.KINDS for file in kind.plan(context)]
    planned.sort(key=lambda pair: _path(*pair))
    paths = [_path(*pair) for pair in planned]
    if len(set(paths)) != len(paths):
        raise RuntimeError(f"Two files of the archive have the same path: {paths}")
    return Outline(operation, is_final(operation), as_of, events, context, planned)


def _path(kind: contents.DocumentKind, file: contents.Planned) -> str:
    return f"{kind.folder}/{file.name}"


def _entry(name: str, when: datetime) -> zipfile.ZipInfo:
    when = max(when, EARLIEST)
    info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, so that the permissions below are read
    info.external_attr = FILE_MODE << 16
    return info


def build_archive(operation: Operation, *, by=None) -> Archive:
    """The archive of ``operation`` as it stands (writes nothing: see ``issue``)."""
    plan = outline(operation, by=by)
    root = filename(operation)
    header = Header(operation, _reference(operation), plan.final, plan.as_of)
    output = SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - streamed, then closed
    listed: list[Listed] = []
    trainees: set[int] = set()
    with force_locale("fr"), zipfile.ZipFile(output, "w") as package:

        def write(path: str, data: bytes) -> str:
            package.writestr(
                _entry(f"{root}/{path}", plan.as_of), data, compresslevel=COMPRESSION_LEVEL
            )
            return hashlib.sha256(data).hexdigest()

        for kind, file in plan.planned:
            path = _path(kind, file)
            data = file.build()
            listed.append(Listed(path, kind.key, file.title, write(path, data), len(data)))
            trainees.update(file.trainee_ids)
            del data
        manifest = manifest_json(header, listed, plan.events)
        manifest_sha256 = write(JSON_NAME, manifest)
        text = manifest_text(header, listed, plan.events, manifest_sha256)
        text_sha256 = write(TEXT_NAME, text)
        sums = [(f.path, f.sha256) for f in listed]
        write(
            SUMS_NAME, sha256sums([*sums, (JSON_NAME, manifest_sha256), (TEXT_NAME, text_sha256)])
        )
    size = output.tell()
    output.seek(0)
    digest = hashlib.sha256()
    while chunk := output.read(1024 * 1024):
        digest.update(chunk)
    output.seek(0)
    return Archive(
        file=output,
        name=f"{root}.zip",
        size=size,
        sha256=digest.hexdigest(),
        manifest_sha256=manifest_sha256,
        files=len(listed),
        events=len(plan.events),
        final=plan.final,
        as_of=plan.as_of,
        trainee_ids=sorted(trainees),
        after=plan.context.after,
    )


def _reference(operation: Operation) -> str | None:
    return db.session.scalar(
        select(Convention.reference).where(Convention.operation_id == operation.id)
    )


def issue(operation: Operation, archive: Archive, *, by=None, organisation=None) -> IssuedArchive:
    """Record ``archive`` as issued (once per distinct archive) and the convention files it
    holds, so that the public page recognises them. Two requests may record the same new
    archive at once: the loser finds the winner's row."""
    for evidence in archive.after:
        evidence()
    query = select(IssuedArchive).where(
        IssuedArchive.operation_id == operation.id,
        IssuedArchive.manifest_sha256 == archive.manifest_sha256,
    )
    return first_or_add(
        query,
        lambda: IssuedArchive(
            operation_id=operation.id,
            manifest_sha256=archive.manifest_sha256,
            archive_sha256=archive.sha256,
            size=archive.size,
            files=archive.files,
            events=archive.events,
            final=archive.final,
            status=operation.status,
            as_of=archive.as_of,
            issued_by_id=getattr(by, "id", None),
            organisation_id=getattr(organisation, "id", None),
        ),
    )
