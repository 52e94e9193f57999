"""Downloading the « Bilan de l'opération » (DOCX, or PDF through LibreOffice), for the
operation's participants — it holds figures, never a trainee's name. GETs that write
nothing in the database: the PDF is kept on disk, converted once per distinct DOCX by a
background job, followed in a page until it is there (``pdf_pages``)."""

from io import BytesIO

from flask import send_file, url_for
from flask_babel import gettext as _
from flask_login import login_required

from portal.conventions import pdf
from portal.conventions.pdf_pages import pdf_response, retry_response
from portal.core import jobs
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
    """The same document as PDF once converted; until then a page that polls while a job
    converts it, or says why it failed (``pdf_pages``)."""
    operation = load_operation(operation_id)

    def send(data: bytes):
        name = filename(operation, "pdf")
        return send_file(
            BytesIO(data), mimetype=pdf.PDF_MIMETYPE, as_attachment=True, download_name=name
        )

    return pdf_response(
        operation.id,
        lambda: bilan_docx(operation),
        PDF_FOLDER,
        send=send,
        available=jobs.on_queue() or pdf.soffice() is not None,
        title=_("Bilan de l'opération (PDF)"),
        back_url=url_for("operations.show_operation", operation_id=operation_id),
        back_label=_("Retour à l'opération"),
        **_pdf_urls(operation_id),
    )


@bp.post("/operations/<int:operation_id>/bilan.pdf/reessayer")
@login_required
def retry_bilan_pdf(operation_id: int):
    """Queue a failed conversion of the bilan again; back to the page that follows it."""
    operation = load_operation(operation_id)
    return retry_response(
        operation.id, bilan_docx(operation), PDF_FOLDER, **_pdf_urls(operation_id)
    )


def _pdf_urls(operation_id: int) -> dict:
    return {
        "pdf_url": url_for("reporting.download_bilan_pdf", operation_id=operation_id),
        "retry_url": url_for("reporting.retry_bilan_pdf", operation_id=operation_id),
    }
