"""The convention as PDF: the DOCX converted by LibreOffice headless, as a background job.

A conversion takes seconds (up to ``SOFFICE_TIMEOUT``), so no web request runs one
(issue #16): the PDF link serves the file kept for this very DOCX if there is one, else
queues the conversion (``request_conversion``: on RQ with ``REDIS_URL``, in a thread of
the web process otherwise, ``portal/core/jobs.py``) and answers a page that polls until
the file is there. Each distinct DOCX (the version's state: text, signatures, validation)
is converted once and its PDF kept (``portal/core/storage.py``, named after the DOCX's
SHA-256, so on the storage every web host and worker shares); later downloads serve that
file, whose hash is recorded (``IssuedDocument``).

A job's state lives next to the PDF it makes, in the shared storage, so any host reads
it: ``<hash>.queued`` while a job is on its way (older than ``queued_for()``, taken for a
lost job and queued again), ``<hash>.failed`` holding why it failed (a reason code,
turned into French when shown; « Réessayer » removes it). Only one conversion runs at a
time per storage (a lock file): a job that finds it taken waits up to
``PDF_CONVERSION_WAIT`` seconds.

Each conversion gets its own temporary folder and LibreOffice profile
(``-env:UserInstallation``), removed afterwards; only the PDF is kept.
"""

import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from portal.core import jobs, storage

PDF_MIMETYPE = "application/pdf"
PACKAGE = "libreoffice-writer-nogui"
CONVERSION_LOCK = "conventions/.pdf-conversion.lock"
MISSING, FAILED, BUSY = "missing", "failed", "busy"  # why a conversion failed
CONVENTIONS = "conventions"  # the folder of the conventions' PDFs


class PdfUnavailable(Exception):
    """The PDF cannot be produced; ``reason`` says why (``MISSING``, ``FAILED``, ``BUSY``)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def reason_message(reason: str) -> str:
    """Why a conversion failed, in French, for the people who may download the PDF."""
    if reason == MISSING:
        return missing_message()
    if reason == BUSY:
        return _(
            "D'autres conversions en PDF occupent le serveur. Réessayez dans quelques "
            "minutes, ou téléchargez le document Word (DOCX), dont le contenu est identique."
        )
    return _conversion_failed()


def digest_of(docx: bytes) -> str:
    """The DOCX's SHA-256 (hex): the name its PDF is kept under."""
    return hashlib.sha256(docx).hexdigest()


def _named(version_id: int, digest: str, folder: str) -> str:
    return f"{folder}/{version_id}/{digest}.pdf"


def _stored_name(version_id: int, docx: bytes, folder: str = "conventions") -> str:
    return _named(version_id, digest_of(docx), folder)


def _companion(name: str, suffix: str) -> str:
    return name.removesuffix(".pdf") + suffix


@dataclass(frozen=True)
class PdfState:
    """Where the PDF of one DOCX (``digest``) stands: ready (``data``), failed
    (``reason``), or being prepared (neither)."""

    digest: str
    data: bytes | None = None
    reason: str | None = None

    @property
    def ready(self) -> bool:
        return self.data is not None

    @property
    def failed(self) -> bool:
        return self.data is None and self.reason is not None

    @property
    def message(self) -> str | None:
        return reason_message(self.reason) if self.failed else None


def state(version_id: int, docx: bytes, folder: str = "conventions") -> PdfState:
    """The PDF of ``docx`` as it stands (nothing queued: see ``request_conversion``);
    ``folder`` and ``version_id`` say where it is kept (an operation's bilan keeps its PDFs
    under ``bilans/<operation id>``)."""
    return state_of(version_id, digest_of(docx), folder)


def state_of(version_id: int, digest: str, folder: str = "conventions") -> PdfState:
    """The PDF of the DOCX whose SHA-256 is ``digest`` (a poll knows it: no DOCX to build)."""
    name = _named(version_id, digest, folder)
    data = storage.read(name)
    if data is not None:
        return PdfState(digest, data=data)
    failure = storage.read(_companion(name, ".failed"))
    if failure is not None:
        return PdfState(digest, reason=failure.decode() or FAILED)
    return PdfState(digest)


def on_its_way(version_id: int, digest: str, folder: str = "conventions") -> bool:
    """A conversion of that DOCX is queued or running (its marker is not yet taken for
    lost)."""
    return storage.fresh(_companion(_named(version_id, digest, folder), ".queued"), queued_for())


def queued_for() -> float:
    """Seconds after which a queued conversion that left nothing is taken for lost."""
    config = current_app.config
    return config.get("SOFFICE_TIMEOUT", 120) + config.get("PDF_CONVERSION_WAIT", 600) + 60


