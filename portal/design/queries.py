"""Read-side queries of the co-design page: sections, comment threads, the live state."""

import hashlib

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal.core.memo import Read
from portal.design.models import (
    MINUTES_SLUG,
    Design,
    DesignComment,
    DesignPresence,
    DesignSection,
    SectionKey,
)
from portal.extensions import db


def load_design(operation_id: int) -> Design | None:
    """The design with its sections and their authors, in one query (its sections and who
    a row names are joined to it). A save expires and reloads the design with these loads:
    kept narrow."""
    query = (
        select(Design)
        .where(Design.operation_id == operation_id)
        .options(
            joinedload(Design.sections).options(
                joinedload(DesignSection.updated_by),
                joinedload(DesignSection.updated_org),
                joinedload(DesignSection.validated_by),
            ),
            joinedload(Design.approved_by),
        )
    )
    return db.session.scalars(query).unique().one_or_none()


def section_by_slug(operation_id: int, slug: str) -> DesignSection | None:
    """The section of the operation's design named ``slug`` in URLs (``DesignSection.slug``):
    a key, or ``minutes-<meeting id>`` for a meeting's minutes. None when there is none."""
    query = select(DesignSection).join(Design, Design.id == DesignSection.design_id)
    query = query.where(Design.operation_id == operation_id)
    number = slug.removeprefix(MINUTES_SLUG)
    if number != slug:
        if not number.isdigit():
            return None
        return db.session.scalar(query.where(DesignSection.meeting_id == int(number)))
    try:
        key = SectionKey(slug)
    except ValueError:
        return None
    if key.is_minutes:
        return None
    return db.session.scalar(
        query.where(DesignSection.key == key, DesignSection.meeting_id.is_(None))
    )


def threads_by_section(
    design: Design, section: DesignSection | None = None
) -> dict[int, list[DesignComment]]:
    """Top-level comments (with their replies and mentions) per section id, oldest first;
    only ``section``'s when given (a fragment). One query: mentions, replies, authors and
    organisations are joined to their comments (a thread holds a few)."""
    query = (
        select(DesignComment)
        .join(DesignSection, DesignSection.id == DesignComment.section_id)
        .where(DesignSection.design_id == design.id, DesignComment.parent_id.is_(None))
    )
    if section is not None:
        query = query.where(DesignComment.section_id == section.id)
    threads = (
        db.session.scalars(
            query.options(
                joinedload(DesignComment.author),
                joinedload(DesignComment.organisation),
                joinedload(DesignComment.mentions),
                joinedload(DesignComment.replies).options(
                    joinedload(DesignComment.author), joinedload(DesignComment.organisation)
                ),
            ).order_by(DesignComment.id)
        )
        .unique()
        .all()
    )
    result: dict[int, list[DesignComment]] = {s.id: [] for s in design.sections}
    for thread in threads:
        result.setdefault(thread.section_id, []).append(thread)
    return result


def counts_from(threads: dict[int, list[DesignComment]]) -> dict[int, int]:
    """``open_counts`` from the threads a page already read (``threads_by_section``)."""
    return {
        section_id: sum(1 for thread in found if thread.resolved_at is None)
        for section_id, found in threads.items()
    }


def open_counts(design: Design) -> dict[int, int]:
    """Open (unresolved) threads per section id — the badges."""
    rows = db.session.execute(
        select(DesignComment.section_id, func.count(DesignComment.id))
        .join(DesignSection, DesignSection.id == DesignComment.section_id)
        .where(
            DesignSection.design_id == design.id,
            DesignComment.parent_id.is_(None),
            DesignComment.resolved_at.is_(None),
        )
        .group_by(DesignComment.section_id)
    ).all()
    counts = {s.id: 0 for s in design.sections}
    counts.update(dict(rows))
    return counts


def state_token(design_id: int, *, presence_since) -> str:
    """A short fingerprint of what other open pages must refresh for: section versions and
    validations, comment threads, and who is present/editing (not when they were last seen).
    Equal tokens mean nothing changed; three small indexed queries."""
    sections = db.session.execute(
        select(DesignSection.id, DesignSection.version, DesignSection.validated_at)
        .where(DesignSection.design_id == design_id)
        .order_by(DesignSection.id)
    ).all()
    comments = db.session.execute(
        select(func.count(DesignComment.id), func.count(DesignComment.resolved_at))
        .join(DesignSection, DesignSection.id == DesignComment.section_id)
        .where(DesignSection.design_id == design_id)
    ).one()
    people = db.session.execute(
        select(DesignPresence.user_id, DesignPresence.editing)
        .where(DesignPresence.design_id == design_id, DesignPresence.seen_at >= presence_since)
        .order_by(DesignPresence.user_id)
    ).all()
    fingerprint = repr((tuple(sections), tuple(comments), tuple(people)))
    return hashlib.sha256(fingerprint.encode()).hexdigest()[:16]


def card_reads(operation) -> list[Read]:
    """The operation page card's read (always: the card shows once the co-design begins)."""
    return [card_read(operation)]


def card_read(operation) -> Read:
    """The operation page's card: whether the co-design has begun (its sections exist,
    ``services.is_started``) and whether it is approved — as ``(started, approved)``."""
    has_sections = (
        select(DesignSection.id)
        .where(
            DesignSection.design_id == Design.id,
            DesignSection.key.in_(SectionKey.design_keys()),
        )
        .exists()
    )
    statement = select(has_sections, Design.approved_at).where(Design.operation_id == operation.id)
    return Read(("design.card", operation.id), statement, _card)


def _card(rows: list[tuple]) -> tuple[bool, bool]:
    if not rows:
        return False, False
    (has_sections, approved_at), *_others = rows
    return bool(has_sections), approved_at is not None
