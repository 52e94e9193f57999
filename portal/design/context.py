"""What the co-design pages and fragments render: loaders and context builders shared by
the design views, the live updates and the convention pages (which render clauses
through the same section widget)."""

from flask import abort
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.accounts.forms import EmptyForm
from portal.design import content, queries, rhythm, services
from portal.design.drafts import changed_sections, draft_change, is_amending
from portal.design.merge import render_conflict, resolve_text
from portal.design.models import Design, DesignSection, SectionKey, SectionRevision
from portal.extensions import db
from portal.operations import needs
from portal.operations.access import can_steer, is_region, load_operation
from portal.operations.models import Operation, Participant, Status


def operation_for_page(operation_id: int) -> Operation | None:
    """The operation with its participants' organisations and its provider, in one query
    (who may see it and who may be mentioned are read from them, no query)."""
    query = (
        select(Operation)
        .where(Operation.id == operation_id)
        .options(
            joinedload(Operation.participants).joinedload(Participant.organisation),
            joinedload(Operation.provider),
        )
    )
    return db.session.scalars(query).unique().one_or_none()


def load(operation_id: int) -> tuple[Operation, Design]:
    """The operation (404 unless visible) and its design (404 if not started)."""
    operation = load_operation(operation_id, loader=operation_for_page)
    design = queries.load_design(operation.id)
    if design is None:
        abort(404)
    return operation, design


def load_section(operation_id: int, key: str) -> tuple[Operation, Design, DesignSection]:
    """The operation, its design and the section named ``key`` in the URL (its
    ``DesignSection.slug``); 404 for an unknown one, or a clause before the convention."""
    operation, design = load(operation_id)
    # A co-design section came with the design (``load_design``); the others are read.
    loaded = next((s for s in design.sections if s.meeting_id is None and s.slug == key), None)
    section = loaded or queries.section_by_slug(operation.id, key)
    if section is None:
        abort(404)
    return operation, design, section


def drafts_by_section(design: Design) -> dict[int, SectionRevision]:
    """The current user's newest unresolved draft per section (one query)."""
    drafts = db.session.scalars(
        select(SectionRevision)
        .join(DesignSection, DesignSection.id == SectionRevision.section_id)
        .where(
            DesignSection.design_id == design.id,
            SectionRevision.kind == "draft",
            SectionRevision.author_id == current_user.id,
            SectionRevision.resolved_at.is_(None),
        )
        .order_by(SectionRevision.id)
    ).all()
    return {draft.section_id: draft for draft in drafts}


def shared_context(design: Design) -> dict:
    """What every section of the design reads: who may do what, names of employers and
    skills. The operation's participants should be loaded (``load`` does)."""
    operation = design.operation
    names = {p.organisation_id: p.organisation.name for p in operation.participants}
    # An operation carried over without a co-design has only its evaluation's parts.
    skills_section = next((s for s in design.sections if s.key == SectionKey.SKILLS), None)
    skills = content.skill_labels(skills_section.content if skills_section else {})
    steering = can_steer(operation)
    return {
        "operation": operation,
        "design": design,
        "steering": steering,
        "region": is_region(),
        "open_for_edit": services.is_design_open(operation),
        "co_design": operation.status == Status.CO_DESIGN,
        "employers": [(o.id, o.name) for o in needs.employer_participants(operation)],
        "names": names,
        "skills": skills,
        "describe": lambda key, item: content.describe_item(key, item, names, skills),
        # The employers who asked for a skill, by name (several when their needs agreed).
        "asked_by": lambda item: [names.get(i, "?") for i in content.skill_askers(item)],
        "button_form": EmptyForm(formdata=None),
        "period_kinds": rhythm.PERIOD_KINDS,
        "module_places": rhythm.MODULE_PLACES,
    }


