"""Business verbs of the co-design: save with merge, resolve, restore, validate, approve.
They flush and never commit; nothing typed is ever lost. Starting a design is in
``start.py``, the comment threads in ``comments.py``, the presence in ``presence.py``."""

import uuid
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import JSON, and_, case, exists, func, not_, or_, select, type_coerce

from portal.accounts.models import Organisation, OrgKind, User
from portal.assessment.models import Assessment
from portal.core.errors import RuleError
from portal.core.locking import lock
from portal.core.time import utcnow
from portal.design import merge
from portal.design.comments import open_blocking_comments
from portal.design.models import (
    LIST_SECTIONS,
    Design,
    DesignComment,
    DesignSection,
    SectionKey,
    SectionRevision,
)
from portal.design.rhythm import hours_issues
from portal.extensions import db
from portal.operations.events import log_event
from portal.operations.models import (
    AMENDMENT_STEPS,
    DRAFTING_STEPS,
    Operation,
    Status,
)


def new_id() -> str:
    """A stable id for a list item (skills, modules, periods)."""
    return uuid.uuid4().hex


def empty_content(key: SectionKey) -> dict:
    return {"items": []} if key.is_list else {"text": ""}


def is_filled(section: DesignSection) -> bool:
    if section.key.is_list:
        return bool(section.content.get("items"))
    return bool((section.content.get("text") or "").strip())


def design_for(operation: Operation) -> Design | None:
    return db.session.scalar(select(Design).where(Design.operation_id == operation.id))


def filled_sql():
    """``is_filled`` of a ``DesignSection`` row, said by the database — or more: a text of
    other blanks than spaces is filled here, never the other way round (``may_pass_sql``)."""
    items = func.coalesce(func.json_array_length(DesignSection.content["items"]), 0) > 0
    text = func.coalesce(func.trim(DesignSection.content["text"].as_string()), "") != ""
    return or_(and_(DesignSection.key.in_(LIST_SECTIONS), items),
               and_(DesignSection.key.not_in(LIST_SECTIONS), text))  # fmt: skip


def may_pass_sql():
    """A condition on a ``Design`` row that holds whenever ``design_problems(design,
    include_approval=False)`` finds none: the design started, its mandatory sections
    filled, no blocking thread open — said by the database, so that only the designs it
    selects need their rhythm's hours checked in Python (issue #16)."""
    mine = DesignSection.design_id == Design.id
    mandatory = [key for key in SectionKey.design_keys() if key.mandatory]
    return and_(
        exists().where(mine, DesignSection.key.in_(SectionKey.design_keys())),
        ~exists().where(mine, DesignSection.key.in_(mandatory), not_(filled_sql())),
        ~exists().where(
            mine,
            DesignComment.section_id == DesignSection.id,
            DesignSection.meeting_id.is_(None),
            DesignComment.blocking.is_(True),
            DesignComment.resolved_at.is_(None),
        ),
    )


@dataclass
class GateSection:
    """What the gate reads of a section: its key, and of its content only ``text`` and
    ``items``."""

    key: SectionKey
    content: dict


@dataclass
class GateDesign:
    """What ``design_problems`` reads of a design — its operation's dates and hours and its
    sections (the design's own, in id order) — read as plain rows, without the ORM, for
    the Région's « À faire » over many designs (issue #16). ``operation``: a row with the
    operation's ``operation_id``, ``title``, session dates and hours."""

    id: int
    operation: Any
    sections: list[GateSection] = field(default_factory=list)
    approved_at: None = None
    in_force: None = None
    gate_met: bool | None = None  # as stored (``gate.py``)

    def section(self, key: SectionKey) -> GateSection:
        return next(s for s in self.sections if s.key == key)


PARSED = (SectionKey.RHYTHM, SectionKey.MODULES)  # their items checked by ``hours_issues``


