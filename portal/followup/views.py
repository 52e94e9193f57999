"""Routes of the operation's employment follow-up: the list of the trainees' follow-ups at
exit, +3 and +6 months (filtered by state with htmx), one milestone's page (the answers
side by side, their history, contact attempts) and its three actions — answer, record an
attempt, reconcile — each answered with the milestone's widget (htmx) or a redirect.

Every page showing a follow-up writes the trainee access log: GET requests commit that
and nothing else.
"""

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import htmx
from portal.accounts.access import current_org, require
from portal.core.actions import act, done, field_error
from portal.core.errors import RuleError
from portal.core.memo import remember_read
from portal.extensions import db
from portal.followup import bp, queries, rules, services
from portal.followup.access import answering_party, load_milestone, visible_followups
from portal.followup.context import (
    answer_form,
    milestone_context,
    reconcile_form,
    state_filter,
    written_form,
)
from portal.followup.forms import WRITTEN, AttemptForm
from portal.followup.models import MilestoneKind
from portal.operations.access import can_steer, is_carrier, load_operation, with_access
from portal.operations.models import Operation

PAGE = "followup/list.html"
RESULTS = "followup/_results.html"
MILESTONE_PAGE = "followup/milestone.html"
MILESTONE = "followup/_milestone.html"


@bp.get("/suivi-emploi")
@login_required
def list_followups(operation_id: int):
    """The follow-ups the user may see, three milestones a trainee, filtered by state (htmx
    swaps the results only); the indicators for the organisme porteur and the Région."""
    operation = load_operation(operation_id, loader=with_access())
    filters, state = state_filter()
    today, window = rules.today(), rules.window_days()
    page, rows = queries.operation_page(operation, state, today=today, window=window)
    queries.log_list_access(page.items, current_user, current_org())
    context = {
        "operation": operation,
        "filters": filters,
        "state": state,
        "pagination": page,
        "rows": rows,
        "today": today,
        "kinds": list(MilestoneKind),
    }
    if htmx.is_htmx():
        response = htmx.render(PAGE, RESULTS, **context)
    else:
        steer = can_steer(operation)
        response = render_template(
            PAGE,
            counts=queries.state_counts(visible_followups(operation), today=today, window=window),
            indicators=services.indicators(operation) if steer else None,
            window=window,
            **context,
        )
    db.session.commit()  # the access log lines
    return response


def _answer(operation: Operation, milestone, status: int = 200, **overrides):
    """The milestone's page (htmx: its widget), then the commit that keeps the access log."""
    context = milestone_context(operation, milestone, **overrides)
    response = htmx.render(MILESTONE_PAGE, MILESTONE, status, **context)
    db.session.commit()
    return response


def _refused(operation: Operation, milestone_id: int, **overrides):
    """A refused action: nothing of it is kept (``act`` rolled the service back; a refused
    form is rolled back here), the view of the follow-up is."""
    db.session.rollback()
    milestone = load_milestone(operation, milestone_id, current_user)
    return _answer(operation, milestone, 422, **overrides)


def _done(operation: Operation, milestone_id: int, notice: str):
    """After a change (committed by ``act``): htmx gets the widget with the notice, a plain
    form goes back to the milestone's page."""
    url = url_for("followup.show_milestone", operation_id=operation.id, milestone_id=milestone_id)
    return done(
        notice,
        url,
        lambda: _answer(
            operation, load_milestone(operation, milestone_id, current_user), notice=notice
        ),
    )


def _form_refusal(operation: Operation, milestone_id: int, form, name: str, message: str):
    """The failure answer of one of the widget's forms: the refusal under its field (and
    ``message`` above the widget), or above the widget when no field takes it."""

    def refused(refusal: RuleError):
        error = field_error(form, refusal) or message
        return _refused(operation, milestone_id, error=error, **{name: form})

    return refused


def _require_party(milestone) -> None:
    """403 for those who see the follow-up but do not answer it (the Région, a member of
    the employer who is not its admin)."""
    require(answering_party(milestone.trainee, current_user, current_org()) is not None)


