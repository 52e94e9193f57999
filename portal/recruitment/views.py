"""The recruitment page of an operation: promises, target and recruits side by side, the
warnings of « 1 stagiaire pour 1 promesse », the trainees list, the early-start decision.

Trainee records are in ``trainees_views``; adding candidates (form or CSV) in ``bulk_views``.
"""

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from portal import htmx
from portal.accounts.access import current_org, require
from portal.core.actions import act, flash_redirect, form_refusal
from portal.core.memo import remember_read
from portal.core.pagination import paginate
from portal.extensions import db
from portal.operations.access import can_steer, is_region, load_operation, with_access
from portal.operations.models import Operation, Status
from portal.operations.needs import TARGET_PUBLICS
from portal.recruitment import bp, lasting, prescription, queries, rules, services
from portal.recruitment.access import is_provider_of, log_trainees_shown, visible_among
from portal.recruitment.forms import EarlyStartForm, StatusFilterForm
from portal.recruitment.models import TraineeStatus

PAGE = "recruitment/show.html"
RESULTS = "recruitment/_trainees.html"


# The operation with its organisme, and what ``can_view`` answers from: one query.
_load = with_access(joinedload(Operation.provider))


def _list_context(operation: Operation, counts: dict[TraineeStatus, int] | None = None) -> dict:
    """The trainees list: one page of the trainees the user may see, filtered by status.
    ``counts``: how many the user sees at each status, when the page has them (the list's
    total is then one of them, or their sum: no count query of its own)."""
    filters = StatusFilterForm(request.args)
    status = filters.status()
    total = None
    if counts is not None:
        total = counts[status] if status is not None else sum(counts.values())
    pagination = paginate(queries.trainees_query(operation, status), total=total)
    return {
        "filters": filters,
        "filter_status": filters.status(),
        "pagination": pagination,
        "trainees": pagination.items,
        "publics": TARGET_PUBLICS,
    }


def _page_context(operation: Operation, early_form: EarlyStartForm | None = None) -> dict:
    figures = queries.figures(operation)
    counts = queries.status_counts(operation)
    promises = queries.promises(operation)
    accepted = lasting.acceptances(operation)
    counted = {p.id for p in promises if lasting.counts(p, accepted.get(p.position_id))}
    carrier = is_provider_of(operation)
    org = current_org()
    return {
        "operation": operation,
        "figures": figures,
        "warnings": rules.warnings(figures) if operation.status in queries.CARD_STEPS else [],
        "groups": queries.by_employer(promises),
        "counted": counted,
        "apart": [(p, lasting.apart_explanation(p)) for p in promises if p.id not in counted],
        "open_promises": [p for p in promises if p.trainee is None and p.id in counted],
        "prescriber": prescription.is_prescriber(operation, org),
        "can_propose": prescription.can_propose(operation, org),
        "sees_proposals": carrier or is_region() or prescription.is_prescriber(operation, org),
        "shown_ids": visible_among(operation, [p.trainee for p in promises]),
        "carrier": carrier,
        "can_record": carrier and operation.status in rules.RECORDING_STEPS,
        "can_decide": can_steer(operation) and operation.status == Status.RECRUITMENT,
        "decisions": queries.early_start_decisions(operation),
        "start_section": operation.status == Status.RECRUITMENT,
        "start_problems": services.training_start_problems(operation)
        if operation.status == Status.RECRUITMENT
        else [],
        "early_form": early_form or EarlyStartForm(formdata=None),
        "counts": counts,
        "statuses": list(TraineeStatus),
        **_list_context(operation, counts),
    }


@bp.get("")
@login_required
def show_recruitment(operation_id: int):
    """Promises per employer, target and recruits, warnings, and the trainees list (htmx
    swaps only the list when the status filter changes)."""
    operation = load_operation(operation_id, loader=_load)
    if htmx.is_htmx():
        context = _list_context(operation)
        log_trainees_shown(context["trainees"], "recruitment")
        response = htmx.render(PAGE, RESULTS, operation=operation, **context)
    else:
        context = _page_context(operation)
        log_trainees_shown([*context["trainees"], *context["shown_ids"]], "recruitment")
        response = render_template(PAGE, **context)
    db.session.commit()  # the access log line, after rendering
    return response


@bp.post("/demarrage-anticipe")
@login_required
def decide_early_start(operation_id: int):
    """The Région or the organisme porteur records the decision to start the training
    before the session's start date, with its reason."""
    operation = load_operation(operation_id, loader=_load)
    require(can_steer(operation))
    form = EarlyStartForm()

    def page(_message: str | None = None):
        return render_template(PAGE, **_page_context(operation, early_form=form)), 422

    if not form.validate_on_submit():
        return page()
    return act(
        lambda: services.decide_early_start(
            operation, form.reason.data, by=current_user, org=current_org()
        ),
        success=lambda _result: flash_redirect(
            _("Décision de démarrage anticipé enregistrée."),
            url_for("recruitment.show_recruitment", operation_id=operation.id),
        ),
        failure=form_refusal(form, page, "reason"),
    )


@bp.app_template_global()
def recruitment_card(operation: Operation) -> dict | None:
    """What the operation page says of recruitment (None before the recruitment step)."""
    reads = queries.card_reads(operation)
    return {"figures": remember_read(reads[0])[operation.id]} if reads else None
