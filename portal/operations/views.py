"""Routes of operations: list, report a need, the operation page, decisions and steps."""

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from portal import htmx
from portal.accounts.access import current_membership, current_org, require
from portal.accounts.models import Organisation, OrgKind, Territory
from portal.core.actions import act, act_and_redirect, flash_redirect, form_page
from portal.core.forms import without_entry
from portal.core.pagination import paginate, requested_page
from portal.extensions import db
from portal.lots.models import Category
from portal.operations import bp, lifecycle, queries, services
from portal.operations.access import can_steer, is_region, load_operation
from portal.operations.cards import prefetch_cards
from portal.operations.context import summary_context
from portal.operations.forms import (
    NEW_EMPLOYERS_TOO_MANY,
    AcknowledgeForm,
    AdvanceForm,
    CancelOperationForm,
    FrefForm,
    OperationForm,
    ReasonForm,
    ReportNeedForm,
)
from portal.operations.models import Funding, Status
from portal.operations.timeline import describe
from portal.todo.duties import duties_for


def _territories():
    return db.session.scalars(select(Territory).order_by(Territory.name)).all()


def _providers():
    return db.session.scalars(
        select(Organisation)
        .where(Organisation.kind == OrgKind.PROVIDER)
        .order_by(Organisation.name)
    ).all()


@bp.get("/")
@login_required
def list_operations():
    """Operations the user may see, filtered by htmx with the URL kept in sync."""
    filters = queries.Filters.from_request()
    pagination = paginate(queries.operations_query(filters))
    return htmx.render(
        "operations/list.html",
        "operations/_results.html",
        pagination=pagination,
        operations=pagination.items,
        filters=filters,
        counts=queries.status_counts(),
        statuses=list(Status),
        categories=list(Category),
        territories=_territories(),
        lots=queries.lots_for_filter(),
        can_report=current_org().kind in (OrgKind.PROVIDER, OrgKind.REGION),
    )


def _need_form_rows() -> tuple[ReportNeedForm, dict | None]:
    """The report-need form from the request, and what a row button changed (None when the
    form was not posted by « Ajouter un employeur » or a « Retirer » button): the row to
    focus, the announcement, or why no row was added."""
    removed = request.form.get("remove_employer", type=int)
    if removed is not None:
        form = ReportNeedForm(formdata=without_entry(request.form, "new_employers", removed))
        if f"new_employers-{removed}-name" not in request.form:
            return form, {}  # no such row: nothing removed
        return form, {"notice": _("Employeur %(n)d retiré de la liste.", n=removed + 1)}
    form = ReportNeedForm()
    if not request.form.get("add_employer"):
        return form, None
    form.add_employer()
    if form.new_row is None:
        return form, {"rows_error": str(NEW_EMPLOYERS_TOO_MANY)}
    return form, {"new_row": form.new_row}


@bp.route("/nouveau-besoin", methods=["GET", "POST"])
@login_required
def report_need():
    """An organisme de formation (or the Région) reports a hiring need."""
    org = current_org()
    require(org.kind in (OrgKind.PROVIDER, OrgKind.REGION))
    territories = _territories()
    employers = db.session.scalars(
        select(Organisation)
        .where(Organisation.kind == OrgKind.EMPLOYER)
        .order_by(Organisation.name)
    ).all()
    form, changed = _need_form_rows()
    form.set_choices(territories, employers)

    def page(error: str | None = None):
        return form_page("operations/report_need.html", form=form, error=error)

    if changed is not None:
        # « Ajouter un employeur » / « Retirer »: the form again, nothing validated nor lost.
        return htmx.render(
            "operations/report_need.html", "operations/_new_employers.html", form=form, **changed
        )
    if not form.validate_on_submit():
        return page()
    by_id = {e.id: e for e in employers}
    data = {
        "title": form.title.data.strip(),
        "category": Category(form.category.data),
        "territory": next(t for t in territories if t.id == form.territory_id.data),
        "rome_code": form.rome_code.data,
        "trades": (form.trades.data or "").strip(),
        "positions_estimate": form.positions_estimate.data,
        "desired_start": form.desired_start.data,
        "context": form.context.data.strip(),
        "employers": [by_id[i] for i in form.employer_ids.data if i in by_id],
        "new_employers": [
            (entry.form.name.data.strip(), entry.form.email.data, entry.form.siret.data)
            for entry in form.new_employers
            if entry.form.name.data and entry.form.name.data.strip()
        ],
    }
    return act(
        lambda: services.report_need(data, by=current_user, org=org).id,
        success=lambda operation_id: flash_redirect(
            _("Besoin signalé : la Région (référent·e du bassin) en est informée."),
            url_for("operations.show_operation", operation_id=operation_id),
        ),
        failure=lambda refusal: page(refusal.message),
        keep=(services.ExclusivityError,),  # the Région's notification of the refused need
    )


@bp.get("/<int:operation_id>")
@login_required
def show_operation(operation_id: int):
    """The operation page: steps, key figures, to-do, participants, decisions, timeline."""
    operation = load_operation(operation_id, loader=queries.load_for_page)
    org = current_org()
    steer = can_steer(operation)
    summary = summary_context(operation)
    prefetch_cards(operation)
    target = lifecycle.next_status(operation)
    events, has_more = queries.timeline_page(operation, 1)
    region = is_region()
    return render_template(
        "operations/show.html",
        operation=operation,
        steps=lifecycle.FORWARD,
        step_index=lifecycle.FORWARD.index(operation.status)
        if operation.status in lifecycle.FORWARD
        else None,
        positions=summary["promised"],
        todo=duties_for(current_user, org, membership=current_membership(), operation=operation),
        can_steer=steer,
        may_cancel=lifecycle.may_cancel(operation, by=current_user, org=org),
        region=region,
        target=target,
        unmet=lifecycle.unmet_for_page(operation, target) if target else [],
        analysis_summary=summary,
        events=events,
        has_more=has_more,
        next_page=2,
        describe=describe,
        ack_form=AcknowledgeForm(),
        # Its choices are read only where the form is shown: the Région, a need pending.
        fref_form=_fref_form() if region and operation.funding == Funding.PENDING else None,
        reason_form=ReasonForm(),
        advance_form=AdvanceForm(target=target.value if target else ""),
        Funding=Funding,
    )


