"""Generated files kept on disk, under ``DOCUMENTS_DIR`` (by default ``instance/documents``).

A file is written once, atomically (a temporary name in the same folder, then renamed), so
that a reader never sees half a file and a crash leaves no truncated copy. ``exclusive``
is an advisory lock file (``flock``): it holds across the gunicorn workers, not only the
threads of one process.
"""

import fcntl
import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from flask import current_app


def documents_dir() -> Path:
    """The folder of generated files, created on first use."""
    folder = Path(current_app.config["DOCUMENTS_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _path(name: str) -> Path:
    path = documents_dir() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def read(name: str) -> bytes | None:
    """The stored file ``name`` (a relative path), or None when it was never written."""
    try:
        return _path(name).read_bytes()
    except (FileNotFoundError, IsADirectoryError):  # never written, or removed meanwhile
        return None


def write(name: str, data: bytes) -> None:
    """Store ``data`` as ``name``, atomically."""
    path = _path(name)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def remove(name: str) -> None:
    """Delete the stored file ``name`` if it exists."""
    _path(name).unlink(missing_ok=True)


def remove_others(name: str, pattern: str) -> None:
    """Delete the stored files of ``name``'s folder that match ``pattern`` (a glob), all but
    ``name`` itself: the copies it supersedes. A reader who had chosen one of them finds it
    gone (``read`` answers None) and builds what it needs again."""
    kept = _path(name)
    for path in kept.parent.glob(pattern):
        if path != kept:
            path.unlink(missing_ok=True)


def fresh(name: str, seconds: float) -> bool:
    """The file ``name`` exists and is at most ``seconds`` old."""
    try:
        return time.time() - _path(name).stat().st_mtime <= seconds
    except FileNotFoundError:
        return False


def claim(name: str, *, older_than: float) -> bool:
    """Create the marker file ``name`` if it is absent, or replace it if it is older than
    ``older_than`` seconds; True if this caller did. The creation is exclusive: of two
    callers at once, one only gets True (taking over an old marker, two rarely may: what
    the marker guards must bear running twice)."""
    path = _path(name)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        try:
            age = time.time() - path.stat().st_mtime
        except FileNotFoundError:
            return claim(name, older_than=older_than)  # removed meanwhile: try again
        if age <= older_than:
            return False
        stale = path.with_name(f".stale-{os.getpid()}-{time.monotonic_ns()}")
        try:
            os.rename(path, stale)
        except FileNotFoundError:
            return False  # another caller took it over first
        stale.unlink(missing_ok=True)
        return claim(name, older_than=older_than)
    return True


@contextmanager
def exclusive(name: str, *, wait: float = 0.0):
    """Hold the lock ``name`` for the block; yields False when it stayed taken ``wait`` s."""
    with open(_path(name), "a+b") as file:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(0.1)
                continue
            try:
                yield True
            finally:
                fcntl.flock(file, fcntl.LOCK_UN)
            return
