"""Helpers of the archive tests: build an archive in a request context, read a zip."""

import io
import json
import zipfile

from portal.archive.build import build_archive
from portal.extensions import db
from portal.operations.models import Operation


def built(operation_id: int):
    """The archive of the operation as it stands (call inside a request context)."""
    return build_archive(db.session.get(Operation, operation_id))


def archive_bytes(operation_id: int) -> bytes:
    archive = built(operation_id)
    with archive.file:
        return archive.file.read()


def entries(data: bytes) -> dict[str, bytes]:
    """Every file of the zip by its path inside the archive's folder."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return {n.split("/", 1)[1]: package.read(n) for n in package.namelist()}


def manifest_of(data: bytes) -> dict:
    return json.loads(entries(data)["manifeste.json"])
