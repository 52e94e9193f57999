"""Business verbs of the co-design: start, save with merge, resolve, restore, validate,
approve, comment, presence. They flush and never commit; nothing typed is ever lost."""

import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from portal.accounts.models import Organisation, OrgKind, User
from portal.core.errors import RuleError
from portal.core.locking import lock
from portal.core.time import utcnow
from portal.design import merge
from portal.design.models import (
    CommentMention,
    Design,
    DesignComment,
    DesignPresence,
    DesignSection,
    SectionKey,
    SectionRevision,
)
from portal.design.rhythm import hours_issues
from portal.extensions import db
from portal.notifications.services import notify, organisation_members
from portal.operations.events import log_event
from portal.operations.models import (
    AMENDMENT_STEPS,
    DRAFTING_STEPS,
    EmployerNeed,
    NeedsAnalysis,
    Operation,
    Status,
)
from portal.operations.needs import BARRIERS, TARGET_PUBLICS

PRESENCE_SECONDS = 30


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


def _prefill(operation: Operation) -> dict[SectionKey, dict]:
    """Skills, public and points of attention taken from the needs analysis."""
    content = {key: empty_content(key) for key in SectionKey.design_keys()}
    employer_needs = db.session.scalars(
        select(EmployerNeed).where(EmployerNeed.operation_id == operation.id)
    ).all()
    skills = []
    attention = []
    for need in employer_needs:
        for label in re.split(r"[\n;,]+", need.skills or ""):
            if label.strip():
                skills.append(
                    {
                        "id": new_id(),
                        "label": label.strip()[:200],
                        "block_code": "",
                        "employer_id": need.organisation_id,
                    }
                )
        constraints = [
            need.constraint_hours,
            need.constraint_mobility,
            need.constraint_licence,
            need.constraint_physical,
        ]
        lines = [c.strip() for c in constraints if c and c.strip()]
        if lines:
            attention.append(f"{need.organisation.name} : " + " ; ".join(lines))
    content[SectionKey.SKILLS] = {"items": skills}
    content[SectionKey.ATTENTION] = {"text": "\n".join(attention)}
    analysis = db.session.scalar(
        select(NeedsAnalysis).where(NeedsAnalysis.operation_id == operation.id)
    )
    if analysis is not None:
        publics = [str(TARGET_PUBLICS[p]) for p in analysis.target_publics if p in TARGET_PUBLICS]
        barriers = [str(BARRIERS[b]) for b in analysis.barriers if b in BARRIERS]
        lines = []
        if publics:
            lines.append(_("Publics : %(p)s", p=", ".join(publics)))
        if analysis.prerequisites:
            lines.append(_("Prérequis : %(p)s", p=analysis.prerequisites))
        if barriers:
            lines.append(_("Freins à lever : %(b)s", b=", ".join(barriers)))
        content[SectionKey.PUBLIC] = {"text": "\n".join(lines)}
    return content


def add_prefilled_section(
    design: Design, key: SectionKey, content: dict, *, by: User, org: Organisation
) -> DesignSection:
    """A new section at version 1 with its « prefill » revision (design or clause)."""
    section = DesignSection(
        design=design,
        key=key,
        version=1,
        content=content,
        updated_by_id=by.id,
        updated_org_id=org.id,
    )
    db.session.add(section)
    db.session.flush()
    db.session.add(
        SectionRevision(
            section=section,
            version=1,
            base_version=0,
            kind="prefill",
            content=content,
            author_id=by.id,
            organisation_id=org.id,
        )
    )
    return section


def start_design(operation: Operation, *, by: User, org: Organisation) -> Design:
    """Create the design of an operation in co-design, prefilled from the needs analysis."""
    existing = design_for(operation)
    if existing is not None:
        return existing
    if operation.status != Status.CO_DESIGN:
        raise RuleError(_("La co-conception commence quand l'opération est à cette étape."))
    design = Design(operation=operation)
    db.session.add(design)
    for key, content in _prefill(operation).items():
        add_prefilled_section(design, key, content, by=by, org=org)
    db.session.flush()
    log_event(operation, "design_started", by=by, org=org)
    return design


