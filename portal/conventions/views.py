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
from portal.accounts.members import members_by_org
from portal.accounts.models import Organisation, User
from portal.conventions import bp, services
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
from portal.conventions.state import convention_for_page
from portal.core.actions import act, act_and_redirect, done, field_error
from portal.core.errors import RuleError
from portal.core.french import de
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
    return htmx.render(PAGE, STATUS, status, **context, **extra)


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
    return htmx.render(PAGE, PARTIES, status, **context, **extra)


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
    return act_and_redirect(
        lambda: services.start_convention(operation, by=current_user, org=current_org()),
        url_for("conventions.show_convention", operation_id=operation.id),
        _("Convention préparée : ses articles sont préremplis, à relire."),
    )


@bp.post("/signataires/<int:org_id>")
@login_required
def designate_signer(operation_id: int, org_id: int):
    """Name who signs for the party ``org_id`` and in which capacity."""
    operation, convention = _party_or_404(operation_id, org_id)
    require(may_designate(operation, org_id))
    members = members_by_org([org_id])[org_id]
    form = designate_form(org_id, members, formdata=request.form)
    if not form.validate_on_submit():
        return _parties_response(operation, convention, status=422, forms={org_id: form})
    organisation = db.session.get(Organisation, org_id)
    notice = _("Signataire %(of_org)s enregistré.", of_org=de(organisation.name))
    url = url_for("conventions.show_convention", operation_id=operation.id, _anchor="parties")

    def refused(refusal: RuleError):
        field_error(form, refusal, "user_id")
        return _parties_response(operation, convention, status=422, forms={org_id: form})

    return act(
        lambda: services.designate_signer(
            convention,
            organisation,
            db.session.get(User, form.user_id.data),
            form.capacity.data,
            by=current_user,
            by_org=current_org(),
        ),
        success=lambda _result: done(
            notice, url, lambda: _parties_response(operation, convention, parties_notice=notice)
        ),
        failure=refused,
    )


@bp.post("/signataires/<int:org_id>/confirmation")
@login_required
def confirm_signer(operation_id: int, org_id: int):
    """An admin of the party ``org_id`` confirms the signer proposed for it."""
    operation, convention = _party_or_404(operation_id, org_id)
    require(may_confirm(org_id))
    organisation = db.session.get(Organisation, org_id)
    notice = _("Signataire %(of_org)s confirmé.", of_org=de(organisation.name))
    url = url_for("conventions.show_convention", operation_id=operation.id, _anchor="parties")
    return act(
        lambda: services.confirm_signer(
            convention, organisation, by=current_user, by_org=current_org()
        ),
        success=lambda _result: done(
            notice, url, lambda: _parties_response(operation, convention, parties_notice=notice)
        ),
        failure=lambda refusal: _parties_response(
            operation, convention, status=422, parties_error=refusal.message
        ),
    )


def _submitted(operation: Operation, number: int):
    """A new version changes the whole page: the browser goes to it (htmx too)."""
    flash(_("Version %(n)s soumise aux signatures des parties.", n=number), "success")
    url = url_for("conventions.show_version", operation_id=operation.id, number=number)
    if htmx.is_htmx():
        return htmx.redirect(make_response("", 204), url)
    return redirect(url, 303)


@bp.post("/soumission")
@login_required
def submit_convention(operation_id: int):
    """Freeze the convention as a new version and ask every party to sign it."""
    operation, convention = load_started(operation_id)
    require(can_steer(operation))
    error = _("La convention ne peut pas encore être soumise : voir ce qui manque.")
    return act(
        lambda: services.submit(convention, by=current_user, org=current_org()).number,
        success=lambda number: _submitted(operation, number),
        failure=lambda _refusal: _status_response(
            operation, convention, status=422, submit_error=error
        ),
    )


# --- The operation page ------------------------------------------------------------------


@bp.app_template_global()
def convention_card(operation: Operation) -> dict | None:
    """What the operation page says of the convention (None before its step)."""
    convention = convention_for_page(operation)
    if convention is None and operation.status != Status.CONVENTION:
        return None
    return {
        "started": convention is not None,
        "state": services.state(convention),
        "reference": convention.reference if convention else None,
        "in_force": services.in_force(convention) if convention else None,
    }
