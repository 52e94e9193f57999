"""Business verbs of the design's comment threads: comment (mentioning people, who are
notified), reply, resolve and reopen; and the count of blocking threads that hold the
gate to the convention. They flush and never commit."""

from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.accounts.models import Organisation, OrgKind, User
from portal.core.errors import RuleError
from portal.core.time import utcnow
from portal.design.models import CommentMention, Design, DesignComment, DesignSection
from portal.extensions import db
from portal.notifications.services import notify, organisation_members
from portal.operations.events import log_event


def open_blocking_comments(design: Design) -> int:
    """Unresolved blocking threads of the design (the committee's minutes apart: they hold
    their own approval, not the gate to the convention)."""
    return open_blocking_by_design([design.id]).get(design.id, 0)


def open_blocking_by_design(design_ids: list[int]) -> dict[int, int]:
    """``open_blocking_comments`` of several designs (design id → count, one query)."""
    if not design_ids:
        return {}
    return dict(
        db.session.execute(
            select(DesignSection.design_id, func.count(DesignComment.id))
            .join(DesignSection, DesignSection.id == DesignComment.section_id)
            .where(
                DesignSection.design_id.in_(design_ids),
                DesignSection.meeting_id.is_(None),
                DesignComment.blocking.is_(True),
                DesignComment.resolved_at.is_(None),
            )
            .group_by(DesignSection.design_id)
        ).all()
    )


def open_blocking_in(section: DesignSection) -> int:
    """Unresolved blocking threads of one section."""
    return db.session.scalar(
        select(func.count(DesignComment.id)).where(
            DesignComment.section_id == section.id,
            DesignComment.blocking.is_(True),
            DesignComment.resolved_at.is_(None),
        )
    )


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
    """Comment on a section (or reply to a thread); mentioned people are notified.
    A closed or cancelled operation is read-only: no new comment there."""
    if not section.design.operation.is_open:
        raise RuleError(_("L'opération est close : elle ne se modifie plus."))
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
