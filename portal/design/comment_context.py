"""Comment threads, mention candidates and comment forms, shared by the comment routes,
the design page and the convention page."""

from dataclasses import dataclass, field
from functools import cached_property

from flask import abort, g
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import inspect, select
from sqlalchemy.orm import selectinload

from portal.accounts.access import current_org
from portal.accounts.members import members_by_org
from portal.accounts.models import Organisation, User
from portal.design import queries
from portal.design.comment_forms import CommentForm, ReplyForm
from portal.design.comments import may_resolve
from portal.design.models import CommentMention, DesignComment, DesignSection
from portal.extensions import db
from portal.operations.access import load_operation
from portal.operations.models import Operation, Participant


def section_or_404(operation_id: int, key: str) -> tuple[Operation, DesignSection]:
    """The operation (404 for outsiders) and the section of its design, or 404."""
    operation = load_operation(operation_id)
    section = queries.section_by_slug(operation.id, key)
    if section is None:
        abort(404)
    return operation, section


def section_threads(section: DesignSection) -> list[DesignComment]:
    """The section's threads, oldest first, with what the block shows (fixed query count)."""
    return list(
        db.session.scalars(
            select(DesignComment)
            .where(DesignComment.section_id == section.id, DesignComment.parent_id.is_(None))
            .options(
                selectinload(DesignComment.author),
                selectinload(DesignComment.organisation),
                selectinload(DesignComment.mentions),
                selectinload(DesignComment.replies).selectinload(DesignComment.author),
                selectinload(DesignComment.replies).selectinload(DesignComment.organisation),
            )
            .order_by(DesignComment.id)
        )
    )


@dataclass
class Mentionables:
    """The active participant organisations of an operation and their active members."""

    organisations: list[Organisation]
    people: dict[int, list[User]] = field(default_factory=dict)  # by organisation id

    @cached_property
    def org_names(self) -> dict[int, str]:
        return {o.id: o.name for o in self.organisations}

    @cached_property
    def person_names(self) -> dict[int, str]:
        return {u.id: u.full_name for users in self.people.values() for u in users}

    def mention_label(self, mention: CommentMention) -> str:
        """Who a mention names; a former participant is read from the database."""
        if mention.user_id is not None:
            name = self.person_names.get(mention.user_id)
            return name or mention.user.full_name
        return self.org_names.get(mention.organisation_id) or mention.organisation.name


def _participating(operation: Operation) -> list[Organisation]:
    """The organisations taking part in ``operation``, by name: from its participants when
    the page loaded them with their organisations, else one query."""
    state = inspect(operation)
    if "participants" not in state.unloaded and all(
        "organisation" not in inspect(p).unloaded for p in operation.participants
    ):
        active = [p.organisation for p in operation.participants if p.withdrawn_at is None]
        return sorted(active, key=lambda o: (o.name, o.id))
    return list(
        db.session.scalars(
            select(Organisation)
            .join(Participant, Participant.organisation_id == Organisation.id)
            .where(Participant.operation_id == operation.id, Participant.withdrawn_at.is_(None))
            .order_by(Organisation.name, Organisation.id)
        )
    )


def mentionables(operation: Operation) -> Mentionables:
    """Who may be mentioned on ``operation``: one or two queries, once per request."""
    cache = g.setdefault("design_mentionables", {})
    if operation.id in cache:
        return cache[operation.id]
    organisations = _participating(operation)
    members = members_by_org([o.id for o in organisations])
    rows = sorted(
        ((user, org_id) for org_id, users in members.items() for user in users),
        key=lambda row: (row[0].last_name, row[0].first_name, row[0].id, row[1]),
    )
    people: dict[int, list[User]] = {o.id: [] for o in organisations}
    listed: set[int] = set()
    for user, organisation_id in rows:
        # Someone in two participant organisations is offered once (a mention is personal).
        if user.id not in listed:
            listed.add(user.id)
            people[organisation_id].append(user)
    cache[operation.id] = Mentionables(organisations, people)
    return cache[operation.id]


def comment_form(operation: Operation, section: DesignSection, formdata=None) -> CommentForm:
    """The new-thread form of a section, its mention choices limited to participants."""
    form = CommentForm(formdata=formdata, prefix=f"comment-{section.slug}")
    if section.key.is_minutes:
        form.blocking.label.text = _(
            "Bloquant : le compte rendu ne s'approuve pas tant qu'il est ouvert"
        )
    found = mentionables(operation)
    form.mention_orgs.choices = [(o.id, o.name) for o in found.organisations]
    form.mention_users.choices = {
        o.name: [(u.id, u.full_name) for u in found.people[o.id]]
        for o in found.organisations
        if found.people[o.id]
    }
    return form


def reply_form(thread: DesignComment, formdata=None) -> ReplyForm:
    """The reply form of a thread."""
    return ReplyForm(formdata=formdata, prefix=f"reply-{thread.id}")


def may_resolve_thread(thread: DesignComment) -> bool:
    """Whether the current user may resolve ``thread`` (the button is shown only then)."""
    return may_resolve(thread, by=current_user, org=current_org())


def comment_helpers() -> dict:
    """Lets the design pages render the comment forms and mentions (see the templates)."""
    return {
        "may_resolve_thread": may_resolve_thread,
        "new_comment_form": comment_form,
        "new_reply_form": reply_form,
        "mentionables": mentionables,
    }