def request_conversion(version_id: int, docx: bytes, folder: str = "conventions") -> bool:
    """Queue the conversion of ``docx`` unless one is already on its way; True if queued."""
    name = _stored_name(version_id, docx, folder)
    if not storage.claim(_companion(name, ".queued"), older_than=queued_for()):
        return False
    timeout = int(queued_for())
    jobs.enqueue("portal.conventions.pdf.convert", version_id, docx, folder, timeout=timeout)
    return True


def retry(version_id: int, docx: bytes, folder: str = "conventions") -> None:
    """Forget a failed conversion and queue it again."""
    name = _stored_name(version_id, docx, folder)
    storage.remove(_companion(name, ".failed"))
    storage.remove(_companion(name, ".queued"))
    request_conversion(version_id, docx, folder)


def convert(version_id: int, docx: bytes, folder: str = "conventions") -> str:
    """The job: convert ``docx`` and keep its PDF, or record why not; the outcome
    (``"done"`` or a reason). One conversion at a time; a PDF already kept is not redone."""
    name = _stored_name(version_id, docx, folder)
    started = time.monotonic()
    try:
        convert_once(version_id, docx, folder)
    except PdfUnavailable as exc:
        storage.write(_companion(name, ".failed"), exc.reason.encode())
        outcome = exc.reason
    else:
        outcome = "done"
    finally:
        storage.remove(_companion(name, ".queued"))
    current_app.logger.info("PDF %s: %s in %.2f s", name, outcome, time.monotonic() - started)
    return outcome


def convert_once(version_id: int, docx: bytes, folder: str = "conventions") -> bytes:
    """The PDF of ``docx``, converted now unless another job just did, and kept.

    Raise ``PdfUnavailable``: ``BUSY`` when other conversions hold the lock past
    ``PDF_CONVERSION_WAIT``, ``MISSING`` or ``FAILED`` when LibreOffice is absent or
    fails. Call it outside a web request and with no database transaction open.
    """
    name = _stored_name(version_id, docx, folder)
    wait = current_app.config.get("PDF_CONVERSION_WAIT", 600)
    with storage.exclusive(CONVERSION_LOCK, wait=wait) as held:
        if not held:
            raise PdfUnavailable(BUSY)
        data = storage.read(name)  # converted by the job we waited for
        if data is None:
            data = docx_to_pdf(docx)
            storage.write(name, data)
    return data


def soffice() -> str | None:
    """The LibreOffice command (``SOFFICE_PATH``, looked up in PATH), or None if absent."""
    return shutil.which(current_app.config.get("SOFFICE_PATH") or "soffice")


def missing_message() -> str:
    """What is missing, for the people who may download the PDF."""
    return _(
        "Le PDF n'est pas disponible : LibreOffice n'est pas installé sur le serveur "
        "(paquet %(package)s). Téléchargez le document Word (DOCX), dont le contenu est "
        "identique.",
        package=PACKAGE,
    )


def docx_to_pdf(docx: bytes) -> bytes:
    """Convert ``docx`` to PDF; raise ``PdfUnavailable`` if LibreOffice is absent or fails.

    Call it with no database transaction open: a conversion takes seconds.
    """
    command = soffice()
    if command is None:
        raise PdfUnavailable(MISSING)
    timeout = current_app.config.get("SOFFICE_TIMEOUT", 120)
    with tempfile.TemporaryDirectory(prefix="portail-pdf-") as folder:
        work = Path(folder)
        source = work / "convention.docx"
        source.write_bytes(docx)
        arguments = [
            command,
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(work / "out"),
            str(source),
        ]
        _run(arguments, timeout=timeout, home=work)
        target = work / "out" / "convention.pdf"
        data = target.read_bytes() if target.is_file() else b""
    if not data.startswith(b"%PDF-"):
        raise PdfUnavailable(FAILED)
    return data


def _conversion_failed() -> str:
    return _(
        "La conversion en PDF a échoué. Téléchargez le document Word (DOCX), dont le "
        "contenu est identique, ou réessayez plus tard."
    )


def _run(arguments: list[str], *, timeout: int, home: Path) -> None:
    """Run LibreOffice in its own process group, killed whole if it overruns.

    ``soffice`` is a launcher script: killing only it would leave ``soffice.bin`` running.
    """
    environment = {**os.environ, "HOME": str(home)}
    process = subprocess.Popen(  # noqa: S603 - a fixed command on our own temporary file
        arguments,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment,
        start_new_session=True,
    )
    try:
        process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        current_app.logger.warning("LibreOffice conversion timed out after %s s", timeout)
        raise PdfUnavailable(FAILED) from None
    if process.returncode != 0:
        current_app.logger.warning("LibreOffice conversion failed (%s)", process.returncode)
        raise PdfUnavailable(FAILED)