def _fref_form(formdata=None) -> FrefForm:
    form = FrefForm(formdata=formdata)
    form.provider_id.choices = [("", _("— Choisir —"))] + [(p.id, p.name) for p in _providers()]
    return form


@bp.get("/<int:operation_id>/chronologie")
@login_required
def timeline(operation_id: int):
    """Older timeline events, a page at a time (htmx appends them; a plain page otherwise)."""
    operation = load_operation(operation_id)
    page = requested_page()
    events, has_more = queries.timeline_page(operation, page)
    return htmx.render(
        "operations/timeline.html",
        "operations/_timeline_items.html",
        operation=operation,
        events=events,
        has_more=has_more,
        next_page=page + 1,
        describe=describe,
    )


@bp.route("/<int:operation_id>/modification", methods=["GET", "POST"])
@login_required
def edit_operation(operation_id: int):
    """Edit the operation's details (organisme porteur or Région)."""
    operation = load_operation(operation_id)
    require(can_steer(operation))
    form = OperationForm(obj=operation if request.method == "GET" else None)

    def page(error: str | None = None):
        return form_page("operations/edit.html", form=form, operation=operation, error=error)

    if not form.validate_on_submit():
        return page()
    data = {name: getattr(form, name).data for name in services.OPERATION_FIELDS}
    for name in ("title", "trades", "certification_title", "context"):
        data[name] = (data[name] or "").strip()
    return act(
        lambda: services.update_operation(operation, data, by=current_user, org=current_org()),
        success=lambda _result: flash_redirect(
            _("Opération enregistrée."),
            url_for("operations.show_operation", operation_id=operation.id),
        ),
        failure=lambda refusal: page(refusal.message),
    )


def _decide(operation, form, action, notice: str):
    """Run a decision posted from the operation page; errors come back as a French flash."""
    back = url_for("operations.show_operation", operation_id=operation.id)
    if not form.validate_on_submit():
        first = next(iter(form.errors.values()), [_("Formulaire incomplet.")])[0]
        return flash_redirect(first, back, "error")
    return act_and_redirect(action, back, notice)


@bp.post("/<int:operation_id>/accuse-reception")
@login_required
def acknowledge(operation_id: int):
    """The Région acknowledges the reported need."""
    operation = load_operation(operation_id)
    require(is_region())
    form = AcknowledgeForm()
    return _decide(
        operation,
        form,
        lambda: services.acknowledge_need(
            operation, by=current_user, org=current_org(), comment=form.comment.data or ""
        ),
        _("Accusé de réception enregistré ; l'organisme porteur est prévenu."),
    )


@bp.post("/<int:operation_id>/fref")
@login_required
def launch_fref(operation_id: int):
    """The Région records a FREF consultation and the organisme finally chosen."""
    operation = load_operation(operation_id)
    require(is_region())
    form = _fref_form(request.form)
    provider = (
        db.session.get(Organisation, form.provider_id.data) if form.provider_id.data else None
    )
    return _decide(
        operation,
        form,
        lambda: services.launch_fref(
            operation,
            reference=form.reference.data,
            provider=provider,
            by=current_user,
            org=current_org(),
        ),
        _("Consultation FREF enregistrée."),
    )


@bp.post("/<int:operation_id>/refus")
@login_required
def decline(operation_id: int):
    """The Région declines a need outside any lot, with a reason."""
    operation = load_operation(operation_id)
    require(is_region())
    form = ReasonForm()
    return _decide(
        operation,
        form,
        lambda: services.decline_need(
            operation, reason=form.reason.data, by=current_user, org=current_org()
        ),
        _("Décision enregistrée ; l'organisme est prévenu."),
    )


@bp.post("/<int:operation_id>/etape")
@login_required
def advance(operation_id: int):
    """Move to the next step, or say which conditions are unmet."""
    operation = load_operation(operation_id)
    require(can_steer(operation))
    form = AdvanceForm()
    target = form.target_status() if form.validate_on_submit() else None
    if target is None:
        abort(400)
    return _decide(
        operation,
        form,
        lambda: lifecycle.advance(operation, target, by=current_user, org=current_org()),
        _("L'opération passe à l'étape « %(step)s ».", step=target.title),
    )


@bp.post("/<int:operation_id>/annulation")
@login_required
def cancel(operation_id: int):
    """Cancel the operation (before it is closed), with a reason, in two steps: the first
    post shows what will stop and asks to confirm; the confirmed post cancels."""
    operation = load_operation(operation_id)
    require(lifecycle.may_cancel(operation, by=current_user, org=current_org()))
    form = CancelOperationForm()
    if not lifecycle.can_cancel(operation) or (form.validate_on_submit() and form.is_confirmed):
        return _decide(
            operation,
            form,
            lambda: lifecycle.cancel(
                operation, reason=form.reason.data, by=current_user, org=current_org()
            ),
            _("Opération annulée ; les participants et la Région en sont informés."),
        )
    page = render_template(
        "operations/cancel.html",
        operation=operation,
        form=form,
        impact=lifecycle.cancellation_impact(operation),
    )
    return page, 422 if form.errors else 200
