"""The convention as PDF: the DOCX converted by LibreOffice headless, when it is installed.

A conversion ties a worker up for seconds (up to ``SOFFICE_TIMEOUT``), so each distinct
DOCX (the version's state: text, signatures, validation) is converted once and its PDF
kept (``portal/core/storage.py``, named after the DOCX's SHA-256); later downloads serve
that file, whose hash is recorded (``IssuedDocument``). Only one conversion runs at a
time on the server (a lock file across the workers): a request that finds it taken waits
``PDF_CONVERSION_WAIT`` seconds, then gets a French 503 with ``Retry-After`` (issue #11
M9) — the other worker stays free for everyone else.

Each conversion gets its own temporary folder and LibreOffice profile
(``-env:UserInstallation``), removed afterwards; only the PDF is kept.
"""

import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from portal.core import storage

PDF_MIMETYPE = "application/pdf"
PACKAGE = "libreoffice-writer-nogui"
CONVERSION_LOCK = "conventions/.pdf-conversion.lock"
RETRY_AFTER_SECONDS = 30


class PdfUnavailable(Exception):
    """The PDF cannot be produced; ``message`` says why, in French."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class PdfBusy(PdfUnavailable):
    """Another conversion is running: try again in ``RETRY_AFTER_SECONDS``."""


def _stored_name(version_id: int, docx: bytes, folder: str = "conventions") -> str:
    return f"{folder}/{version_id}/{hashlib.sha256(docx).hexdigest()}.pdf"


def stored_pdf(version_id: int, docx: bytes, folder: str = "conventions") -> bytes | None:
    """The PDF already converted from this very DOCX of the version, or None (``folder``
    and ``version_id``: where another document, e.g. an operation's bilan, keeps its PDFs)."""
    return storage.read(_stored_name(version_id, docx, folder))


def convert_once(version_id: int, docx: bytes, folder: str = "conventions") -> bytes:
    """The PDF of ``docx``, converted now unless another request just did, and kept.

    Raise ``PdfBusy`` when another conversion holds the lock past the wait, and
    ``PdfUnavailable`` when LibreOffice is absent or fails. Call it with no database
    transaction open.
    """
    name = _stored_name(version_id, docx, folder)
    wait = current_app.config.get("PDF_CONVERSION_WAIT", 2)
    with storage.exclusive(CONVERSION_LOCK, wait=wait) as held:
        if not held:
            raise PdfBusy(
                _(
                    "Une autre conversion en PDF est en cours. Réessayez dans quelques "
                    "secondes, ou téléchargez le document Word (DOCX), dont le contenu est "
                    "identique."
                )
            )
        data = storage.read(name)  # converted by the request we waited for
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
        raise PdfUnavailable(missing_message())
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
        raise PdfUnavailable(_conversion_failed())
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
        raise PdfUnavailable(_conversion_failed()) from None
    if process.returncode != 0:
        current_app.logger.warning("LibreOffice conversion failed (%s)", process.returncode)
        raise PdfUnavailable(_conversion_failed())
