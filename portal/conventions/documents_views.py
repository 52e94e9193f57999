"""Downloading a version of the convention as DOCX or PDF, for the operation's participants.

Each download is evidence: the file's SHA-256 is recorded once per distinct file
(``IssuedDocument``, so that the public page can verify any copy) and every download the
user made themselves is audited (``convention.downloaded``; not for a link on another
site, see ``portal.security.own_navigation``). These GETs write only those evidence
tables, as the route inventory allows. The PDF is converted once per distinct DOCX and
kept, by a background job (``pdf.request_conversion``): until it is there, the PDF's URL answers a
page that polls it, and never records a download. The DOCX itself is built once per state
of the version and kept (``documents.stored_docx``).
"""

from io import BytesIO

from flask import send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.accounts.access import current_org
from portal.audit.services import record
from portal.conventions import bp, documents, pdf
from portal.conventions.context import load_started
from portal.conventions.models import ConventionVersion
from portal.conventions.pdf_pages import pdf_response, retry_response
from portal.conventions.services import valid_signatures
from portal.conventions.version_context import version_or_404
from portal.core import jobs
from portal.extensions import db
from portal.security import own_navigation


@bp.app_template_global()
def pdf_conversion_available() -> bool:
    """True when LibreOffice can turn the DOCX into a PDF (templates grey the button out):
    with RQ, the workers convert, on hosts of their own (a job says if it is missing)."""
    return jobs.on_queue() or pdf.soffice() is not None


@bp.app_template_global()
def pdf_missing_message() -> str:
    """Why the PDF button is disabled, in French."""
    return pdf.missing_message()


def _load(operation_id: int, number: int) -> ConventionVersion:
    _operation, convention = load_started(operation_id)
    return version_or_404(convention, number)


def _issue(version: ConventionVersion, kind: str, data: bytes, signatures: int, mimetype: str):
    """Record the file and the download, commit, and send it as an attachment."""
    name = documents.filename(version, kind)  # before the commit expires the version
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
        download_name=name,
    )


@bp.get("/versions/<int:number>/convention.docx")
@login_required
def download_docx(operation_id: int, number: int):
    """The version as a Word document: text, signatures and evidence as they stand now."""
    version = _load(operation_id, number)
    data = documents.stored_docx(version)
    signatures = len(valid_signatures(version))
    return _issue(version, documents.DOCX, data, signatures, documents.DOCX_MIMETYPE)


@bp.get("/versions/<int:number>/convention.pdf")
@login_required
def download_pdf(operation_id: int, number: int):
    """The same document as PDF once converted; until then a page that polls while a job
    converts it (htmx: the fragment alone, never the file), or says why it failed."""
    version = _load(operation_id, number)

    def send(data: bytes):
        signatures = len(valid_signatures(version))
        return _issue(version, documents.PDF, data, signatures, pdf.PDF_MIMETYPE)

    return pdf_response(
        version.id,
        lambda: documents.stored_docx(version),
        pdf.CONVENTIONS,
        send=send,
        available=pdf_conversion_available(),
        title=_(
            "Convention %(reference)s, version %(n)s (PDF)",
            reference=version.convention.reference,
            n=number,
        ),
        back_url=url_for("conventions.show_version", operation_id=operation_id, number=number),
        back_label=_("Retour à la version %(n)s", n=number),
        **_pdf_urls(operation_id, number),
    )


@bp.post("/versions/<int:number>/convention.pdf/reessayer")
@login_required
def retry_pdf(operation_id: int, number: int):
    """Queue a failed conversion again; back to the page that follows it."""
    version = _load(operation_id, number)
    docx = documents.stored_docx(version)
    return retry_response(version.id, docx, pdf.CONVENTIONS, **_pdf_urls(operation_id, number))


def _pdf_urls(operation_id: int, number: int) -> dict:
    return {
        "pdf_url": url_for("conventions.download_pdf", operation_id=operation_id, number=number),
        "retry_url": url_for("conventions.retry_pdf", operation_id=operation_id, number=number),
    }
