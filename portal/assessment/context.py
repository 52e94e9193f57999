"""What the evaluation page renders: its state, its figures, its written parts (through
the design's section widget), the prime DEFI and the forms of whoever may act. Shared by
the evaluation routes and the design routes (a written part is a design section shown on
the evaluation page)."""

from flask import render_template

from portal.accounts.forms import EmptyForm
from portal.assessment import figures, services
from portal.assessment.forms import (
    BONUS_PREFIX,
    DECIDE_PREFIX,
    DecideAssessmentForm,
    DecideBonusForm,
    RequestBonusForm,
)
from portal.assessment.models import AssessmentStatus, BonusStatus
from portal.design import context as design_context
from portal.design import queries as design_queries
from portal.design.models import DesignSection
from portal.followup.indicators import indicators
from portal.operations.access import can_steer, is_carrier, is_region
from portal.operations.models import Operation, Status

PAGE = "assessment/show.html"


def section_contexts(operation: Operation, focus: DesignSection | None, overrides: dict):
    """The context of each written part for ``design/_section.html``; ``focus`` gets
    ``overrides``."""
    design = design_queries.load_design(operation.id)
    if design is None:
        return {}, []
    return design_context.part_contexts(design, design.assessment_sections, focus, overrides)


def status_context(operation: Operation, forms: dict | None = None) -> dict:
    """The evaluation's state and the prime DEFI, with the forms of whoever may act."""
    forms = forms or {}
    assessment = services.assessment_for(operation)
    bonus = services.bonus_for(operation)
    carrier, region = is_carrier(operation), is_region()
    open_step = operation.status == Status.FOLLOW_UP
    submitted = assessment is not None and assessment.status == AssessmentStatus.SUBMITTED
    pending_bonus = bonus is not None and bonus.status == BonusStatus.REQUESTED
    may_request = bonus is None or bonus.status == BonusStatus.WITHDRAWN
    return {
        "operation": operation,
        "assessment": assessment,
        "bonus": bonus,
        "carrier": carrier,
        "region": region,
        "can_start": assessment is None and open_step and can_steer(operation),
        "can_submit": carrier and open_step and assessment is not None,
        "submission_problems": services.submission_problems(assessment)
        if carrier and assessment is not None
        else [],
        "decide_form": forms.get("decide_form")
        or DecideAssessmentForm(formdata=None, prefix=DECIDE_PREFIX)
        if region and open_step and submitted
        else None,
        "request_form": forms.get("request_form") or RequestBonusForm(formdata=None)
        if carrier and open_step and may_request
        else None,
        "can_withdraw": carrier and open_step and pending_bonus,
        "bonus_form": forms.get("bonus_form") or DecideBonusForm(formdata=None, prefix=BONUS_PREFIX)
        if region and open_step and pending_bonus
        else None,
        "button_form": EmptyForm(formdata=None),
        "error": forms.get("error"),
        "notice": forms.get("notice"),
    }


def page_context(
    operation: Operation,
    *,
    focus: DesignSection | None = None,
    forms: dict | None = None,
    **overrides,
) -> dict:
    """The whole page; the written part ``focus`` is shown with ``overrides``; ``forms``
    (``decide_form``, ``request_form``, ``bonus_form``, ``error``, ``notice``) fill the
    state and prime widgets."""
    shared, sections = section_contexts(operation, focus, overrides)
    context = {**shared, **status_context(operation, forms)}
    context["sections"] = sections if context["assessment"] is not None else []
    context["tables"] = figures.tables(indicators(operation))
    return context


def assessment_page(
    operation: Operation, section: DesignSection, *, status: int = 200, **overrides
):
    """The evaluation page with one written part in the given state (the design routes'
    answer to a plain request on a written part: its form, its errors, its conflict)."""
    context = page_context(operation, focus=section, **overrides)
    return render_template(PAGE, **context), status
