"""Routes of the « Fin de formation » page: each trainee's exit (date, reason, details) and
certification result, recorded by the organisme porteur in place (an htmx widget per
trainee, ``followup/_exit.html``); without JS the same form has a page of its own.

Opening one trainee's exit opens their record: the access log is written.
"""

from flask import flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import htmx
from portal.accounts.access import current_org, require
from portal.core.actions import act, field_error, flash_redirect
from portal.core.pagination import paginate
from portal.extensions import db
from portal.followup import bp, exits, rules
from portal.followup.forms import ExitForm
from portal.operations.access import is_carrier, load_operation
from portal.operations.models import Operation
from portal.recruitment.access import load_trainee, log_access, visible_trainees
from portal.recruitment.models import Trainee

PAGE = "followup/exits.html"
EXIT_PAGE = "followup/exit.html"
EXIT = "followup/_exit.html"


def _form(trainee: Trainee, formdata=None) -> ExitForm:
    data = None
    if formdata is None:
        data = {
            "exit_date": trainee.exit_date,
            "exit_reason": trainee.exit_reason.value if trainee.exit_reason else "",
            "exit_detail": trainee.exit_detail,
        }
    return ExitForm(formdata=formdata, data=data, prefix=f"sortie{trainee.id}")


def _row_context(operation: Operation, trainee: Trainee, **overrides) -> dict:
    carrier = is_carrier(operation)
    context = {
        "operation": operation,
        "trainee": trainee,
        "result": exits.certification_results([trainee.id]).get(trainee.id),
        "carrier": carrier,
        "recording": operation.status in rules.RECORDING_STEPS,
        "with_exit": exits.WITH_EXIT,
        "form": None,
        "notice": None,
        "notes": [],
        "error": None,
    }
    context.update(overrides)
    return context


def _answer(operation: Operation, trainee: Trainee, status: int = 200, **overrides):
    """The trainee's widget (htmx) or its page, then the commit of the access log."""
    context = _row_context(operation, trainee, **overrides)
    response = htmx.render(EXIT_PAGE, EXIT, status, **context)
    db.session.commit()
    return response


@bp.get("/fin-de-formation")
@login_required
def list_exits(operation_id: int):
    """The trainees the user may see who entered (or were retained for) the training, with
    their exit and certification result; the organisme porteur records the exits here."""
    operation = load_operation(operation_id)
    query = visible_trainees(operation).where(Trainee.status.in_(exits.LISTED))
    page = paginate(query.order_by(Trainee.last_name, Trainee.first_name, Trainee.id))
    return render_template(
        PAGE,
        operation=operation,
        pagination=page,
        trainees=page.items,
        results=exits.certification_results(t.id for t in page.items),
        carrier=is_carrier(operation),
        recording=operation.status in rules.RECORDING_STEPS,
        with_exit=exits.WITH_EXIT,
        problems=exits.exit_problems(operation) if is_carrier(operation) else [],
    )


@bp.get("/fin-de-formation/<int:trainee_id>")
@login_required
def show_exit(operation_id: int, trainee_id: int):
    """One trainee's exit and certification (htmx: the widget, e.g. after « Annuler »)."""
    operation = load_operation(operation_id)
    trainee = load_trainee(operation.id, trainee_id, current_user)
    return _answer(operation, trainee)


@bp.route("/fin-de-formation/<int:trainee_id>/modification", methods=["GET", "POST"])
@login_required
def edit_exit(operation_id: int, trainee_id: int):
    """Record or correct a trainee's exit (organisme porteur): its three follow-ups are
    scheduled from the exit date."""
    operation = load_operation(operation_id)
    trainee = load_trainee(operation.id, trainee_id, current_user)
    require(is_carrier(operation))
    if request.method == "GET":
        return _answer(operation, trainee, form=_form(trainee))
    form = ExitForm(prefix=f"sortie{trainee.id}")
    message = _("Vérifiez la sortie.")
    if not form.validate_on_submit():
        return _refused(operation, trainee_id, form=form, error=message)
    return act(
        lambda: exits.record_exit(
            trainee,
            exit_date=form.exit_date.data,
            reason=form.reason(),
            detail=form.exit_detail.data or "",
            by=current_user,
            org=current_org(),
        ),
        success=lambda notes: _recorded(operation, trainee_id, notes),
        failure=lambda refusal: _refused(
            operation, trainee_id, form=form, error=field_error(form, refusal) or message
        ),
    )


def _recorded(operation: Operation, trainee_id: int, notes: list[str]):
    """After an exit (committed by ``act``): htmx gets the widget with the notice and the
    notes (a freed promise), a plain form goes back to the list."""
    notice = _("Sortie enregistrée : les suivis à la sortie, à 3 et 6 mois sont programmés.")
    if htmx.is_htmx():
        trainee = load_trainee(operation.id, trainee_id, current_user)
        return _answer(operation, trainee, notice=notice, notes=notes)
    for note in notes:
        flash(note, "warning")
    url = url_for("followup.list_exits", operation_id=operation.id, _anchor=f"sortie-{trainee_id}")
    return flash_redirect(notice, url)


def _refused(operation: Operation, trainee_id: int, **overrides):
    """A refused exit: nothing of it is kept, the opening of the record is."""
    db.session.rollback()
    trainee = db.session.get(Trainee, trainee_id)
    log_access(trainee, current_user)
    return _answer(operation, trainee, 422, **overrides)