def section_context(
    design: Design,
    section: DesignSection,
    *,
    shared: dict | None = None,
    threads: dict | None = None,
    counts: dict | None = None,
    drafts: dict | None = None,
    **overrides,
) -> dict:
    """Everything ``design/_section.html`` needs to render ``section`` on its own.

    ``shared``, ``threads`` (``queries.threads_by_section``), ``counts``
    (``queries.open_counts``) and ``drafts`` are computed once by the page for all sections;
    a fragment view leaves them out. ``overrides``: ``mode`` (view, edit, conflict),
    ``form``, ``base_version``, ``notice``, ``error``, ``conflict``, ``oob_gate`` (also
    render the gate out of band, after a change that may alter it).

    When the current user has a conflict draft on the section, it opens in conflict mode
    (unless ``mode`` is given): their text waits there until they decide.
    """
    shared = shared if shared is not None else shared_context(design)
    if threads is None:  # a fragment: this section's threads, its badge counted from them
        threads = queries.threads_by_section(design, section)
        if counts is None:
            shown = threads.get(section.id, [])
            counts = {section.id: sum(1 for t in shown if t.resolved_at is None)}
    counts = counts if counts is not None else queries.open_counts(design)
    open_for_edit = services.is_open_for_edit(section)
    context = {
        **shared,
        "open_for_edit": open_for_edit,
        "section": section,
        "key": section.slug,
        "threads": threads.get(section.id, []),
        "open_count": counts.get(section.id, 0),
        "mode": "view",
        "form": None,
        "base_version": section.version,
        "notice": None,
        "error": None,
        "conflict": None,
        "oob_gate": False,
        "can_edit": open_for_edit
        and services.can_edit_section(section, steering=shared["steering"]),
    }
    if section.key.is_design:
        context["draft_change"] = draft_change(design, section, shared["names"], shared["skills"])
    if section.key == SectionKey.RHYTHM:
        context["rhythm"] = {
            "periods": rhythm.periods(design),
            "totals": rhythm.totals(design),
            "issues": rhythm.hours_issues(design),
        }
    if "mode" not in overrides:
        drafts = drafts if drafts is not None else drafts_by_section(design)
        if section.id in drafts:
            context.update(conflict_context(section, drafts[section.id]))
    context.update(overrides)
    # The gate to the convention is on the page during co-design only.
    context["oob_gate"] = context["oob_gate"] and shared["co_design"]
    if context["oob_gate"]:
        context.update(gate_context(design))
    return context


def part_contexts(
    design: Design, sections: list[DesignSection], focus: DesignSection | None, overrides: dict
) -> tuple[dict, list[dict]]:
    """The shared context and each section's context for a page showing one part of the
    design (the convention's clauses, the evaluation's written parts); ``focus`` gets
    ``overrides``."""
    maps = {
        "shared": shared_context(design),
        "threads": queries.threads_by_section(design),
        "drafts": drafts_by_section(design),
    }
    maps["counts"] = queries.counts_from(maps["threads"])
    contexts = []
    for section in sections:
        extra = overrides if focus is not None and section.id == focus.id else {}
        contexts.append(section_context(design, section, **maps, **extra))
    return maps["shared"], contexts


def conflict_context(
    section: DesignSection, draft: SectionRevision, *, theirs_version: int | None = None
) -> dict:
    """The conflict view of ``draft`` (the user's kept text) against the section as it is,
    or as it was at ``theirs_version`` (the version the user resolved against)."""
    base_revision = services.revision_at(section, draft.base_version)
    base = base_revision.content if base_revision else services.empty_content(section.key)
    theirs_version = theirs_version or section.version
    if theirs_version == section.version:
        theirs = section.content
    else:
        theirs_revision = services.revision_at(section, theirs_version)
        if theirs_revision is None:
            abort(404)
        theirs = theirs_revision.content
    merge = content.merge_draft(section.key, base, draft.content, theirs)
    text = not section.key.is_list
    return {
        "mode": "conflict",
        "base_version": theirs_version,
        "conflict": {
            "draft": draft,
            "merge": merge,
            "segments": render_conflict(merge) if text else None,
            "mine": draft.content,
            "theirs": theirs,
            "theirs_version": theirs_version,
            "custom_text": resolve_text(merge, "mine") if text else None,
        },
    }


def gate_context(design: Design | None) -> dict:
    """The gate to the convention: unmet conditions, besides the Région's approval."""
    return {
        "gate_problems": services.design_problems(design, include_approval=False),
        "approval_form": EmptyForm(formdata=None),
    }


def page_context(operation: Operation, design: Design | None, focus=None, **focus_overrides):
    """The whole page; the section ``focus`` (a DesignSection) gets ``focus_overrides``."""
    context = {
        "operation": operation,
        "design": design,
        "sections": [],
        "steering": can_steer(operation),
        "region": is_region(),
        "can_start": not services.is_started(design)
        and operation.status == Status.CO_DESIGN
        and can_steer(operation),
        "button_form": EmptyForm(formdata=None),
    }
    if not services.is_started(design):
        context["design"] = None
        return context
    shared = shared_context(design)
    maps = {
        "shared": shared,
        "threads": queries.threads_by_section(design),
        "drafts": drafts_by_section(design),
    }
    maps["counts"] = queries.counts_from(maps["threads"])
    context.update(shared)
    for section in design.sections:
        overrides = focus_overrides if focus is not None and section.id == focus.id else {}
        context["sections"].append(section_context(design, section, **maps, **overrides))
    context.update(gate_context(design))
    context["filled"] = {s.id: services.is_filled(s) for s in design.sections}
    context["draft"] = draft_context(design)
    return context


def draft_context(design: Design) -> dict:
    """What the page says of the draft after co-design: of the convention, until a first
    version is validated; then of the next amendment, the version in force staying the
    validated one (``drafts.py``)."""
    operation = design.operation
    return {
        "after_co_design": operation.status != Status.CO_DESIGN and operation.is_open,
        "amending": is_amending(design),
        "changed": [s.key.title for s in changed_sections(design)],
    }
