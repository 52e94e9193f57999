"""Downloading a version of the convention as DOCX or PDF, for the operation's participants.

Each download is evidence: the file's SHA-256 is recorded once per distinct file
(``IssuedDocument``, so that the public page can verify any copy) and every download the
user made themselves is audited (``convention.downloaded``; not for a link on another
site, see ``portal.security.own_navigation``). These GETs write only those evidence
tables, as the route inventory allows. The PDF is converted once per distinct DOCX and
kept (``pdf.convert_once``).
"""

from io import BytesIO

from flask import render_template, send_file
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.accounts.access import current_org
from portal.audit.services import record
from portal.conventions import bp, documents, pdf
from portal.conventions.context import load_started
from portal.conventions.models import ConventionVersion
from portal.conventions.services import valid_signatures
from portal.conventions.version_context import version_or_404
from portal.extensions import db
from portal.security import own_navigation


@bp.app_template_global()
def pdf_conversion_available() -> bool:
    """True when LibreOffice can turn the DOCX into a PDF (templates grey the button out)."""
    return pdf.soffice() is not None


@bp.app_template_global()
def pdf_missing_message() -> str:
    """Why the PDF button is disabled, in French."""
    return pdf.missing_message()


def _load(operation_id: int, number: int) -> ConventionVersion:
    _operation, convention = load_started(operation_id)
    return version_or_404(convention, number)


def _issue(version: ConventionVersion, kind: str, data: bytes, signatures: int, mimetype: str):
    """Record the file and the download, commit, and send it as an attachment."""
    issued = documents.record_issued(version, kind, data, by=current_user, signatures=signatures)
    if own_navigation():
        record(
            "convention.downloaded",
            actor=current_user,
            organisation=current_org(),
            obj=version,
            number=version.number,
            kind=kind,
            sha256=issued.sha256,
        )
    db.session.commit()
    # Cache-Control: no-store comes with every logged-in answer (portal/__init__.py).
    return send_file(
        BytesIO(data),
        mimetype=mimetype,
        as_attachment=True,
        download_name=documents.filename(version, kind),
    )


@bp.get("/versions/<int:number>/convention.docx")
@login_required
def download_docx(operation_id: int, number: int):
    """The version as a Word document: text, signatures and evidence as they stand now."""
    version = _load(operation_id, number)
    data = documents.convention_docx(version)
    signatures = len(valid_signatures(version))
    return _issue(version, documents.DOCX, data, signatures, documents.DOCX_MIMETYPE)


@bp.get("/versions/<int:number>/convention.pdf")
@login_required
def download_pdf(operation_id: int, number: int):
    """The same document as PDF (converted once, then served as kept), or a French page
    saying why it is not available (503, with ``Retry-After`` while another converts)."""
    version = _load(operation_id, number)
    docx = documents.convention_docx(version)
    signatures = len(valid_signatures(version))
    data = pdf.stored_pdf(version.id, docx)
    if data is None:
        if not pdf_conversion_available():
            return _unavailable(pdf.missing_message())
        version_id = version.id
        # End the read transaction: the conversion takes seconds and must hold no lock (the
        # audit chain is only written after it).
        db.session.commit()
        try:
            data = pdf.convert_once(version_id, docx)
        except pdf.PdfBusy as exc:
            return _unavailable(exc.message, retry_after=pdf.RETRY_AFTER_SECONDS)
        except pdf.PdfUnavailable as exc:
            return _unavailable(exc.message)
        version = db.session.get(ConventionVersion, version_id)
    return _issue(version, documents.PDF, data, signatures, pdf.PDF_MIMETYPE)


def _unavailable(message: str, *, retry_after: int | None = None):
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    return (
        render_template(
            "errors/error.html", status=503, title=_("PDF indisponible"), message=message
        ),
        503,
        headers,
    )
