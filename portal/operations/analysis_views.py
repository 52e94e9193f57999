"""Routes of the needs analysis of an operation.

Each employer fills in its own need (positions, skills, constraints); the organisme porteur
or the Région record the publics, the territorial diagnosis and the desirable adaptations;
the organisme sends them to the Région, which answers. Every widget of the page re-renders
itself for htmx and falls back to a plain form with Post/Redirect/Get.
"""

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal import htmx
from portal.accounts.access import current_org, require
from portal.accounts.forms import EmptyForm
from portal.accounts.models import Organisation
from portal.core.actions import act, done
from portal.extensions import db
from portal.operations import bp, needs
from portal.operations.access import can_steer, is_carrier, is_region, load_operation
from portal.operations.analysis_forms import (
    AnalysisForm,
    AnswerAnalysisForm,
    EmployerNeedForm,
    FigureForm,
    PositionForm,
)
from portal.operations.context import existing_analysis, needs_by_org, summary_context
from portal.operations.models import (
    ContractType,
    DiagnosisFigure,
    Operation,
    Participant,
    Position,
)

PAGE = "operations/analysis.html"


# --- Loading ---------------------------------------------------------------------------


def _load(operation_id: int) -> Operation:
    """The operation (404 unless visible) with its participants' organisations loaded."""
    load_operation(operation_id)
    return db.session.execute(
        select(Operation)
        .where(Operation.id == operation_id)
        .options(
            selectinload(Operation.participants).selectinload(Participant.organisation),
            selectinload(Operation.provider),
        )
    ).scalar_one()


def _employer(operation: Operation, org_id: int) -> Organisation:
    """An employer taking part in the operation, or 404."""
    employer = next((o for o in needs.employer_participants(operation) if o.id == org_id), None)
    if employer is None:
        abort(404)
    return employer


def _require_own_need(employer: Organisation) -> None:
    """Only the employer itself edits its need: others (even the Région) read it."""
    require(current_org().id == employer.id)


def _editable(operation: Operation) -> bool:
    return operation.status in needs.EDITABLE_STATUSES


# --- Context ---------------------------------------------------------------------------


def _block(employer, need, *, editable: bool, **forms) -> dict:
    """One employer's need as the page shows it, with its forms when the viewer may edit it.

    ``forms``: a bound ``position_form``/``need_form`` and their ``position_error``/``need_error``
    (``need_form`` puts the block in edit mode).
    """
    can_edit = editable and current_org().id == employer.id
    return {
        "employer": employer,
        "need": need,
        "positions": need.positions if need else [],
        "can_edit": can_edit,
        "position_form": (forms.get("position_form") or PositionForm(formdata=None))
        if can_edit
        else None,
        "position_error": forms.get("position_error"),
        "need_form": forms.get("need_form"),
        "need_error": forms.get("need_error"),
    }


BLOCK_OVERRIDES = ("position_form", "position_error", "need_form", "need_error")


def _page_context(operation: Operation, employer_id: int | None = None, **overrides) -> dict:
    """Everything the page and its fragments need.

    ``overrides`` replace the defaults (bound forms with their errors, template flags);
    those of ``BLOCK_OVERRIDES`` go to the block of ``employer_id``.
    """
    block_forms = {name: overrides.pop(name) for name in BLOCK_OVERRIDES if name in overrides}
    summary = summary_context(operation)
    steer = can_steer(operation)
    editable = _editable(operation)
    org_id = current_org().id
    blocks = [
        _block(
            employer,
            summary["needs_by_org"].get(employer.id),
            editable=editable,
            **(block_forms if employer.id == employer_id else {}),
        )
        for employer in needs.employer_participants(operation)
        if steer or employer.id == org_id
    ]
    context = {
        "operation": operation,
        "analysis_summary": summary,
        "analysis": summary["analysis"],
        "blocks": blocks,
        "block": next((b for b in blocks if b["employer"].id == employer_id), None),
        "can_steer": steer,
        "carrier": is_carrier(operation),
        "region": is_region(),
        "editable": editable,
        "target_publics": needs.TARGET_PUBLICS,
        "barriers": needs.BARRIERS,
        "analysis_form": None,
        "analysis_error": None,
        "figure_form": FigureForm(formdata=None),
        "figures_error": None,
        "answer_form": AnswerAnalysisForm(formdata=None),
        "exchange_error": None,
        "button_form": EmptyForm(formdata=None),
        "oob_totals": False,
        "saved": False,
    }
    context.update(overrides)
    return context