def is_open_for_edit(operation: Operation, key: SectionKey) -> bool:
    """Design sections change during co-design; the convention's clauses while the
    convention is drafted or amended."""
    if key.is_clause:
        return operation.status in DRAFTING_STEPS + AMENDMENT_STEPS
    return operation.status == Status.CO_DESIGN


def closed_message(key: SectionKey) -> str:
    """Why a section cannot change at the operation's step."""
    if key.is_clause:
        return _("Les articles de la convention ne se modifient pas à cette étape.")
    return _("La co-conception est close pour cette opération.")


def can_edit_section(section: DesignSection, *, steering: bool) -> bool:
    """Every participant edits; once validated, only the organisme and the Région do.

    The convention's clauses are drafted by the organisme and the Région only; the other
    participants comment on them.
    """
    if section.key.is_clause:
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
    """Write ``content`` as the section's next version; the caller locked the section."""
    design = section.design
    if not section.key.is_clause:
        # Locked so that an approval given meanwhile is seen, and withdrawn below.
        lock(design)
    section.version += 1
    section.content = content
    section.updated_at = utcnow()
    section.updated_by_id = by.id
    section.updated_org_id = org.id
    if section.is_validated:
        section.validated_at = None
        section.validated_by_id = None
        section.unvalidated_at = utcnow()
    if design.approved_at is not None and not section.key.is_clause:
        # Approval holds for what the Région saw: any change asks for a new approval.
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
        "convention_clause_saved" if section.key.is_clause else "design_section_saved",
        by=by,
        org=org,
        section=section.key.value,
        version=section.version,
        revision=kind,  # not ``kind``: log_event's own argument (the event's kind)
    )


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
    lock(section)
    if not can_edit_section(section, steering=steering):
        raise RuleError(_("Section validée : seuls l'organisme porteur et la Région la modifient."))
    if not is_open_for_edit(section.design.operation, section.key):
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
    lock(section)
    if revision.section_id != section.id or revision.version is None:
        raise RuleError(_("Cette révision ne peut pas être restaurée."))
    if not can_edit_section(section, steering=steering):
        raise RuleError(_("Section validée : seuls l'organisme porteur et la Région la modifient."))
    if not is_open_for_edit(section.design.operation, section.key):
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


def open_blocking_comments(design: Design) -> int:
    return db.session.scalar(
        select(func.count(DesignComment.id))
        .join(DesignSection, DesignSection.id == DesignComment.section_id)
        .where(
            DesignSection.design_id == design.id,
            DesignComment.blocking.is_(True),
            DesignComment.resolved_at.is_(None),
        )
    )


def design_problems(design: Design | None, *, include_approval: bool = True) -> list[str]:
    """Unmet conditions of the gate to the convention, in French."""
    if design is None:
        return [_("La co-conception n'a pas commencé.")]
    problems = []
    missing = [s.key.title for s in design.sections if s.key.mandatory and not is_filled(s)]
    if missing:
        problems.append(_("Sections obligatoires à remplir : %(s)s.", s=", ".join(missing)))
    problems.extend(hours_issues(design))
    if open_blocking_comments(design):
        problems.append(_("Un commentaire bloquant n'est pas résolu."))
    if include_approval and design.approved_at is None:
        problems.append(_("La Région n'a pas approuvé la co-conception."))
    return problems


