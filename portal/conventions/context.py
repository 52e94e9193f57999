"""What the convention page renders: loaders and context builders shared by the convention
routes, the version routes and the design routes (a clause is a design section shown on
the convention page)."""

from flask import abort, render_template
from flask_babel import gettext as _
from sqlalchemy import inspect

from portal.accounts.access import current_membership
from portal.accounts.forms import EmptyForm
from portal.accounts.members import members_by_org
from portal.accounts.models import User
from portal.conventions import diffs, queries, services
from portal.conventions.forms import DesignateSignerForm
from portal.conventions.models import Convention, VersionStatus
from portal.conventions.snapshot import changed_parts
from portal.design import context as design_context
from portal.design.models import Design, DesignSection
from portal.operations import dual_memberships
from portal.operations.access import can_steer, is_region, load_operation
from portal.operations.models import Operation, Status

PAGE = "conventions/show.html"


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


def may_confirm(organisation_id: int) -> bool:
    """The organisation's admins decide who signs for it (and confirm a proposal)."""
    membership = current_membership()
    return (
        membership is not None
        and membership.organisation_id == organisation_id
        and membership.is_admin
    )


def may_designate(operation: Operation, organisation_id: int) -> bool:
    """The organisation's admins name the signer; the organisme porteur and the Région
    may propose one, which the organisation's admins confirm."""
    return can_steer(operation) or may_confirm(organisation_id)


def status_context(operation: Operation, convention: Convention, snapshot: dict) -> dict:
    """The state, the version of reference, what changed since it, and submission.

    The reference is the version collecting signatures, else the one in force (what an
    amendment changes), else a rejected first version (what changed since the Région sent
    it back): the draft is compared with it part by part, and in full (``draft_diff``).
    """
    current = services.open_version(convention)
    force = services.in_force(convention)
    latest = services.latest_version(convention)
    rejected = (
        latest if current is None and latest and latest.status == VersionStatus.REJECTED else None
    )
    reference = current or force or rejected
    before = services.snapshot_of(reference) if reference else None
    changed = changed_parts(before, snapshot) if reference else []
    steering = can_steer(operation)
    # Nothing changed since the version out for signature (or in force): there is nothing
    # to submit, so neither the button nor what would be missing to submit applies.
    up_to_date = reference is not None and reference is not rejected and not changed
    submittable = steering and operation.is_open and not up_to_date
    return {
        "state": services.state(convention),
        "open_version": current,
        "in_force": force,
        "awaiting_region": current is not None and current.status == VersionStatus.SIGNED,
        "reference": reference,
        "rejected": rejected,
        "changed_titles": diffs.part_titles(changed),
        "draft_diff": diffs.snapshot_diff(before, snapshot) if changed else [],
        "design_changed": "design" in changed,
        "can_submit": submittable,
        "submission_problems": services.submission_problems(convention) if submittable else [],
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
    # When some are needed, every participant's people (loaded with the page): the mentions
    # of the clauses' comments read the same, in the same query.
    wanted = [org_id for org_id in editable if org_id not in forms]
    participating = []
    if "participants" not in inspect(operation).unloaded:
        participating = [
            p.organisation_id for p in operation.participants if p.withdrawn_at is None
        ]
    members = members_by_org(participating + wanted) if wanted else {}
    force = services.in_force(convention)
    in_force_parties = services.snapshot_of(force)["parties"] if force else None
    in_force_ids = {p["organisation_id"] for p in in_force_parties or []}
    parties = []
    for party in snapshot["parties"]:
        org_id = party["organisation_id"]
        designation = services.signer_for(convention, org_id) if party["signs"] else None
        form = None
        if org_id in editable:
            form = forms.get(org_id) or designate_form(org_id, members[org_id], designation)
        parties.append(
            {
                "party": party,
                "designation": designation,
                "form": form,
                "signed": org_id in signed,
                # Named by the draft, not by the version in force: joins by the amendment.
                "joining": in_force_parties is not None and org_id not in in_force_ids,
                "confirm": designation is not None
                and not designation.is_confirmed
                and org_id not in signed
                and operation.is_open
                and may_confirm(org_id),
            }
        )
    draft_ids = {p["organisation_id"] for p in snapshot["parties"]}
    return {
        "parties": parties,
        "leaving_parties": [
            p for p in in_force_parties or [] if p["organisation_id"] not in draft_ids
        ],
        "button_form": EmptyForm(formdata=None),
        # A person in two parties (issue #11 M6): approved (the mention), or blocking.
        "cumuls": dual_memberships.of_operation(operation),
    }


def promises_context(convention: Convention, snapshot: dict) -> dict:
    """The draft's promises, those an amendment adds flagged, and those it withdraws."""
    force = services.in_force(convention)
    before = services.snapshot_of(force)["promises"] if force else None
    old_ids = {p["position_id"] for p in before or []}
    new_ids = {p["position_id"] for p in snapshot["promises"]}
    return {
        "promises": [
            {
                **diffs.promise_record(p),
                "joining": before is not None and p["position_id"] not in old_ids,
            }
            for p in snapshot["promises"]
        ],
        "withdrawn_promises": [
            diffs.promise_record(p) for p in before or [] if p["position_id"] not in new_ids
        ],
    }


def clause_contexts(design: Design | None, focus: DesignSection | None, overrides: dict):
    """The context of each clause for ``design/_section.html``; ``focus`` gets ``overrides``."""
    if design is None:
        return None, []
    return design_context.part_contexts(design, design.clauses, focus, overrides)


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
    # Before the snapshot, which then reads the design's sections from it (no query).
    design = queries.load_design_with_clauses(operation.id)
    snapshot = services.current_snapshot(convention)
    shared, clauses = clause_contexts(design, focus, overrides)
    context.update(shared or {})
    context.update(status_context(operation, convention, snapshot))
    context.update(parties_context(operation, convention, snapshot, designate_forms))
    context.update(promises_context(convention, snapshot))
    context.update(
        clauses=clauses,
        versions=list(reversed(services.versions(convention))),
    )
    return context


def clause_page(operation: Operation, section: DesignSection, *, status: int = 200, **overrides):
    """The convention page with one clause in the given state (the design routes' answer
    to a plain request on a clause: its form, its errors, its conflict)."""
    convention = queries.load_convention(operation.id)
    context = page_context(operation, convention, focus=section, **overrides)
    return render_template(PAGE, **context), status
