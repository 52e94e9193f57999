"""Routes of a meeting's page: attendance, the minutes (opened here, co-edited through the
design routes, approved by the organisme porteur), decisions and action items, an action
marked done (also from the home page), and the minutes as a Word document.

The attendance (``#steering-attendance``) and the outcomes (``#steering-outcomes``) are
widgets htmx swaps whole, as is the home card (``#steering-home``); a refused action shows
its reason in the widget (422). Opening and approving the minutes reload the page (303).
"""

from io import BytesIO

from flask import abort, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import htmx
from portal.accounts.access import current_org, require
from portal.accounts.forms import EmptyForm
from portal.core.actions import act, act_and_redirect, done, field_error
from portal.core.errors import RuleError
from portal.design.documents import DOCX_MIMETYPE
from portal.extensions import db
from portal.operations.access import can_steer, is_carrier, load_operation
from portal.steering import bp, documents, minutes
from portal.steering.context import (
    MEETING_PAGE,
    action_form,
    attendance_context,
    meeting_context,
    meeting_or_404,
    outcomes_context,
)
from portal.steering.forms import ApproveMinutesForm, DecisionForm, attendance_form, parse_person
from portal.steering.models import SteeringAction, SteeringDecision

ATTENDANCE = "steering/_attendance.html"
OUTCOMES = "steering/_outcomes.html"
HOME_CARD = "steering/_home_card.html"


def _url(operation_id: int, meeting_id: int, anchor: str | None = None) -> str:
    return url_for(
        "steering.show_meeting", operation_id=operation_id, meeting_id=meeting_id, _anchor=anchor
    )


def _load(operation_id: int, meeting_id: int):
    operation = load_operation(operation_id)
    return operation, meeting_or_404(operation, meeting_id)


@bp.get("/reunions/<int:meeting_id>")
@login_required
def show_meeting(operation_id: int, meeting_id: int):
    """The meeting: when and where, attendance, minutes, decisions and action items."""
    operation, meeting = _load(operation_id, meeting_id)
    return render_template(MEETING_PAGE, **meeting_context(operation, meeting))


# --- Attendance -------------------------------------------------------------------------


def _attendance(operation_id, meeting_id, status: int = 200, /, **shown):
    operation, meeting = _load(operation_id, meeting_id)
    if htmx.is_htmx():
        context = attendance_context(operation, meeting, **shown)
    else:
        context = meeting_context(operation, meeting, forms={"attendance": shown})
    return htmx.render(MEETING_PAGE, ATTENDANCE, status, **context)


@bp.post("/reunions/<int:meeting_id>/presences")
@login_required
def record_attendance(operation_id: int, meeting_id: int):
    """The Région or the organisme porteur records who attended."""
    operation, meeting = _load(operation_id, meeting_id)
    require(can_steer(operation))
    form = attendance_form(meeting.committee.active_members())
    if not form.validate_on_submit():
        return _attendance(operation_id, meeting_id, 422, attendance_form=form)
    presences = form.presences()
    notice = _("Présences enregistrées.")
    return act(
        lambda: minutes.record_attendance(meeting, presences, by=current_user, org=current_org()),
        success=lambda _result: done(
            notice,
            _url(operation_id, meeting_id, "attendance-title"),
            lambda: _attendance(operation_id, meeting_id, notice=notice),
        ),
        failure=lambda refusal: _attendance(
            operation_id, meeting_id, 422, attendance_form=form, error=refusal.message
        ),
    )


# --- Minutes ----------------------------------------------------------------------------


@bp.post("/reunions/<int:meeting_id>/compte-rendu")
@login_required
def start_minutes(operation_id: int, meeting_id: int):
    """The Région or the organisme porteur opens the minutes, prefilled with the agenda."""
    operation, meeting = _load(operation_id, meeting_id)
    require(can_steer(operation))
    return act_and_redirect(
        lambda: minutes.open_minutes(meeting, by=current_user, org=current_org()),
        _url(operation_id, meeting_id, "minutes-title"),
        _("Compte rendu ouvert : rédigez-le à plusieurs, il garde chaque version."),
    )


@bp.post("/reunions/<int:meeting_id>/approbation")
@login_required
def approve_minutes(operation_id: int, meeting_id: int):
    """The organisme porteur approves the minutes at the version it read."""
    operation, meeting = _load(operation_id, meeting_id)
    require(is_carrier(operation))
    form = ApproveMinutesForm()
    if not form.validate_on_submit() or not (form.version.data or "").isdigit():
        abort(400)
    return act_and_redirect(
        lambda: minutes.approve_minutes(
            meeting, int(form.version.data), by=current_user, org=current_org()
        ),
        _url(operation_id, meeting_id, "approval-title"),
        _("Compte rendu approuvé : les membres en sont prévenus."),
    )


@bp.get("/reunions/<int:meeting_id>/compte-rendu.docx")
@login_required
def download_minutes(operation_id: int, meeting_id: int):
    """The minutes as a Word document (a GET that writes nothing)."""
    operation, meeting = _load(operation_id, meeting_id)
    return send_file(
        BytesIO(documents.minutes_docx(meeting)),
        mimetype=DOCX_MIMETYPE,
        as_attachment=True,
        download_name=documents.filename(meeting),
    )