@bp.get("/suivi-emploi/<int:milestone_id>")
@login_required
def show_milestone(operation_id: int, milestone_id: int):
    """One follow-up: due date, answers side by side and their history, the retained
    answer and its source, contact attempts, and the forms of whoever may act."""
    operation = load_operation(operation_id)
    milestone = load_milestone(operation, milestone_id, current_user)
    return _answer(operation, milestone)


@bp.post("/suivi-emploi/<int:milestone_id>/reponse")
@login_required
def answer_milestone(operation_id: int, milestone_id: int):
    """Record the current organisation's answer (a new row, the earlier ones are kept)."""
    operation = load_operation(operation_id)
    milestone = load_milestone(operation, milestone_id, current_user)
    _require_party(milestone)
    form = answer_form(milestone, request.form)
    message = _("Vérifiez la réponse.")
    if not form.validate_on_submit():
        return _refused(operation, milestone_id, answer_form=form, error=message)
    return act(
        lambda: services.record_answer(
            milestone, form.to_data(), by=current_user, org=current_org()
        ),
        success=lambda _answer: _done(operation, milestone_id, _("Réponse enregistrée.")),
        failure=_form_refusal(operation, milestone_id, form, "answer_form", message),
    )


@bp.post("/suivi-emploi/<int:milestone_id>/tentative")
@login_required
def add_attempt(operation_id: int, milestone_id: int):
    """Note a try to reach the person (date, channel, note)."""
    operation = load_operation(operation_id)
    milestone = load_milestone(operation, milestone_id, current_user)
    _require_party(milestone)
    form = AttemptForm(prefix="tentative")
    message = _("Vérifiez la tentative de contact.")
    if not form.validate_on_submit():
        return _refused(operation, milestone_id, attempt_form=form, error=message)
    data = {
        "attempted_on": form.attempted_on.data,
        "channel": form.channel.data,
        "note": form.note.data or "",
    }
    return act(
        lambda: services.record_attempt(milestone, data, by=current_user, org=current_org()),
        success=lambda _attempt: _done(
            operation, milestone_id, _("Tentative de contact enregistrée.")
        ),
        failure=_form_refusal(operation, milestone_id, form, "attempt_form", message),
    )


@bp.post("/suivi-emploi/<int:milestone_id>/rapprochement")
@login_required
def reconcile_milestone(operation_id: int, milestone_id: int):
    """The organisme porteur retains one of the disagreeing answers, or writes it, with a
    note; a decision taken on a page that is no longer up to date is refused."""
    operation = load_operation(operation_id)
    milestone = load_milestone(operation, milestone_id, current_user)
    require(is_carrier(operation))
    counted = rules.considered(milestone.answers)
    form = reconcile_form(milestone, counted, request.form)
    written = written_form(milestone, request.form)
    choice = form.choice.data
    valid = form.validate_on_submit()
    if choice == WRITTEN:
        valid = written.validate() and valid
    forms = {"reconcile_form": form, "written_form": written}
    message = _("Vérifiez le rapprochement.")
    if not valid:
        return _refused(operation, milestone_id, error=message, **forms)

    def refused(refusal: RuleError):
        if isinstance(refusal, services.StaleMilestone):
            # The answers as they are now, with a fresh form: the old choice may be moot.
            return _refused(operation, milestone_id, error=refusal.message)
        # The note and the choice are the decision's; the other fields, the written answer's.
        error = field_error(form if refusal.field in form else written, refusal)
        return _refused(operation, milestone_id, error=error or message, **forms)

    return act(
        lambda: services.reconcile(
            milestone,
            seen_version=form.seen_version(),
            note=form.note.data,
            answer_id=int(choice) if choice != WRITTEN else None,
            written=written.to_data() if choice == WRITTEN else None,
            by=current_user,
            org=current_org(),
        ),
        success=lambda _retained: _done(operation, milestone_id, _("Réponse retenue enregistrée.")),
        failure=refused,
    )


@bp.app_template_global()
def followup_card(operation: Operation) -> dict | None:
    """What the operation page says of the end of training and the follow-up (None before
    the training)."""
    reads = queries.card_reads(operation)
    if not reads:
        return None
    return {"figures": remember_read(reads[0]), "carrier": is_carrier(operation)}
