"""Routes of each employer's need in the needs analysis: the employer records its skills,
constraints and technical platform, and its lines of positions. Only the employer itself
edits its need (others, even the Région, read it); each part is a widget of the analysis
page (``analysis_context.py``) that re-renders itself for htmx and falls back to a plain
form with Post/Redirect/Get.
"""

from flask import abort, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.accounts.access import current_org, require
from portal.accounts.models import Organisation
from portal.core.actions import act
from portal.core.french import de
from portal.extensions import db
from portal.operations import bp, needs
from portal.operations.analysis_context import (
    load_analysis,
    render_widget,
    widget_done,
    widget_refused,
)
from portal.operations.analysis_forms import EmployerNeedForm, PositionForm
from portal.operations.context import needs_by_org
from portal.operations.models import Operation, Position


def _employer(operation: Operation, org_id: int) -> Organisation:
    """An employer taking part in the operation, or 404."""
    employer = next((o for o in needs.employer_participants(operation) if o.id == org_id), None)
    if employer is None:
        abort(404)
    return employer


def _require_own_need(employer: Organisation) -> None:
    """Only the employer itself edits its need: others (even the Région) read it."""
    require(current_org().id == employer.id)


@bp.route("/<int:operation_id>/besoins/<int:org_id>", methods=["GET", "POST"])
@login_required
def edit_employer_need(operation_id: int, org_id: int):
    """The employer records its skills, constraints and technical platform.

    htmx edits the employer's block in place; without JS, the page opens with it in edit mode.
    """
    operation = load_analysis(operation_id)
    employer = _employer(operation, org_id)
    _require_own_need(employer)
    need = needs_by_org(operation).get(employer.id) if request.method == "GET" else None
    form = EmployerNeedForm(obj=need)
    fragment = "operations/_need_form.html"
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_widget(
            operation, fragment, status=status, employer_id=employer.id, need_form=form
        )
    data = {name: form[name].data for name in needs.NEED_FIELDS}
    return act(
        lambda: needs.save_employer_need(
            needs.need_for(operation, employer), data, by=current_user, org=current_org()
        ),
        success=lambda _result: widget_done(
            operation,
            "operations/_need_details.html",
            _("Besoins %(of_org)s enregistrés.", of_org=de(employer.name)),
            f"need-{employer.id}",
            employer_id=employer.id,
            saved=True,
        ),
        failure=widget_refused(
            operation, fragment, "need_error", employer_id=employer.id, need_form=form
        ),
    )


def _load_position(operation: Operation, employer: Organisation, position_id: int) -> Position:
    """A position of this employer in this operation, or 404."""
    position = db.session.get(Position, position_id)
    if (
        position is None
        or position.need.operation_id != operation.id
        or position.need.organisation_id != employer.id
    ):
        abort(404)
    return position


POSITIONS = "operations/_need_positions.html"


def _change_positions(operation, employer, change, notice: str, **shown):
    """Run ``change`` on the employer's positions and answer with the positions widget."""
    return act(
        change,
        success=lambda _result: widget_done(
            operation, POSITIONS, notice, f"need-{employer.id}", employer_id=employer.id
        ),
        failure=widget_refused(
            operation, POSITIONS, "position_error", employer_id=employer.id, **shown
        ),
    )


@bp.post("/<int:operation_id>/besoins/<int:org_id>/postes")
@login_required
def add_position(operation_id: int, org_id: int):
    """The employer adds a line of positions (job, count, contract, start)."""
    operation = load_analysis(operation_id)
    employer = _employer(operation, org_id)
    _require_own_need(employer)
    form = PositionForm()
    if not form.validate_on_submit():
        return render_widget(
            operation, POSITIONS, status=422, employer_id=employer.id, position_form=form
        )
    data = {
        "job_title": form.job_title.data,
        "rome_code": form.rome_code.data,
        "count": form.count.data,
        "contract_type": form.contract(),
        "duration_months": form.duration_months.data,
        "planned_start": form.planned_start.data,
    }
    return _change_positions(
        operation,
        employer,
        lambda: needs.add_position(
            needs.need_for(operation, employer), data, by=current_user, org=current_org()
        ),
        _("Postes ajoutés."),
        position_form=form,
    )


def _change_position(operation_id: int, org_id: int, position_id: int, verb, notice: str):
    """One line of the employer's positions changed by ``verb`` (its own only)."""
    operation = load_analysis(operation_id)
    employer = _employer(operation, org_id)
    _require_own_need(employer)
    position = _load_position(operation, employer, position_id)
    return _change_positions(
        operation,
        employer,
        lambda: verb(position, by=current_user, org=current_org()),
        notice,
    )


@bp.post("/<int:operation_id>/besoins/<int:org_id>/postes/<int:position_id>/suppression")
@login_required
def remove_position(operation_id: int, org_id: int, position_id: int):
    """The employer removes a line of positions (by the amendment, once a convention version
    is in force)."""
    return _change_position(
        operation_id,
        org_id,
        position_id,
        needs.remove_position,
        _("Postes retirés (par l'avenant, si la convention est en vigueur)."),
    )


@bp.post("/<int:operation_id>/besoins/<int:org_id>/postes/<int:position_id>/maintien")
@login_required
def keep_position(operation_id: int, org_id: int, position_id: int):
    """The employer cancels the withdrawal of a line that waits for the amendment."""
    return _change_position(
        operation_id,
        org_id,
        position_id,
        needs.keep_position,
        _("Retrait annulé : ces postes restent promis."),
    )
