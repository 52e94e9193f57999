"""The convention as PDF: the DOCX converted by LibreOffice headless, when it is installed.

Each conversion gets its own temporary folder and LibreOffice profile
(``-env:UserInstallation``): two conversions at once never share a profile, and nothing
is left behind. LibreOffice stamps a creation date and a random file id in the PDF, so
each conversion gives another file; each one is recorded (``IssuedDocument``) so that
any copy handed out can be verified.
"""

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

PDF_MIMETYPE = "application/pdf"
PACKAGE = "libreoffice-writer-nogui"


class PdfUnavailable(Exception):
    """The PDF cannot be produced; ``message`` says why, in French."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


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