def _render(operation: Operation, fragment: str, *, status: int = 200, **overrides):
    """htmx: the widget's fragment; a plain request: the whole page (with errors, 422)."""
    return htmx.render(PAGE, fragment, status, **_page_context(operation, **overrides))


def _done(operation: Operation, fragment: str, message: str, anchor: str, **overrides):
    """After a change: htmx re-renders the widget (and the totals out of band); a plain form
    is redirected to the page (Post/Redirect/Get)."""
    url = url_for("operations.show_analysis", operation_id=operation.id, _anchor=anchor)
    return done(message, url, lambda: _render(operation, fragment, oob_totals=True, **overrides))


def _refused(operation: Operation, fragment: str, error_key: str, **shown):
    """The failure answer of a widget: the widget again with the French refusal under
    ``error_key`` (422), and ``shown`` (the bound form) so that nothing typed is lost."""
    return lambda refusal: _render(
        operation, fragment, status=422, **{error_key: refusal.message}, **shown
    )


# --- The page --------------------------------------------------------------------------


@bp.get("/<int:operation_id>/analyse")
@login_required
def show_analysis(operation_id: int):
    """The needs analysis: totals, employers' needs, publics, diagnosis, exchange with the Région.

    Always the full page: htmx widgets that cancel an edit pick their part with hx-select.
    """
    operation = _load(operation_id)
    return render_template(PAGE, **_page_context(operation))


# --- An employer's need ----------------------------------------------------------------


