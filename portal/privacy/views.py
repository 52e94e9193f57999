"""A trainee's rights (RGPD art. 15 to 17): what is held on them, its export (JSON and
Word), the way to rectification and the erasure on request.

For the organisme porteur and the Région, and the prescriber who oriented the trainee
(export only): those who may read the personal details (``can_see_personal``). A host
employer is refused (403), an outsider of the operation gets 404 (``load_trainee``).
Exporting and erasing ask for the password again past ``REAUTH_MINUTES``; each is audited
and written to the trainee's access log. URLs carry ids only.
"""

from flask import Response, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.accounts import reauth
from portal.accounts.access import current_org, require
from portal.accounts.forms import EmptyForm
from portal.audit.services import record
from portal.core.actions import act, flash_redirect
from portal.core.errors import RuleError
from portal.core.time import utcnow
from portal.extensions import db
from portal.operations.access import is_region
from portal.privacy import bp, export
from portal.privacy.anonymise import erase_on_request, erasure_refusal
from portal.recruitment.access import can_see_personal, is_provider_of, load_trainee, log_access
from portal.recruitment.models import Trainee

PREFIX = (
    "/operations/<int:operation_id>/recrutement/stagiaires/<int:trainee_id>/donnees-personnelles"
)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _trainee(operation_id: int, trainee_id: int) -> Trainee:
    trainee = load_trainee(operation_id, trainee_id, current_user)
    require(can_see_personal(trainee))
    return trainee


def may_erase(trainee: Trainee) -> bool:
    """The organisme porteur or the Région: those answerable for the trainee's data."""
    return is_provider_of(trainee) or is_region()


@bp.get(PREFIX)
@login_required
def show_trainee_data(operation_id: int, trainee_id: int):
    """What the portal holds on the trainee, and the actions their rights give."""
    trainee = _trainee(operation_id, trainee_id)
    response = render_template(
        "privacy/trainee_data.html",
        operation=trainee.operation,
        trainee=trainee,
        carrier=is_provider_of(trainee),
        may_erase=may_erase(trainee),
        refusal=erasure_refusal(trainee, utcnow().date()),
        form=EmptyForm(),
        counts={table: len(rows) for table, rows in export.gather(trainee)["data"].items()},
        titles=export.TITLES,
    )
    db.session.commit()  # the access log line
    return response


def _export(operation_id: int, trainee_id: int, fmt: str):
    trainee = _trainee(operation_id, trainee_id)
    answer = reauth.required(current_user, request.full_path.rstrip("?"))
    if answer is not None:
        db.session.rollback()
        return answer
    body = export.to_json(trainee) if fmt == "json" else export.to_docx(trainee)
    log_access(trainee, current_user, action="export")
    record("trainee.exported", actor=current_user, organisation=current_org(), obj=trainee, fmt=fmt)
    db.session.commit()
    name = export.filename(trainee, fmt)
    mimetype = "application/json" if fmt == "json" else DOCX
    return Response(
        body,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@bp.get(f"{PREFIX}/export.json")
@login_required
def export_trainee_json(operation_id: int, trainee_id: int):
    """Everything held on the trainee as JSON (re-authentication, audited)."""
    return _export(operation_id, trainee_id, "json")


@bp.get(f"{PREFIX}/export.docx")
@login_required
def export_trainee_docx(operation_id: int, trainee_id: int):
    """Everything held on the trainee as a Word document (re-authentication, audited)."""
    return _export(operation_id, trainee_id, "docx")


@bp.post(f"{PREFIX}/effacement")
@login_required
def erase_trainee(operation_id: int, trainee_id: int):
    """Anonymise the trainee on their request, when no retention holds their data."""
    trainee = _trainee(operation_id, trainee_id)
    require(may_erase(trainee))
    url = url_for("privacy.show_trainee_data", operation_id=operation_id, trainee_id=trainee_id)
    answer = reauth.required(current_user, url)
    if answer is not None:
        db.session.rollback()
        return answer

    def refused(refusal: RuleError):
        log_access(trainee, current_user)  # the rollback dropped this request's log line
        db.session.commit()
        return flash_redirect(refusal.message, url, "error")

    return act(
        lambda: erase_on_request(trainee, utcnow().date(), by=current_user, org=current_org()),
        success=lambda _done: flash_redirect(
            _("Les données de la personne sont effacées : sa fiche porte désormais un pseudonyme."),
            url,
        ),
        failure=refused,
    )
