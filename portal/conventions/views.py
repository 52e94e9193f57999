"""The convention page: its state, the clauses, the parties and their signers, the job
promises, submission for signature and the history of versions.

The clauses are sections of the design: they render with ``design/_section.html`` and
are edited, merged, commented and historised by the design's routes (``design.*`` with
``key=conv_…``), which come back here when the browser runs without JavaScript
(``clause_page``). The version pages and the signing routes are in
``version_views.py`` and ``signing_views.py``.
"""

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import htmx
from portal.accounts.access import current_org, require
from portal.accounts.models import Organisation, User
from portal.conventions import bp, queries, services
from portal.conventions.context import (
    PAGE,
    designate_form,
    load,
    load_started,
    may_confirm,
    may_designate,
    page_context,
    parties_context,
    status_context,
)
from portal.core.errors import RuleError
from portal.design.comment_context import comment_helpers
from portal.extensions import db
from portal.operations.access import can_steer
from portal.operations.models import Operation, Status

STATUS = "conventions/_status.html"
PARTIES = "conventions/_parties.html"


@bp.context_processor
def section_helpers() -> dict:
    """The clauses render the design's comment blocks, which need these helpers."""
    return comment_helpers()


# --- Loading and rights ------------------------------------------------------------------


# --- Contexts ----------------------------------------------------------------------------


def _status_response(operation, convention, *, status: int = 200, **extra):
    """htmx: the state block alone; a plain request: the page."""
    snapshot = services.current_snapshot(convention)
    if htmx.is_htmx():
        context = {
            "operation": operation,
            "convention": convention,
            **status_context(operation, convention, snapshot),
        }
    else:
        context = page_context(operation, convention)
    return htmx.render(PAGE, STATUS, status=status, **context, **extra)


def _parties_response(operation, convention, *, status: int = 200, forms=None, **extra):
    """htmx: the parties block, with the state block out of band; otherwise the page."""
    if htmx.is_htmx():
        snapshot = services.current_snapshot(convention)
        context = {
            "operation": operation,
            "convention": convention,
            "oob_status": True,
            **status_context(operation, convention, snapshot),
            **parties_context(operation, convention, snapshot, forms),
        }
    else:
        context = page_context(operation, convention, designate_forms=forms)
    return htmx.render(PAGE, PARTIES, status=status, **context, **extra)


def _parties_done(operation, convention, notice: str):
    """After a change of signer: htmx, the parties block; otherwise back to the page."""
    if htmx.is_htmx():
        return _parties_response(operation, convention, parties_notice=notice)
    flash(notice, "success")
    return redirect(
        url_for("conventions.show_convention", operation_id=operation.id, _anchor="parties"), 303
    )


def _party_or_404(operation_id: int, org_id: int):
    """The operation and its started convention, if ``org_id`` is a signing party (or 404)."""
    operation, convention = load_started(operation_id)
    snapshot = services.current_snapshot(convention)
    if org_id not in {p["organisation_id"] for p in services.signing_parties(snapshot)}:
        abort(404)
    return operation, convention


# --- Routes ------------------------------------------------------------------------------


@bp.get("")
@login_required
def show_convention(operation_id: int):
    """The convention of the operation (htmx: its state block, refreshed after a clause
    changed, so that the notice of a change since the last version appears at once)."""
    operation, convention = load(operation_id)
    if htmx.is_htmx() and convention is not None:
        return _status_response(operation, convention)
    return render_template(PAGE, **page_context(operation, convention))


@bp.post("/demarrage")
@login_required
def start_convention(operation_id: int):
    """The organisme porteur or the Région prepares the convention (clauses prefilled)."""
    operation, _convention = load(operation_id)
    require(can_steer(operation))
    try:
        services.start_convention(operation, by=current_user, org=current_org())
    except RuleError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_("Convention préparée : ses articles sont préremplis, à relire."), "success")
    return redirect(url_for("conventions.show_convention", operation_id=operation.id), 303)


@bp.post("/signataires/<int:org_id>")
@login_required
def designate_signer(operation_id: int, org_id: int):
    """Name who signs for the party ``org_id`` and in which capacity."""
    operation, convention = _party_or_404(operation_id, org_id)
    require(may_designate(operation, org_id))
    members = queries.members_by_org([org_id])[org_id]
    form = designate_form(org_id, members, formdata=request.form)
    if not form.validate_on_submit():
        return _parties_response(operation, convention, status=422, forms={org_id: form})
    organisation = db.session.get(Organisation, org_id)
    try:
        services.designate_signer(
            convention,
            organisation,
            db.session.get(User, form.user_id.data),
            form.capacity.data,
            by=current_user,
            by_org=current_org(),
        )
    except RuleError as exc:
        db.session.rollback()
        field = form[exc.field] if exc.field in ("user_id", "capacity") else form.user_id
        field.errors = [*field.errors, exc.message]
        return _parties_response(operation, convention, status=422, forms={org_id: form})
    db.session.commit()
    notice = _("Signataire de %(org)s enregistré.", org=organisation.name)
    return _parties_done(operation, convention, notice)


@bp.post("/signataires/<int:org_id>/confirmation")
@login_required
def confirm_signer(operation_id: int, org_id: int):
    """An admin of the party ``org_id`` confirms the signer proposed for it."""
    operation, convention = _party_or_404(operation_id, org_id)
    require(may_confirm(org_id))
    organisation = db.session.get(Organisation, org_id)
    try:
        services.confirm_signer(convention, organisation, by=current_user, by_org=current_org())
    except RuleError as exc:
        db.session.rollback()
        return _parties_response(operation, convention, status=422, parties_error=exc.message)
    db.session.commit()
    notice = _("Signataire de %(org)s confirmé.", org=organisation.name)
    return _parties_done(operation, convention, notice)


@bp.post("/soumission")
@login_required
def submit_convention(operation_id: int):
    """Freeze the convention as a new version and ask every party to sign it."""
    operation, convention = load_started(operation_id)
    require(can_steer(operation))
    try:
        version = services.submit(convention, by=current_user, org=current_org())
    except RuleError:
        db.session.rollback()
        error = _("La convention ne peut pas encore être soumise : voir ce qui manque.")
        return _status_response(operation, convention, status=422, submit_error=error)
    number = version.number
    db.session.commit()
    flash(_("Version %(n)s soumise aux signatures des parties.", n=number), "success")
    url = url_for("conventions.show_version", operation_id=operation.id, number=number)
    if htmx.is_htmx():
        # A new version changes the whole page: the browser goes to it.
        return htmx.redirect(make_response("", 204), url)
    return redirect(url, 303)


# --- The operation page ------------------------------------------------------------------


@bp.app_template_global()
def convention_card(operation: Operation) -> dict | None:
    """What the operation page says of the convention (None before its step)."""
    convention = services.convention_for(operation)
    if convention is None and operation.status != Status.CONVENTION:
        return None
    return {
        "started": convention is not None,
        "state": services.state(convention),
        "reference": convention.reference if convention else None,
        "in_force": services.in_force(convention) if convention else None,
    }