def gate_designs(designs, connection=None) -> list[GateDesign]:
    """The designs ``designs`` selects (a ``select`` of ``Design.id`` joined to its
    ``Operation``, in the order wanted, or a list of ids) as ``GateDesign``s, in one query
    (on ``connection`` when given: ``gate.py`` reads them while the session flushes)."""
    query = (
        select(
            Design.id,
            Design.operation_id,
            Design.gate_met,
            Operation.title,
            Operation.session_start,
            Operation.session_end,
            Operation.hours_centre,
            Operation.hours_company,
            DesignSection.key,
            # what the gate reads of a content, no more JSON parsed than the rhythm's and
            # the modules' items (at 10,000 operations, parsing every section cost ~1 s):
            # a text, the number of items of the other lists
            DesignSection.content["text"].as_string().label("text"),
            type_coerce(
                case((DesignSection.key.in_(PARSED), DesignSection.content["items"])), JSON
            ).label("items"),
            func.json_array_length(DesignSection.content["items"]).label("n_items"),
        )
        .join(Operation, Operation.id == Design.operation_id)
        .outerjoin(
            DesignSection,
            and_(
                DesignSection.design_id == Design.id,
                DesignSection.key.in_(SectionKey.design_keys()),
            ),
        )
        .where(Design.id.in_(designs))
        .order_by(Design.id, DesignSection.id)
    )
    found: dict[int, GateDesign] = {}
    for row in (connection or db.session).execute(query):
        design = found.get(row.id)
        if design is None:
            design = found[row.id] = GateDesign(row.id, row, gate_met=row.gate_met)
        if row.key is not None:
            content = {"text": row.text} if row.text is not None else {}
            if row.items is not None:
                content["items"] = row.items
            elif row.n_items is not None:
                content["items"] = range(row.n_items)  # only its length is read
            design.sections.append(GateSection(row.key, content))
    return list(found.values())


def is_started(design: Design | None) -> bool:
    """The co-design has begun: its sections exist. (A design may exist before it, holding
    only the evaluation's parts or the committee's minutes.)"""
    return design is not None and bool(design.sections)


def is_open_for_edit(section: DesignSection) -> bool:
    """Design sections change from co-design on, as long as the convention may be drafted or
    amended; the convention's clauses while it is drafted or amended; the evaluation's
    written parts during the follow-up while the evaluation is a draft or sent back by the
    Région; a meeting's minutes once the meeting began, until the organisme porteur
    approves them."""
    key, operation = section.key, section.design.operation
    if key.is_clause:
        return operation.status in DRAFTING_STEPS + AMENDMENT_STEPS
    if key.is_assessment:
        if operation.status != Status.FOLLOW_UP:
            return False
        status = db.session.scalar(
            select(Assessment.status).where(Assessment.operation_id == operation.id)
        )
        return status is not None and status.editable
    if key.is_minutes:
        meeting = section.meeting
        done = meeting.is_cancelled or meeting.minutes_approved
        return operation.is_open and meeting.has_started() and not done
    return is_design_open(operation)


def is_design_open(operation: Operation) -> bool:
    """The training's sections are editable from co-design on: after it they are a draft of
    the convention, then of the next amendment once a version is in force (``drafts.py``)."""
    return operation.status in (Status.CO_DESIGN, *DRAFTING_STEPS, *AMENDMENT_STEPS)


def closed_message(key: SectionKey) -> str:
    """Why a section cannot change at the operation's step."""
    if key.is_clause:
        return _("Les articles de la convention ne se modifient pas à cette étape.")
    if key.is_assessment:
        return _(
            "L'évaluation ne se modifie qu'en brouillon ou à reprendre, pendant le suivi dans "
            "l'emploi."
        )
    if key.is_minutes:
        return _("Le compte rendu ne se modifie plus : il est approuvé, ou la réunion annulée.")
    return _("La co-conception est close pour cette opération.")


def can_edit_section(section: DesignSection, *, steering: bool) -> bool:
    """Every participant edits; once validated, only the organisme and the Région do.

    The convention's clauses, the evaluation and the committee's minutes are written by
    the organisme and the Région only; the other participants comment on them.
    """
    if not section.key.is_design:
        return steering
    return steering or not section.is_validated


@dataclass
class SaveResult:
    """What happened to a save: saved as is, merged with another change, or a conflict."""

    status: str  # "saved", "merged", "conflict", "unchanged"
    section: DesignSection
    text_merge: merge.TextMerge | None = None
    list_merge: merge.ListMerge | None = None
    draft: SectionRevision | None = None
    other_authors: list[str] = field(default_factory=list)


def revision_at(section: DesignSection, version: int) -> SectionRevision | None:
    return db.session.scalar(
        select(SectionRevision).where(
            SectionRevision.section_id == section.id, SectionRevision.version == version
        )
    )


