"""Routes of evaluations, reviews and certification juries: the list with the attendance of
employers and tutors, planning one with its invitations, and after the event the
attendance and each trainee's result (two htmx widgets on the evaluation's page)."""

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import to_utc
from flask_login import current_user, login_required

from portal import htmx
from portal.accounts.access import current_org
from portal.core.actions import act, done, field_error, flash_redirect, form_page, form_refusal
from portal.core.errors import RuleError
from portal.core.time import utcnow
from portal.extensions import db
from portal.immersions import bp, evaluations, queries, rules
from portal.immersions.access import evaluation_or_404, require_carrier
from portal.immersions.forms import (
    AttendanceForm,
    EvaluationForm,
    choices,
    results_form,
)
from portal.operations.access import is_carrier, load_operation
from portal.recruitment.access import visible_trainees

PAGE = "immersions/evaluation.html"


@bp.get("/evaluations")
@login_required
def list_evaluations(operation_id: int):
    """The operation's evaluations and how many of them employers or tutors attended."""
    operation = load_operation(operation_id)
    return render_template(
        "immersions/evaluations.html",
        operation=operation,
        evaluations=queries.evaluations(operation),
        figures=queries.figures(operation),
        now=utcnow(),
        carrier=is_carrier(operation),
        running=operation.status in rules.RUNNING_STEPS,
    )


@bp.route("/evaluations/nouvelle", methods=["GET", "POST"])
@login_required
def create_evaluation(operation_id: int):
    """Plan an evaluation and invite employers' people and tutors (tutors preselected)."""
    operation = load_operation(operation_id)
    require_carrier(operation)
    people = evaluations.invitable_people(operation)
    tutors = [user.id for _employer, members in people for user, tutor in members if tutor]
    form = EvaluationForm(data={"invitee_ids": tutors} if request.method == "GET" else None)
    form.invitee_ids.choices = choices(
        (user.id, user.full_name) for _employer, members in people for user, _tutor in members
    )

    def page(error: str | None = None):
        return form_page(
            "immersions/evaluation_form.html",
            operation=operation,
            form=form,
            people=people,
            error=error,
        )

    if not form.validate_on_submit():
        return page()
    data = {
        "kind": form.kind.data,
        "held_at": to_utc(form.held_at.data),  # typed in Paris time, stored in UTC
        "place": form.place.data,
        "notes": form.notes.data,
        "invitee_ids": form.invitee_ids.data or [],
    }
    return act(
        lambda: (
            evaluations.create_evaluation(operation, data, by=current_user, org=current_org()).id
        ),
        success=lambda evaluation_id: flash_redirect(
            _("Évaluation planifiée : les personnes invitées sont prévenues."),
            url_for(
                "immersions.show_evaluation",
                operation_id=operation.id,
                evaluation_id=evaluation_id,
            ),
        ),
        failure=form_refusal(form, page),
    )


def _trainees(operation):
    """The trainees who get a result, limited to those the user may see."""
    visible = {t.id for t in db.session.scalars(visible_trainees(operation))}
    return [t for t in evaluations.evaluated_trainees(operation) if t.id in visible]


def _context(operation, evaluation, *, attendance_form=None, results=None, **extra) -> dict:
    carrier = is_carrier(operation)
    trainees = _trainees(operation)
    if results is None:
        initial = {}
        for result in evaluation.results:
            initial[f"outcome-{result.trainee_id}"] = result.outcome.value
            initial[f"blocks-{result.trainee_id}"] = result.blocks
            initial[f"comment-{result.trainee_id}"] = result.comment
        results = results_form(trainees, rules.outcomes_for(evaluation.kind), data=initial)
    if attendance_form is None:
        attended = [i.user_id for i in evaluation.invitations if i.attended]
        attendance_form = AttendanceForm(formdata=None, data={"attended_ids": attended})
    return {
        "operation": operation,
        "evaluation": evaluation,
        "held": evaluation.held_at <= utcnow(),
        "carrier": carrier,
        "trainees": trainees,
        "results_by_trainee": {r.trainee_id: r for r in evaluation.results},
        "results_form": results,
        "attendance_form": attendance_form,
        "notice": None,
        "error": None,
        **extra,
    }


@bp.get("/evaluations/<int:evaluation_id>")
@login_required
def show_evaluation(operation_id: int, evaluation_id: int):
    """The evaluation: when, where, who was invited and attended, each trainee's result."""
    operation = load_operation(operation_id)
    evaluation = evaluation_or_404(operation, evaluation_id)
    return render_template(PAGE, **_context(operation, evaluation))


def _answer(operation, evaluation, fragment: str, notice: str):
    """htmx: the widget with the notice; a plain form: back to the page (303)."""
    url = url_for(
        "immersions.show_evaluation", operation_id=operation.id, evaluation_id=evaluation.id
    )
    return done(
        notice,
        url,
        lambda: htmx.render(PAGE, fragment, **_context(operation, evaluation, notice=notice)),
    )


def _refused(operation, evaluation, fragment: str, error: str, **forms):
    """The widget again with what was typed (``forms``) and why it is refused (422)."""
    context = _context(operation, evaluation, error=error, **forms)
    return htmx.render(PAGE, fragment, 422, **context)


@bp.post("/evaluations/<int:evaluation_id>/presences")
@login_required
def record_evaluation_attendance(operation_id: int, evaluation_id: int):
    """After the event: who among the invited attended."""
    operation = load_operation(operation_id)
    evaluation = evaluation_or_404(operation, evaluation_id)
    require_carrier(operation)
    form = AttendanceForm()
    form.attended_ids.choices = choices(
        (i.user_id, i.user.full_name) for i in evaluation.invitations
    )
    fragment = "immersions/_attendance.html"
    if not form.validate_on_submit():
        error = _("Vérifiez les présences.")
        return _refused(operation, evaluation, fragment, error, attendance_form=form)
    return act(
        lambda: evaluations.record_attendance(
            evaluation, form.attended_ids.data or [], by=current_user, org=current_org()
        ),
        success=lambda count: _answer(
            operation, evaluation, fragment, _("Présences enregistrées : %(n)d.", n=count)
        ),
        failure=lambda refusal: _refused(
            operation, evaluation, fragment, refusal.message, attendance_form=form
        ),
    )


@bp.post("/evaluations/<int:evaluation_id>/resultats")
@login_required
def record_evaluation_results(operation_id: int, evaluation_id: int):
    """After the event: each trainee's result; a jury's full certification certifies."""
    operation = load_operation(operation_id)
    evaluation = evaluation_or_404(operation, evaluation_id)
    require_carrier(operation)
    trainees = _trainees(operation)
    form = results_form(trainees, rules.outcomes_for(evaluation.kind))
    fragment = "immersions/_results.html"
    if not form.validate_on_submit():
        return _refused(operation, evaluation, fragment, _("Vérifiez les résultats."), results=form)
    by_id = {t.id: t for t in trainees}
    rows = [dict(row, trainee=by_id[row["trainee_id"]]) for row in form.rows()]

    def refused(refusal: RuleError):
        field_error(form, refusal)  # and above the widget, where the focus goes
        return _refused(operation, evaluation, fragment, refusal.message, results=form)

    return act(
        lambda: evaluations.record_results(evaluation, rows, by=current_user, org=current_org()),
        success=lambda count: _answer(
            operation, evaluation, fragment, _("Résultats enregistrés : %(n)d.", n=count)
        ),
        failure=refused,
    )
