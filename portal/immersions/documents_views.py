"""Downloads of the « Feuille de retour d'expérience » and the « Attestation de stage »,
for those who may see the trainee; each download goes to the access log as an export."""

from flask import Response, abort
from flask_login import current_user, login_required

from portal.accounts.access import require
from portal.design.documents import DOCX_MIMETYPE
from portal.extensions import db
from portal.immersions import bp, documents
from portal.immersions.access import debrief_or_404, immersion_or_404
from portal.operations.access import load_operation
from portal.recruitment.access import can_view_trainee, log_access


def _attachment(content: bytes, filename: str) -> Response:
    response = Response(content, mimetype=DOCX_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/retours/<int:debrief_id>/stagiaires/<int:trainee_id>/feuille.docx")
@login_required
def debrief_sheet_docx(operation_id: int, debrief_id: int, trainee_id: int):
    """One trainee's debrief sheet (DOCX)."""
    operation = load_operation(operation_id)
    debrief = debrief_or_404(operation, debrief_id)
    line = next((t for t in debrief.trainees if t.trainee_id == trainee_id), None)
    if line is None:
        abort(404)
    require(can_view_trainee(line.trainee))
    content = documents.debrief_sheet_docx(debrief, line.trainee)
    log_access(line.trainee, current_user, "export")
    db.session.commit()
    return _attachment(content, documents.sheet_filename(debrief, line.trainee))


@bp.get("/immersions/<int:immersion_id>/attestation.docx")
@login_required
def internship_certificate_docx(operation_id: int, immersion_id: int):
    """The internship certificate of one immersion (DOCX)."""
    operation = load_operation(operation_id)
    immersion = immersion_or_404(operation, immersion_id)
    content = documents.internship_certificate_docx(immersion)
    log_access(immersion.trainee, current_user, "export")
    db.session.commit()
    return _attachment(content, documents.certificate_filename(immersion))
