"""Downloading the « Bilan de l'opération » (DOCX, or PDF through LibreOffice), for the
operation's participants — it holds figures, never a trainee's name. GETs that write
nothing in the database: the PDF is kept on disk, converted once per distinct DOCX."""

from io import BytesIO

from flask import render_template, send_file
from flask_babel import gettext as _
from flask_login import login_required

from portal.conventions import pdf
from portal.extensions import db
from portal.operations.access import load_operation
from portal.reporting import bp
from portal.reporting.bilan import DOCX_MIMETYPE, bilan_docx, filename

PDF_FOLDER = "bilans"


@bp.get("/operations/<int:operation_id>/bilan.docx")
@login_required
def download_bilan(operation_id: int):
    """The bilan as a Word document."""
    operation = load_operation(operation_id)
    return send_file(
        BytesIO(bilan_docx(operation)),
        mimetype=DOCX_MIMETYPE,
        as_attachment=True,
        download_name=filename(operation),
    )


@bp.get("/operations/<int:operation_id>/bilan.pdf")
@login_required
def download_bilan_pdf(operation_id: int):
    """The same document as PDF, or a French page saying why it is not available (503,
    with ``Retry-After`` while another conversion runs)."""
    operation = load_operation(operation_id)
    docx = bilan_docx(operation)
    data = pdf.stored_pdf(operation.id, docx, PDF_FOLDER)
    name = filename(operation, "pdf")
    if data is None:
        if pdf.soffice() is None:
            return _unavailable(pdf.missing_message())
        # End the read transaction: the conversion takes seconds and must hold no lock.
        db.session.commit()
        try:
            data = pdf.convert_once(operation_id, docx, PDF_FOLDER)
        except pdf.PdfBusy as exc:
            return _unavailable(exc.message, retry_after=pdf.RETRY_AFTER_SECONDS)
        except pdf.PdfUnavailable as exc:
            return _unavailable(exc.message)
    return send_file(
        BytesIO(data), mimetype=pdf.PDF_MIMETYPE, as_attachment=True, download_name=name
    )


def _unavailable(message: str, *, retry_after: int | None = None):
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    page = render_template(
        "errors/error.html", status=503, title=_("PDF indisponible"), message=message
    )
    return page, 503, headers