@bp.route("/<int:operation_id>/besoins/<int:org_id>", methods=["GET", "POST"])
@login_required
def edit_employer_need(operation_id: int, org_id: int):
    """The employer records its skills, constraints and technical platform.

    htmx edits the employer's block in place; without JS, the page opens with it in edit mode.
    """
    operation = _load(operation_id)
    employer = _employer(operation, org_id)
    _require_own_need(employer)
    need = needs_by_org(operation).get(employer.id) if request.method == "GET" else None
    form = EmployerNeedForm(obj=need)
    fragment = "operations/_need_form.html"
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return _render(operation, fragment, status=status, employer_id=employer.id, need_form=form)
    data = {name: form[name].data for name in needs.NEED_FIELDS}
    return act(
        lambda: needs.save_employer_need(
            needs.need_for(operation, employer), data, by=current_user, org=current_org()
        ),
        success=lambda _result: _done(
            operation,
            "operations/_need_details.html",
            _("Besoins de %(org)s enregistrés.", org=employer.name),
            f"need-{employer.id}",
            employer_id=employer.id,
            saved=True,
        ),
        failure=_refused(
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
        success=lambda _result: _done(
            operation, POSITIONS, notice, f"need-{employer.id}", employer_id=employer.id
        ),
        failure=_refused(operation, POSITIONS, "position_error", employer_id=employer.id, **shown),
    )


@bp.post("/<int:operation_id>/besoins/<int:org_id>/postes")
@login_required
def add_position(operation_id: int, org_id: int):
    """The employer adds a line of positions (job, count, contract, start)."""
    operation = _load(operation_id)
    employer = _employer(operation, org_id)
    _require_own_need(employer)
    form = PositionForm()
    if not form.validate_on_submit():
        return _render(
            operation, POSITIONS, status=422, employer_id=employer.id, position_form=form
        )
    data = {
        "job_title": form.job_title.data,
        "rome_code": form.rome_code.data,
        "count": form.count.data,
        "contract_type": ContractType(form.contract_type.data),
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


@bp.post("/<int:operation_id>/besoins/<int:org_id>/postes/<int:position_id>/suppression")
@login_required
def remove_position(operation_id: int, org_id: int, position_id: int):
    """The employer removes a line of positions."""
    operation = _load(operation_id)
    employer = _employer(operation, org_id)
    _require_own_need(employer)
    position = _load_position(operation, employer, position_id)
    return _change_positions(
        operation,
        employer,
        lambda: needs.remove_position(position, by=current_user, org=current_org()),
        _("Postes retirés."),
    )


# --- Publics, diagnosis and adaptations ------------------------------------------------


@bp.route("/<int:operation_id>/analyse/modification", methods=["GET", "POST"])
@login_required
def edit_analysis(operation_id: int):
    """The organisme porteur or the Région record publics, diagnosis and adaptations.

    htmx edits that part of the page in place; without JS, the page opens with it in edit mode.
    """
    operation = _load(operation_id)
    require(can_steer(operation))
    form = AnalysisForm(obj=existing_analysis(operation) if request.method == "GET" else None)
    fragment = "operations/_analysis_form.html"
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return _render(operation, fragment, status=status, analysis_form=form)
    data = {name: form[name].data for name in needs.ANALYSIS_FIELDS}
    data["target_publics"] = form.target_publics.data
    data["barriers"] = form.barriers.data
    return act(
        lambda: needs.save_analysis(
            needs.analysis_for(operation), data, by=current_user, org=current_org()
        ),
        success=lambda _result: _done(
            operation,
            "operations/_analysis_content.html",
            _("Analyse des besoins enregistrée."),
            "analysis-content",
            saved=True,
        ),
        failure=_refused(operation, fragment, "analysis_error", analysis_form=form),
    )


@bp.post("/<int:operation_id>/analyse/chiffres")
@login_required
def add_figure(operation_id: int):
    """Add a key figure (label, value, source) to the territorial diagnosis."""
    operation = _load(operation_id)
    require(can_steer(operation))
    form = FigureForm()
    fragment = "operations/_analysis_figures.html"
    if not form.validate_on_submit():
        return _render(operation, fragment, status=422, figure_form=form)
    data = {"label": form.label.data, "value": form.value.data, "source": form.source.data}
    return act(
        lambda: needs.add_figure(
            needs.analysis_for(operation), data, by=current_user, org=current_org()
        ),
        success=lambda _result: _done(
            operation, fragment, _("Chiffre clé ajouté."), "diagnosis-figures"
        ),
        failure=_refused(operation, fragment, "figures_error", figure_form=form),
    )


@bp.post("/<int:operation_id>/analyse/chiffres/<int:figure_id>/suppression")
@login_required
def remove_figure(operation_id: int, figure_id: int):
    """Remove a key figure from the territorial diagnosis."""
    operation = _load(operation_id)
    require(can_steer(operation))
    figure = db.session.get(DiagnosisFigure, figure_id)
    if figure is None or figure.analysis.operation_id != operation.id:
        abort(404)
    fragment = "operations/_analysis_figures.html"
    return act(
        lambda: needs.remove_figure(figure, by=current_user, org=current_org()),
        success=lambda _result: _done(
            operation, fragment, _("Chiffre clé retiré."), "diagnosis-figures"
        ),
        failure=_refused(operation, fragment, "figures_error"),
    )


# --- Exchange with the Région ----------------------------------------------------------


@bp.post("/<int:operation_id>/analyse/transmission")
@login_required
def send_analysis(operation_id: int):
    """The organisme porteur sends the analysis and its proposed adaptations to the Région."""
    operation = _load(operation_id)
    require(is_carrier(operation))
    fragment = "operations/_analysis_exchange.html"
    return act(
        lambda: needs.send_analysis(
            needs.analysis_for(operation), by=current_user, org=current_org()
        ),
        success=lambda _result: _done(
            operation,
            fragment,
            _("Analyse transmise : la Région (référent·e du bassin) est prévenue."),
            "exchange",
        ),
        failure=_refused(operation, fragment, "exchange_error"),
    )


@bp.post("/<int:operation_id>/analyse/reponse")
@login_required
def answer_analysis(operation_id: int):
    """The Région acknowledges the analysis and comments on the proposed adaptations."""
    operation = _load(operation_id)
    require(is_region())
    form = AnswerAnalysisForm()
    fragment = "operations/_analysis_exchange.html"
    if not form.validate_on_submit():
        return _render(operation, fragment, status=422, answer_form=form)
    # analysis_for creates an empty analysis when there is none: the service then refuses to
    # answer an analysis never sent, and the rollback drops that empty row.
    return act(
        lambda: needs.answer_analysis(
            needs.analysis_for(operation), form.answer.data, by=current_user, org=current_org()
        ),
        success=lambda _result: _done(
            operation,
            fragment,
            _("Réponse enregistrée ; l'organisme porteur est prévenu."),
            "exchange",
        ),
        failure=_refused(operation, fragment, "exchange_error", answer_form=form),
    )