def _apply(section, content, *, kind, base_version, by, org, steering) -> None:
    """Write ``content`` as the section's next version; the caller locked the section and,
    a design's section, its design (``_lock_section``)."""
    design = section.design
    section.version += 1
    section.content = content
    section.updated_at = utcnow()
    section.updated_by_id = by.id
    section.updated_org_id = org.id
    if section.is_validated:
        section.validated_at = None
        section.validated_by_id = None
        section.unvalidated_at = utcnow()
    if (
        design.approved_at is not None
        and section.key.is_design
        and design.operation.status == Status.CO_DESIGN
    ):
        # Approval holds for what the Région saw: any change asks for a new approval. After
        # co-design, the convention's signatures and validation take its place.
        design.approved_at = None
        design.approved_by_id = None
    db.session.add(
        SectionRevision(
            section=section,
            version=section.version,
            base_version=base_version,
            kind=kind,
            content=content,
            author_id=by.id,
            organisation_id=org.id,
        )
    )
    db.session.flush()
    log_event(
        design.operation,
        _saved_event(section.key),
        by=by,
        org=org,
        section=section.key.value,
        version=section.version,
        revision=kind,  # not ``kind``: log_event's own argument (the event's kind)
    )


def _lock_section(section: DesignSection) -> None:
    """Lock the section, then — a design's section — its design, before reading either, so
    that an approval given meanwhile is seen (and withdrawn by ``_apply``): the design and
    its operation are read once, under both locks, rather than before the design's lock
    and again after it."""
    design = section.design  # taken before the lock expires it: only its row is wanted
    lock(section)
    if section.key.is_design:
        lock(design)


def _saved_event(key: SectionKey) -> str:
    if key.is_clause:
        return "convention_clause_saved"
    if key.is_assessment:
        return "assessment_section_saved"
    if key.is_minutes:
        return "steering_minutes_saved"
    return "design_section_saved"


def _others_since(section: DesignSection, base_version: int) -> list[str]:
    revisions = db.session.scalars(
        select(SectionRevision).where(
            SectionRevision.section_id == section.id, SectionRevision.version > base_version
        )
    ).all()
    return sorted(
        {
            f"{r.author.full_name} ({r.organisation.name})"
            for r in revisions
            if r.author and r.organisation
        }
    )


def save_section(
    section: DesignSection,
    content: dict,
    *,
    base_version: int,
    by: User,
    org: Organisation,
    steering: bool,
) -> SaveResult:
    """Save ``content`` written from ``base_version``; merge if someone saved in between.

    On a conflict nothing is applied and the user's content is kept as a draft revision.
    The section's row is locked first: saves served at once merge one after the other,
    each into what the previous one wrote (issue #11).
    """
    _lock_section(section)
    if not can_edit_section(section, steering=steering):
        raise RuleError(_("Section validée : seuls l'organisme porteur et la Région la modifient."))
    if not is_open_for_edit(section):
        raise RuleError(closed_message(section.key))
    if base_version > section.version or base_version < 1:
        raise RuleError(_("Version de départ inconnue : rechargez la section."))
    if base_version == section.version:
        if content == section.content:
            return SaveResult("unchanged", section)
        _apply(
            section,
            content,
            kind="save",
            base_version=base_version,
            by=by,
            org=org,
            steering=steering,
        )
        return SaveResult("saved", section)
    base_revision = revision_at(section, base_version)
    if base_revision is not None and base_revision.content == content:
        # Saved without a change while others saved: nothing to merge, no new version.
        return SaveResult("unchanged", section)
    base = base_revision.content if base_revision else empty_content(section.key)
    others = _others_since(section, base_version)
    if section.key.is_list:
        result = merge.merge_items(
            base.get("items", []), content.get("items", []), section.content.get("items", [])
        )
        detail = {"list_merge": result}
        merged = {"items": result.items}
    else:
        result = merge.merge_text(
            base.get("text", ""), content.get("text", ""), section.content.get("text", "")
        )
        detail = {"text_merge": result}
        merged = {"text": result.merged}
    if result.clean:
        _apply(
            section,
            merged,
            kind="merge",
            base_version=base_version,
            by=by,
            org=org,
            steering=steering,
        )
        return SaveResult("merged", section, other_authors=others, **detail)
    draft = _keep_draft(section, content, base_version, by, org)
    return SaveResult("conflict", section, draft=draft, other_authors=others, **detail)


def _keep_draft(section, content, base_version, by, org) -> SectionRevision:
    draft = SectionRevision(
        section=section,
        version=None,
        base_version=base_version,
        kind="draft",
        content=content,
        author_id=by.id,
        organisation_id=org.id,
    )
    db.session.add(draft)
    db.session.flush()
    log_event(
        section.design.operation, "design_conflict", by=by, org=org, section=section.key.value
    )
    return draft


