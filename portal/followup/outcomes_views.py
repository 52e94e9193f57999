"""Routes of the promises' outcomes: the ledger (promised, kept, not kept per employer) with
each promise's outcome, and the form that records one — for the organisme porteur and the
promising employer's admins; the Région reads.

The organisme porteur and the Région see every employer's promises; an employer sees its
own; everyone taking part sees the totals.
"""

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from portal.accounts.access import current_org, require
from portal.core.actions import act, flash_redirect, form_page, form_refusal
from portal.extensions import db
from portal.followup import bp, outcomes, rules
from portal.followup.access import can_record_outcome, is_admin
from portal.followup.forms import PromiseOutcomeForm
from portal.followup.models import PromiseOutcome
from portal.operations.access import can_steer, is_carrier, load_operation
from portal.operations.models import Operation
from portal.recruitment.access import visible_among
from portal.recruitment.models import JobPromise

PAGE = "followup/promises.html"
FORM_PAGE = "followup/edit_promise_outcome.html"


def _promises(operation: Operation, employer_id: int | None) -> list[JobPromise]:
    """The operation's promises (of one employer if given) with employer and trainee."""
    query = (
        select(JobPromise)
        .where(JobPromise.operation_id == operation.id)
        .options(selectinload(JobPromise.organisation), joinedload(JobPromise.trainee))
        .order_by(
            JobPromise.organisation_id, JobPromise.position_id, JobPromise.rank, JobPromise.id
        )
    )
    if employer_id is not None:
        query = query.where(JobPromise.organisation_id == employer_id)
    return list(db.session.scalars(query))


@bp.get("/promesses-tenues")
@login_required
def list_promise_outcomes(operation_id: int):
    """The promise ledger and each promise's outcome, as far as the user may see."""
    operation = load_operation(operation_id)
    org = current_org()
    steer = can_steer(operation)
    ledger = outcomes.ledger(operation)
    own = [row for row in ledger if row.employer.id == org.id]
    promises = [] if not (steer or own) else _promises(operation, None if steer else org.id)
    by_promise = {
        o.promise_id: o
        for o in db.session.scalars(
            select(PromiseOutcome).where(PromiseOutcome.promise_id.in_([p.id for p in promises]))
        )
    }
    recording = operation.status in rules.RECORDING_STEPS
    writer = recording and (is_carrier(operation) or bool(own and is_admin(current_user, org)))
    return render_template(
        PAGE,
        operation=operation,
        rows=ledger if steer else own,
        totals={
            name: sum(getattr(row, name) for row in ledger)
            for name in ("promised", "lasting", "kept", "not_kept", "pending")
        },
        promises=promises,
        outcomes=by_promise,
        shown_ids=visible_among(operation, [p.trainee for p in promises]),
        writer=writer,
    )


@bp.route("/promesses-tenues/<int:promise_id>", methods=["GET", "POST"])
@login_required
def edit_promise_outcome(operation_id: int, promise_id: int):
    """Record whether a promise was kept (contract, start, weekly hours) or not (why)."""
    operation = load_operation(operation_id)
    promise = db.session.get(JobPromise, promise_id)
    if promise is None or promise.operation_id != operation.id:
        abort(404)
    require(can_record_outcome(promise, current_user, current_org()))
    outcome = outcomes.outcome_of(promise)
    data = None
    if request.method == "GET" and outcome is not None:
        data = {
            "kept": "yes" if outcome.kept else "no",
            "contract": outcome.contract.value if outcome.contract else "",
            "duration_months": outcome.duration_months,
            "start_date": outcome.start_date,
            "weekly_hours": f"{outcome.weekly_hours:g}".replace(".", ",")
            if outcome.weekly_hours
            else "",
            "reason": outcome.reason.value if outcome.reason else "",
            "comment": outcome.comment,
        }
    form = PromiseOutcomeForm(data=data)

    def page(error: str | None = None):
        return form_page(
            FORM_PAGE,
            operation=operation,
            promise=promise,
            form=form,
            error=error,
            recording=operation.status in rules.RECORDING_STEPS,
        )

    if not form.validate_on_submit():
        return page()
    url = url_for(
        "followup.list_promise_outcomes",
        operation_id=operation.id,
        _anchor=f"promesse-{promise_id}",
    )
    return act(
        lambda: outcomes.record_promise_outcome(
            promise, form.to_data(), by=current_user, org=current_org()
        ),
        success=lambda _outcome: flash_redirect(_("Résultat de la promesse enregistré."), url),
        failure=form_refusal(form, page),
    )