# --- Decisions and action items -----------------------------------------------------------


def _outcomes(operation_id, meeting_id, status: int = 200, /, **shown):
    operation, meeting = _load(operation_id, meeting_id)
    if htmx.is_htmx():
        context = outcomes_context(operation, meeting, **shown)
    else:
        context = meeting_context(operation, meeting, forms={"outcomes": shown})
    return htmx.render(MEETING_PAGE, OUTCOMES, status, **context)


def _act_on_outcomes(operation_id, meeting_id, call, notice, form=None, **forms):
    def refused(refusal: RuleError):
        message = field_error(form, refusal) if form is not None else refusal.message
        return _outcomes(operation_id, meeting_id, 422, error=message, **forms)

    return act(
        call,
        success=lambda _result: done(
            notice,
            _url(operation_id, meeting_id, "outcomes-title"),
            lambda: _outcomes(operation_id, meeting_id, notice=notice),
        ),
        failure=refused,
    )


@bp.post("/reunions/<int:meeting_id>/decisions")
@login_required
def add_decision(operation_id: int, meeting_id: int):
    """A decision of the committee."""
    operation, meeting = _load(operation_id, meeting_id)
    require(can_steer(operation))
    form = DecisionForm()
    if not form.validate_on_submit():
        return _outcomes(operation_id, meeting_id, 422, decision_form=form)
    return _act_on_outcomes(
        operation_id,
        meeting_id,
        lambda: minutes.add_decision(meeting, form.text.data, by=current_user, org=current_org()),
        _("Décision enregistrée."),
        form,
        decision_form=form,
    )


@bp.post("/reunions/<int:meeting_id>/decisions/<int:decision_id>/retrait")
@login_required
def remove_decision(operation_id: int, meeting_id: int, decision_id: int):
    """Take back a decision recorded by mistake."""
    operation, meeting = _load(operation_id, meeting_id)
    require(can_steer(operation))
    decision = db.session.get(SteeringDecision, decision_id)
    if decision is None or decision.meeting_id != meeting.id:
        abort(404)
    return _act_on_outcomes(
        operation_id,
        meeting_id,
        lambda: minutes.remove_decision(decision, by=current_user, org=current_org()),
        _("Décision retirée."),
    )


@bp.post("/reunions/<int:meeting_id>/actions")
@login_required
def add_action(operation_id: int, meeting_id: int):
    """An action item with its owner and due date; the owner is told."""
    operation, meeting = _load(operation_id, meeting_id)
    require(can_steer(operation))
    form = action_form(operation, request.form)
    if not form.validate_on_submit():
        return _outcomes(operation_id, meeting_id, 422, action_form=form)
    owner_org_id, owner_user_id = parse_person(form.owner.data)
    data = {
        "title": form.title.data,
        "owner_org_id": owner_org_id,
        "owner_user_id": owner_user_id,
        "due_on": form.due_on.data,
    }
    return _act_on_outcomes(
        operation_id,
        meeting_id,
        lambda: minutes.add_action(meeting, data, by=current_user, org=current_org()),
        _("Action enregistrée : son ou sa responsable en est prévenu·e."),
        form,
        action_form=form,
    )


def _action(operation, action_id: int) -> SteeringAction:
    action = db.session.get(SteeringAction, action_id)
    if action is None or action.meeting.committee.operation_id != operation.id:
        abort(404)
    return action


@bp.post("/reunions/<int:meeting_id>/actions/<int:action_id>/retrait")
@login_required
def remove_action(operation_id: int, meeting_id: int, action_id: int):
    """Take back an action item recorded by mistake."""
    operation, meeting = _load(operation_id, meeting_id)
    require(can_steer(operation))
    action = _action(operation, action_id)
    if action.meeting_id != meeting.id:
        abort(404)
    return _act_on_outcomes(
        operation_id,
        meeting_id,
        lambda: minutes.remove_action(action, by=current_user, org=current_org()),
        _("Action retirée."),
    )


@bp.post("/actions/<int:action_id>/faite")
@login_required
def mark_action_done(operation_id: int, action_id: int):
    """The owner (or the Région, or the organisme porteur) marks the action done: the
    home card or the meeting's widget answers, as the request came from."""
    operation = load_operation(operation_id)
    action = _action(operation, action_id)
    require(minutes.may_mark_done(action, current_org()))
    meeting_id = action.meeting_id
    notice = _("Action marquée comme faite.")

    def answer(status: int = 200, **shown):
        if htmx.target() == "steering-home":
            button_form = EmptyForm(formdata=None)
            return htmx.render(MEETING_PAGE, HOME_CARD, status, button_form=button_form, **shown)
        return _outcomes(operation_id, meeting_id, status, **shown)

    return act(
        lambda: minutes.mark_action_done(action, by=current_user, org=current_org()),
        success=lambda _result: done(
            notice, _url(operation_id, meeting_id, "outcomes-title"), lambda: answer(notice=notice)
        ),
        failure=lambda refusal: answer(422, error=refusal.message),
    )
