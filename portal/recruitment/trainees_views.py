"""A trainee's record: identity, contact, prescriber, public, status and its history, the
promise matched — and, for the organisme porteur, the forms that change them.

Every opening of a record is logged (``load_trainee``): GET requests commit that log line
and nothing else. The record's actions are one htmx widget (``_trainee_record.html``);
without JS the same forms post and redirect (303), or answer the page with the error.
"""

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from portal import htmx
from portal.accounts.access import current_org, require
from portal.accounts.forms import EmptyForm
from portal.core.actions import act, field_error, flash_redirect, form_page
from portal.core.errors import RuleError
from portal.core.french import de
from portal.core.layout import facts_read
from portal.core.memo import prefetch
from portal.extensions import db
from portal.immersions.services import skills_read
from portal.operations.access import is_region
from portal.operations.needs import TARGET_PUBLICS
from portal.recruitment import bp, opinions, queries, rules, services
from portal.recruitment.access import can_see_personal, is_provider_of, load_trainee, log_access
from portal.recruitment.forms import MatchForm, StatusForm, TraineeForm
from portal.recruitment.models import JobPromise, Proposal, Trainee

PAGE = "recruitment/trainee.html"
RECORD = "recruitment/_trainee_record.html"
EDIT_PAGE = "recruitment/edit_trainee.html"

# What the record shows of the trainee, read with it (issue #16: one query each, lazily).
RECORD_LOADS = (
    joinedload(Trainee.prescriber),
    joinedload(Trainee.promise).joinedload(JobPromise.organisation),
    joinedload(Trainee.proposal).joinedload(Proposal.proposed_by),
    joinedload(Trainee.proposal).joinedload(Proposal.organisation),
)

# Templates show a trainee's personal details only where this allows (issue #11 M8).
bp.add_app_template_global(can_see_personal)


def _status_form(trainee: Trainee, formdata=None) -> StatusForm:
    form = StatusForm(formdata=formdata)
    form.set_choices(trainee.status)
    return form


def _match_form(trainee: Trainee, formdata=None) -> MatchForm:
    form = MatchForm(formdata=formdata)
    form.set_choices(queries.open_promises(trainee.operation, trainee))
    return form


def _context(trainee: Trainee, **overrides) -> dict:
    operation = trainee.operation
    carrier = is_provider_of(operation)
    context = {
        "operation": operation,
        "trainee": trainee,
        "history": queries.history(trainee),
        "carrier": carrier,
        "region": is_region(),
        # Before retaining, the organisme porteur (and the Région) read every opinion.
        "opinions": opinions.opinions_of(trainee) if carrier or is_region() else [],
        "publics": TARGET_PUBLICS,
        "can_record": carrier and operation.status in rules.RECORDING_STEPS,
        "can_change_status": carrier and bool(rules.targets(trainee.status)) and operation.is_open,
        "matchable": trainee.status in rules.MATCHABLE,
        "status_form": None,
        "match_form": None,
        "notice": None,
        "notes": [],
        "error": None,
    }
    if carrier:
        context["status_form"] = _status_form(trainee)
        context["match_form"] = _match_form(trainee)
    context.update(overrides)
    return context


def _answer(trainee: Trainee, *, status: int = 200, **overrides):
    """The record (htmx: the widget alone), then the commit that keeps the access log."""
    response = htmx.render(PAGE, RECORD, status, **_context(trainee, **overrides))
    db.session.commit()
    return response


def _refused(trainee: Trainee, message: str, **overrides):
    """A refused action: nothing of it is kept (``act`` rolled the service back; a refused
    form is rolled back here), but the opening of the record is."""
    db.session.rollback()
    log_access(trainee, current_user)
    return _answer(trainee, status=422, error=message, **overrides)


def _done(trainee: Trainee, notice: str, notes: list[str] | None = None):
    """After a change (committed by ``act``): htmx re-renders the record with the notice
    and its notes; a plain form is redirected to the record."""
    if htmx.is_htmx():
        return _answer(trainee, notice=notice, notes=notes or [])
    flash(notice, "success")
    for note in notes or []:
        flash(note, "warning")
    return redirect(
        url_for(
            "recruitment.show_trainee", operation_id=trainee.operation_id, trainee_id=trainee.id
        ),
        303,
    )


def _carrier_trainee(operation_id: int, trainee_id: int) -> Trainee:
    trainee = load_trainee(operation_id, trainee_id, current_user)
    require(is_provider_of(trainee))
    return trainee


