"""What the needs-analysis page and its widgets share (``analysis_views.py`` for the
analysis and the exchange with the Région, ``needs_views.py`` for each employer's need):
loading, the page's context, and the answers of a widget (htmx: the widget's fragment;
a plain request: the page, or Post/Redirect/Get after a change)."""

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal import htmx
from portal.accounts.access import current_org
from portal.accounts.forms import EmptyForm
from portal.core.actions import done
from portal.extensions import db
from portal.operations import needs, pending
from portal.operations.access import can_steer, is_carrier, is_region, load_operation
from portal.operations.analysis_forms import AnswerAnalysisForm, FigureForm, PositionForm
from portal.operations.context import summary_context
from portal.operations.models import Operation, Participant

PAGE = "operations/analysis.html"


def load_analysis(operation_id: int) -> Operation:
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


def _editable(operation: Operation) -> bool:
    return operation.status in needs.EDITABLE_STATUSES


def _block(employer, need, *, editable: bool, positions: bool, **forms) -> dict:
    """One employer's need as the page shows it, with its forms when the viewer may edit it.

    ``forms``: a bound ``position_form``/``need_form`` and their ``position_error``/``need_error``
    (``need_form`` puts the block in edit mode).
    """
    own = current_org().id == employer.id
    can_edit_positions = positions and own
    return {
        "employer": employer,
        "need": need,
        "positions": need.positions if need else [],
        "can_edit": editable and own,
        # The promised positions outlive the analysis: the convention quotes them, and
        # an amendment changes them once it is in force (``pending.py``).
        "can_edit_positions": can_edit_positions,
        "position_form": (forms.get("position_form") or PositionForm(formdata=None))
        if can_edit_positions
        else None,
        "position_error": forms.get("position_error"),
        "need_form": forms.get("need_form"),
        "need_error": forms.get("need_error"),
    }


BLOCK_OVERRIDES = ("position_form", "position_error", "need_form", "need_error")


def page_context(operation: Operation, employer_id: int | None = None, **overrides) -> dict:
    """Everything the page and its fragments need.

    ``overrides`` replace the defaults (bound forms with their errors, template flags);
    those of ``BLOCK_OVERRIDES`` go to the block of ``employer_id``.
    """
    block_forms = {name: overrides.pop(name) for name in BLOCK_OVERRIDES if name in overrides}
    summary = summary_context(operation)
    steer = can_steer(operation)
    editable = _editable(operation)
    positions = needs.positions_editable(operation)
    org_id = current_org().id
    blocks = [
        _block(
            employer,
            summary["needs_by_org"].get(employer.id),
            editable=editable,
            positions=positions,
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
        "positions_editable": positions,
        "amending": pending.amending(operation),
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


def render_widget(operation: Operation, fragment: str, *, status: int = 200, **overrides):
    """htmx: the widget's fragment; a plain request: the whole page (with errors, 422)."""
    return htmx.render(PAGE, fragment, status, **page_context(operation, **overrides))


def widget_done(operation: Operation, fragment: str, message: str, anchor: str, **overrides):
    """After a change: htmx re-renders the widget (and the totals out of band); a plain form
    is redirected to the page (Post/Redirect/Get)."""
    url = url_for("operations.show_analysis", operation_id=operation.id, _anchor=anchor)
    return done(
        message,
        url,
        lambda: render_widget(operation, fragment, oob_totals=True, **overrides),
        announce=True,
    )


def widget_refused(operation: Operation, fragment: str, error_key: str, **shown):
    """The failure answer of a widget: the widget again with the French refusal under
    ``error_key`` (422), and ``shown`` (the bound form) so that nothing typed is lost."""
    return lambda refusal: render_widget(
        operation, fragment, status=422, **{error_key: refusal.message}, **shown
    )