def add_comment(
    section: DesignSection,
    body: str,
    *,
    by: User,
    org: Organisation,
    blocking: bool = False,
    parent: DesignComment | None = None,
    mention_users=(),
    mention_orgs=(),
) -> DesignComment:
    """Comment on a section (or reply to a thread); mentioned people are notified."""
    if not body.strip():
        raise RuleError(_("Le commentaire est vide."), "body")
    if parent is not None and (parent.section_id != section.id or parent.parent_id is not None):
        raise RuleError(_("On répond au premier commentaire d'un fil."))
    comment = DesignComment(
        section=section,
        parent_id=parent.id if parent else None,
        author_id=by.id,
        organisation_id=org.id,
        body=body.strip(),
        blocking=blocking and parent is None,
    )
    db.session.add(comment)
    db.session.flush()
    recipients = list(mention_users)
    for mentioned_org in mention_orgs:
        db.session.add(CommentMention(comment=comment, organisation_id=mentioned_org.id))
        recipients.extend(organisation_members(mentioned_org.id))
    for user in mention_users:
        db.session.add(CommentMention(comment=comment, user_id=user.id))
    operation = section.design.operation
    notify(
        [u for u in recipients if u.id != by.id],
        kind="design_mention",
        operation=operation,
        message=_(
            "%(who)s (%(org)s) vous mentionne dans « %(section)s » de « %(title)s » : %(body)s",
            who=by.full_name,
            org=org.name,
            section=section.key.title,
            title=operation.title,
            body=comment.body[:300],
        ),
        endpoint="design.show_design",
        operation_id=operation.id,
        email_subject=_("Mention dans la co-conception : %(title)s", title=operation.title),
    )
    log_event(
        operation,
        "design_comment",
        by=by,
        org=org,
        section=section.key.value,
        blocking=comment.blocking,
    )
    return comment


def may_resolve(comment: DesignComment, *, by: User, org: Organisation | None) -> bool:
    """Whether ``by`` acting for ``org`` may resolve the thread ``comment``."""
    if not comment.blocking or comment.author_id == by.id:
        return True
    if org is None:
        return False
    return org.kind == OrgKind.REGION or org.id == comment.section.design.operation.provider_id


def set_comment_resolved(
    comment: DesignComment, resolved: bool, *, by: User, org: Organisation
) -> None:
    """Resolve or reopen a thread.

    A blocking thread holds the gate to the convention, so only its author, the carrier
    OF or the Région may resolve it; anyone taking part may reopen it.
    """
    if comment.parent_id is not None:
        raise RuleError(_("On résout un fil depuis son premier commentaire."))
    if resolved and not may_resolve(comment, by=by, org=org):
        raise RuleError(
            _(
                "Seuls son auteur, l'organisme porteur et la Région peuvent résoudre "
                "un commentaire bloquant."
            )
        )
    comment.resolved_at = utcnow() if resolved else None
    comment.resolved_by_id = by.id if resolved else None
    log_event(
        comment.section.design.operation,
        "design_comment_resolved" if resolved else "design_comment_reopened",
        by=by,
        org=org,
        section=comment.section.key.value,
    )


def touch_presence(design: Design, *, user: User, org: Organisation, editing: str = "") -> None:
    """Record that ``user`` has the design open (and which section they edit)."""
    presence = db.session.scalar(
        select(DesignPresence).where(
            DesignPresence.design_id == design.id, DesignPresence.user_id == user.id
        )
    )
    if presence is None:
        presence = DesignPresence(design_id=design.id, user_id=user.id, organisation_id=org.id)
        db.session.add(presence)
    presence.organisation_id = org.id
    presence.editing = editing
    presence.seen_at = utcnow()
    db.session.flush()


def present(design: Design) -> list[DesignPresence]:
    """Who had the design open in the last 30 seconds."""
    since = utcnow() - timedelta(seconds=PRESENCE_SECONDS)
    db.session.execute(
        delete(DesignPresence).where(DesignPresence.seen_at < since - timedelta(hours=1))
    )
    return db.session.scalars(
        select(DesignPresence).where(
            DesignPresence.design_id == design.id, DesignPresence.seen_at >= since
        )
    ).all()
