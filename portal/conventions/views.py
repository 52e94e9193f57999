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
from portal.accounts.access import current_membership, current_org, require
from portal.accounts.forms import EmptyForm
from portal.accounts.models import Organisation, User
from portal.conventions import bp, diffs, queries, services
from portal.conventions.forms import DesignateSignerForm
from portal.conventions.models import Convention, VersionStatus
from portal.conventions.snapshot import changed_parts
from portal.core.errors import RuleError
from portal.design import queries as design_queries
from portal.design import views as design_views
from portal.design.comments_views import comment_helpers
from portal.design.models import DesignSection
from portal.extensions import db
from portal.operations.access import can_steer, is_region, load_operation
from portal.operations.models import Operation, Status

PAGE = "conventions/show.html"
STATUS = "conventions/_status.html"
PARTIES = "conventions/_parties.html"


@bp.context_processor
def section_helpers() -> dict:
    """The clauses render the design's comment blocks, which need these helpers."""
    return comment_helpers()


# --- Loading and rights ------------------------------------------------------------------


def load(operation_id: int) -> tuple[Operation, Convention | None]:
    """The operation (404 unless visible) and its convention, if started."""
    operation = load_operation(operation_id, loader=queries.operation_for_page)
    return operation, queries.load_convention(operation.id)


def load_started(operation_id: int) -> tuple[Operation, Convention]:
    """The operation and its convention (404 if not started)."""
    operation, convention = load(operation_id)
    if convention is None:
        abort(404)
    return operation, convention


def may_designate(operation: Operation, organisation_id: int) -> bool:
    """The organisation's admins, the organisme porteur and the Région name the signer."""
    if can_steer(operation):
        return True
    membership = current_membership()
    return (
        membership is not None
        and membership.organisation_id == organisation_id
        and membership.is_admin
    )


# --- Contexts ----------------------------------------------------------------------------


def status_context(operation: Operation, convention: Convention, snapshot: dict) -> dict:
    """The state, the version of reference, what changed since it, and submission."""
    current = services.open_version(convention)
    force = services.in_force(convention)
    reference = current or force
    latest = services.latest_version(convention)
    changed = changed_parts(services.snapshot_of(reference), snapshot) if reference else []
    steering = can_steer(operation)
    return {
        "state": services.state(convention),
        "open_version": current,
        "in_force": force,
        "awaiting_region": current is not None and current.status == VersionStatus.SIGNED,
        "reference": reference,
        "rejected": latest
        if current is None and latest and latest.status == VersionStatus.REJECTED
        else None,
        "changed_titles": diffs.part_titles(changed),
        "design_changed": "design" in changed,
        "can_submit": steering and operation.is_open,
        "submission_problems": services.submission_problems(convention) if steering else [],
        "button_form": EmptyForm(formdata=None),
    }


def designate_form(organisation_id: int, members: list[User], designation=None, formdata=None):
    """The designation form of one party: its members, prefilled with the current signer."""
    data = {"user_id": designation.user_id, "capacity": designation.capacity} if designation else {}
    form = DesignateSignerForm(formdata=formdata, prefix=f"signer-{organisation_id}", data=data)
    form.user_id.choices = [("", _("— Choisir une personne —"))] + [
        (user.id, user.full_name) for user in members
    ]
    return form


def parties_context(
    operation: Operation, convention: Convention, snapshot: dict, forms: dict | None = None
) -> dict:
    """Each party with its designated signer and, for those allowed, the designation form."""
    forms = forms or {}
    signing = services.signing_parties(snapshot)
    current = services.open_version(convention)
    signed = {s.organisation_id for s in services.valid_signatures(current)} if current else set()
    editable = [
        p["organisation_id"]
        for p in signing
        if operation.is_open
        and p["organisation_id"] not in signed
        and may_designate(operation, p["organisation_id"])
    ]
    members = queries.members_by_org([org_id for org_id in editable if org_id not in forms])
    parties = []
    for party in snapshot["parties"]:
        org_id = party["organisation_id"]
        designation = services.signer_for(convention, org_id) if party["signs"] else None
        form = None
        if org_id in editable:
            form = forms.get(org_id) or designate_form(org_id, members[org_id], designation)
        parties.append(
            {"party": party, "designation": designation, "form": form, "signed": org_id in signed}
        )
    return {"parties": parties, "button_form": EmptyForm(formdata=None)}


def clause_contexts(operation: Operation, focus: DesignSection | None, overrides: dict):
    """The context of each clause for ``design/_section.html``; ``focus`` gets ``overrides``."""
    design = queries.load_design_with_clauses(operation.id)
    if design is None:
        return None, []
    maps = {
        "shared": design_views.shared_context(design),
        "threads": design_queries.threads_by_section(design),
        "counts": design_queries.open_counts(design),
        "drafts": design_views.drafts_by_section(design),
    }
    contexts = []
    for section in design.clauses:
        extra = overrides if focus is not None and section.id == focus.id else {}
        contexts.append(design_views.section_context(design, section, **maps, **extra))
    return maps["shared"], contexts


def page_context(
    operation: Operation,
    convention: Convention | None,
    *,
    focus: DesignSection | None = None,
    designate_forms: dict | None = None,
    **overrides,
) -> dict:
    """The whole page; the clause ``focus`` is shown with ``overrides`` (edit, errors…)."""
    steering = can_steer(operation)
    context = {
        "operation": operation,
        "convention": convention,
        "steering": steering,
        "region": is_region(),
        "can_start": convention is None and operation.status == Status.CONVENTION and steering,
        "button_form": EmptyForm(formdata=None),
    }
    if convention is None:
        return context
    snapshot = services.current_snapshot(convention)
    shared, clauses = clause_contexts(operation, focus, overrides)
    context.update(shared or {})
    context.update(status_context(operation, convention, snapshot))
    context.update(parties_context(operation, convention, snapshot, designate_forms))
    context.update(
        clauses=clauses,
        promises=[diffs.promise_record(p) for p in snapshot["promises"]],
        versions=list(reversed(services.versions(convention))),
    )
    return context


def clause_page(operation: Operation, section: DesignSection, *, status: int = 200, **overrides):
    """The convention page with one clause in the given state (the design routes' answer
    to a plain request on a clause: its form, its errors, its conflict)."""
    convention = queries.load_convention(operation.id)
    context = page_context(operation, convention, focus=section, **overrides)
    return render_template(PAGE, **context), status


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
    operation, convention = load_started(operation_id)
    snapshot = services.current_snapshot(convention)
    if org_id not in {p["organisation_id"] for p in services.signing_parties(snapshot)}:
        abort(404)
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
    if htmx.is_htmx():
        return _parties_response(operation, convention, parties_notice=notice)
    flash(notice, "success")
    return redirect(
        url_for("conventions.show_convention", operation_id=operation.id, _anchor="parties"), 303
    )


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