def open_drafts(section: DesignSection, user: User) -> list[SectionRevision]:
    """The user's conflict drafts not yet resolved, newest first."""
    return db.session.scalars(
        select(SectionRevision)
        .where(
            SectionRevision.section_id == section.id,
            SectionRevision.kind == "draft",
            SectionRevision.author_id == user.id,
            SectionRevision.resolved_at.is_(None),
        )
        .order_by(SectionRevision.id.desc())
    ).all()


def resolve_conflict(
    section: DesignSection,
    draft: SectionRevision,
    content: dict,
    *,
    base_version: int,
    by: User,
    org: Organisation,
    steering: bool,
) -> SaveResult:
    """Save the content the user settled on from the conflict view; the draft is closed."""
    if draft.section_id != section.id or draft.kind != "draft" or draft.author_id != by.id:
        raise RuleError(_("Ce brouillon n'est pas le vôtre."))
    result = save_section(
        section, content, base_version=base_version, by=by, org=org, steering=steering
    )
    if result.status in ("saved", "merged", "unchanged"):
        draft.resolved_at = utcnow()
    return result


def discard_draft(draft: SectionRevision, *, by: User) -> None:
    """The user drops their kept draft after reading the conflict (it stays in the history)."""
    if draft.kind != "draft" or draft.author_id != by.id:
        raise RuleError(_("Ce brouillon n'est pas le vôtre."))
    draft.resolved_at = utcnow()


def restore_revision(
    section: DesignSection,
    revision: SectionRevision,
    *,
    by: User,
    org: Organisation,
    steering: bool,
) -> None:
    """Restoring an older revision creates a new one (history is never rewritten)."""
    _lock_section(section)
    if revision.section_id != section.id or revision.version is None:
        raise RuleError(_("Cette révision ne peut pas être restaurée."))
    if not can_edit_section(section, steering=steering):
        raise RuleError(_("Section validée : seuls l'organisme porteur et la Région la modifient."))
    if not is_open_for_edit(section):
        raise RuleError(closed_message(section.key))
    _apply(
        section,
        revision.content,
        kind="restore",
        base_version=section.version,
        by=by,
        org=org,
        steering=steering,
    )


def set_validated(section: DesignSection, validated: bool, *, by: User, org: Organisation):
    """The organisme porteur or the Région marks a section as validated (or not)."""
    lock(section)
    operation = section.design.operation
    if not (org.kind == OrgKind.REGION or operation.provider_id == org.id):
        raise RuleError(_("Seuls l'organisme porteur et la Région valident une section."))
    if validated and not is_filled(section):
        raise RuleError(_("Une section vide ne peut pas être validée."))
    section.validated_at = utcnow() if validated else None
    section.validated_by_id = by.id if validated else None
    section.unvalidated_at = None if validated else utcnow()
    log_event(
        operation,
        "design_section_validated" if validated else "design_section_reopened",
        by=by,
        org=org,
        section=section.key.value,
    )


def approve_design(design: Design, *, by: User, org: Organisation, comment: str = "") -> None:
    """The Région approves the design (recorded); any later change withdraws the approval."""
    if org.kind != OrgKind.REGION:
        raise RuleError(_("Seule la Région approuve la co-conception."))
    lock(design)
    problems = design_problems(design, include_approval=False)
    if problems:
        raise RuleError(" ".join(problems))
    design.approved_at = utcnow()
    design.approved_by_id = by.id
    design.approval_comment = comment.strip()
    log_event(design.operation, "design_approved", by=by, org=org)


def design_problems(
    design: Design | None, *, include_approval: bool = True, blocking: int | None = None
) -> list[str]:
    """Unmet conditions of the gate to the convention, in French; ``blocking``, the open
    blocking threads when already counted (``open_blocking_by_design``)."""
    if not is_started(design):
        return [_("La co-conception n'a pas commencé.")]
    problems = []
    missing = [s.key.title for s in design.sections if s.key.mandatory and not is_filled(s)]
    if missing:
        problems.append(_("Sections obligatoires à remplir : %(s)s.", s=", ".join(missing)))
    problems.extend(hours_issues(design))
    if blocking is None:
        blocking = open_blocking_comments(design)
    if blocking:
        problems.append(_("Un commentaire bloquant n'est pas résolu."))
    if include_approval and design.approved_at is None:
        problems.append(_("La Région n'a pas approuvé la co-conception."))
    return problems