@bp.get("/stagiaires/<int:trainee_id>")
@login_required
def show_trainee(operation_id: int, trainee_id: int):
    """The trainee's record, for those who may see it (each view is logged)."""
    trainee = load_trainee(operation_id, trainee_id, current_user, RECORD_LOADS)
    if not htmx.is_htmx():
        # The layout's facts and the path's skills (``immersions/_trainee_path.html``) in
        # one statement, once the access log line is written: the memo keeps nothing while
        # a change is pending.
        db.session.flush()
        prefetch(facts_read(), skills_read(trainee.operation))
    return _answer(trainee)


@bp.route("/stagiaires/<int:trainee_id>/modification", methods=["GET", "POST"])
@login_required
def edit_trainee(operation_id: int, trainee_id: int):
    """Correct the trainee's identity, contact, prescriber or public (organisme porteur)."""
    trainee = _carrier_trainee(operation_id, trainee_id)
    form = TraineeForm(obj=trainee if request.method == "GET" else None)
    form.set_choices(*queries.prescribers(trainee.operation))

    def page(error: str | None = None):
        response = form_page(
            EDIT_PAGE, operation=trainee.operation, trainee=trainee, form=form, error=error
        )
        db.session.commit()  # the access log line
        return response

    def refused(refusal: RuleError):
        log_access(trainee, current_user)  # the rollback dropped this opening's log line
        return page(field_error(form, refusal))

    if not form.validate_on_submit():
        return page()
    url = url_for("recruitment.show_trainee", operation_id=operation_id, trainee_id=trainee.id)
    return act(
        lambda: services.update_trainee(
            trainee, form.to_data(), by=current_user, org=current_org()
        ),
        success=lambda changed: flash_redirect(
            _("Fiche enregistrée.") if changed else _("Aucune modification."), url
        ),
        failure=refused,
    )


@bp.post("/stagiaires/<int:trainee_id>/statut")
@login_required
def change_status(operation_id: int, trainee_id: int):
    """Change the trainee's status (an exit needs its date and reason)."""
    trainee = _carrier_trainee(operation_id, trainee_id)
    form = _status_form(trainee, formdata=request.form)
    target = form.target()
    if not form.validate_on_submit() or target is None:
        errors = [e for name, es in form.errors.items() if name != "status" for e in es]
        message = errors[0] if errors else _("Choisissez le nouveau statut.")
        return _refused(trainee, message, status_form=form)

    def refused(refusal: RuleError):
        if refusal.field in ("exit_date", "exit_reason"):
            form[refusal.field].errors = [refusal.message]
        return _refused(trainee, refusal.message, status_form=form)

    return act(
        lambda: services.change_status(
            trainee,
            target,
            by=current_user,
            org=current_org(),
            exit_date=form.exit_date.data,
            exit_reason=form.reason(),
            comment=form.comment.data or "",
        ),
        success=lambda notes: _done(
            trainee, _("Statut enregistré : %(s)s.", s=target.title), notes
        ),
        failure=refused,
    )


@bp.post("/stagiaires/<int:trainee_id>/promesse")
@login_required
def match_trainee(operation_id: int, trainee_id: int):
    """Place the trainee on an open promise of the operation (one promise, one trainee)."""
    trainee = _carrier_trainee(operation_id, trainee_id)
    form = _match_form(trainee, formdata=request.form)
    # Validated first: only an open promise's id is looked up (a number of any size was,
    # and made the database driver overflow: a 500, found by the fuzz of issue #17).
    valid = form.validate_on_submit()
    chosen = form.promise_id.data if valid else None
    promise = db.session.get(JobPromise, chosen) if chosen is not None else None
    if promise is None:
        return _refused(trainee, _("Choisissez une promesse d'embauche."), match_form=form)
    return act(
        lambda: services.match_trainee(trainee, promise, by=current_user, org=current_org()),
        success=lambda _result: _done(
            trainee,
            _(
                "Positionné·e sur la promesse « %(job)s » %(of_employer)s.",
                job=promise.job_title,
                of_employer=de(promise.organisation.name),
            ),
        ),
        failure=lambda refusal: _refused(trainee, refusal.message),
    )


@bp.post("/stagiaires/<int:trainee_id>/retrait-promesse")
@login_required
def unmatch_trainee(operation_id: int, trainee_id: int):
    """Take the trainee off their promise, which is open again."""
    trainee = _carrier_trainee(operation_id, trainee_id)
    if not EmptyForm().validate_on_submit():
        return _refused(trainee, _("Le formulaire a expiré : rechargez la page."))
    return act(
        lambda: services.unmatch_trainee(trainee, by=current_user, org=current_org()).job_title,
        success=lambda job: _done(
            trainee,
            _(
                "Positionnement retiré : la promesse « %(job)s » est de nouveau à pourvoir.",
                job=job,
            ),
        ),
        failure=lambda refusal: _refused(trainee, refusal.message),
    )
