"""Routes of the needs analysis of an operation.

Each employer fills in its own need (positions, skills, constraints: ``needs_views.py``);
the organisme porteur or the Région record the publics, the territorial diagnosis and the
desirable adaptations; the organisme sends them to the Région, which answers. Every widget
of the page re-renders itself for htmx and falls back to a plain form with
Post/Redirect/Get (``analysis_context.py``).
"""

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.accounts.access import current_org, require
from portal.core.actions import act
from portal.extensions import db
from portal.operations import bp, needs
from portal.operations.access import can_steer, is_carrier, is_region
from portal.operations.analysis_context import (
    PAGE,
    load_analysis,
    page_context,
    render_widget,
    widget_done,
    widget_refused,
)
from portal.operations.analysis_forms import AnalysisForm, AnswerAnalysisForm, FigureForm
from portal.operations.context import existing_analysis
from portal.operations.models import DiagnosisFigure

# --- The page --------------------------------------------------------------------------


@bp.get("/<int:operation_id>/analyse")
@login_required
def show_analysis(operation_id: int):
    """The needs analysis: totals, employers' needs, publics, diagnosis, exchange with the Région.

    Always the full page: htmx widgets that cancel an edit pick their part with hx-select.
    """
    operation = load_analysis(operation_id)
    return render_template(PAGE, **page_context(operation))


# --- Publics, diagnosis and adaptations ------------------------------------------------


@bp.route("/<int:operation_id>/analyse/modification", methods=["GET", "POST"])
@login_required
def edit_analysis(operation_id: int):
    """The organisme porteur or the Région record publics, diagnosis and adaptations.

    htmx edits that part of the page in place; without JS, the page opens with it in edit mode.
    """
    operation = load_analysis(operation_id)
    require(can_steer(operation))
    form = AnalysisForm(obj=existing_analysis(operation) if request.method == "GET" else None)
    fragment = "operations/_analysis_form.html"
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_widget(operation, fragment, status=status, analysis_form=form)
    data = {name: form[name].data for name in needs.ANALYSIS_FIELDS}
    data["target_publics"] = form.target_publics.data
    data["barriers"] = form.barriers.data
    return act(
        lambda: needs.save_analysis(
            needs.analysis_for(operation), data, by=current_user, org=current_org()
        ),
        success=lambda _result: widget_done(
            operation,
            "operations/_analysis_content.html",
            _("Analyse des besoins enregistrée."),
            "analysis-content",
            saved=True,
        ),
        failure=widget_refused(operation, fragment, "analysis_error", analysis_form=form),
    )


@bp.post("/<int:operation_id>/analyse/chiffres")
@login_required
def add_figure(operation_id: int):
    """Add a key figure (label, value, source) to the territorial diagnosis."""
    operation = load_analysis(operation_id)
    require(can_steer(operation))
    form = FigureForm()
    fragment = "operations/_analysis_figures.html"
    if not form.validate_on_submit():
        return render_widget(operation, fragment, status=422, figure_form=form)
    data = {"label": form.label.data, "value": form.value.data, "source": form.source.data}
    return act(
        lambda: needs.add_figure(
            needs.analysis_for(operation), data, by=current_user, org=current_org()
        ),
        success=lambda _result: widget_done(
            operation, fragment, _("Chiffre clé ajouté."), "diagnosis-figures"
        ),
        failure=widget_refused(operation, fragment, "figures_error", figure_form=form),
    )


@bp.post("/<int:operation_id>/analyse/chiffres/<int:figure_id>/suppression")
@login_required
def remove_figure(operation_id: int, figure_id: int):
    """Remove a key figure from the territorial diagnosis."""
    operation = load_analysis(operation_id)
    require(can_steer(operation))
    figure = db.session.get(DiagnosisFigure, figure_id)
    if figure is None or figure.analysis.operation_id != operation.id:
        abort(404)
    fragment = "operations/_analysis_figures.html"
    return act(
        lambda: needs.remove_figure(figure, by=current_user, org=current_org()),
        success=lambda _result: widget_done(
            operation, fragment, _("Chiffre clé retiré."), "diagnosis-figures"
        ),
        failure=widget_refused(operation, fragment, "figures_error"),
    )


# --- Exchange with the Région ----------------------------------------------------------


@bp.post("/<int:operation_id>/analyse/transmission")
@login_required
def send_analysis(operation_id: int):
    """The organisme porteur sends the analysis and its proposed adaptations to the Région."""
    operation = load_analysis(operation_id)
    require(is_carrier(operation))
    fragment = "operations/_analysis_exchange.html"
    return act(
        lambda: needs.send_analysis(
            needs.analysis_for(operation), by=current_user, org=current_org()
        ),
        success=lambda _result: widget_done(
            operation,
            fragment,
            _("Analyse transmise : la Région (référent·e du bassin) est prévenue."),
            "exchange",
        ),
        failure=widget_refused(operation, fragment, "exchange_error"),
    )


@bp.post("/<int:operation_id>/analyse/reponse")
@login_required
def answer_analysis(operation_id: int):
    """The Région acknowledges the analysis and comments on the proposed adaptations."""
    operation = load_analysis(operation_id)
    require(is_region())
    form = AnswerAnalysisForm()
    fragment = "operations/_analysis_exchange.html"
    if not form.validate_on_submit():
        return render_widget(operation, fragment, status=422, answer_form=form)
    # analysis_for creates an empty analysis when there is none: the service then refuses to
    # answer an analysis never sent, and the rollback drops that empty row.
    # An optional field left out of the request (not merely empty) has no data: no answer.
    answer = form.answer.data or ""
    return act(
        lambda: needs.answer_analysis(
            needs.analysis_for(operation), answer, by=current_user, org=current_org()
        ),
        success=lambda _result: widget_done(
            operation,
            fragment,
            _("Réponse enregistrée ; l'organisme porteur est prévenu."),
            "exchange",
        ),
        failure=widget_refused(operation, fragment, "exchange_error", answer_form=form),
    )
