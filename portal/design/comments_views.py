"""Comment threads of a design section: comment, reply, resolve and reopen.

Every participant of the operation may do all of it. Each route answers htmx with the
section's comments block and, out of band, its badge of open threads; without
JavaScript it redirects (303) to the block on the design page, or shows the block on
a page of its own when the form has errors.
"""

from dataclasses import dataclass, field
from functools import cached_property

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal import htmx
from portal.accounts.access import current_org
from portal.accounts.models import Membership, Organisation, User
from portal.core.errors import RuleError
from portal.design import bp, services
from portal.design.comment_forms import CommentForm, ReplyForm, ResolveCommentForm
from portal.design.models import CommentMention, Design, DesignComment, DesignSection, SectionKey
from portal.extensions import db
from portal.operations.access import can_steer, load_operation
from portal.operations.models import Operation, Participant

# --- Loading -----------------------------------------------------------------------------


def section_or_404(operation_id: int, key: str) -> tuple[Operation, DesignSection]:
    """The operation (404 for outsiders) and the section of its design, or 404."""
    operation = load_operation(operation_id)
    try:
        section_key = SectionKey(key)
    except ValueError:
        abort(404)
    section = db.session.scalar(
        select(DesignSection)
        .join(Design, Design.id == DesignSection.design_id)
        .where(Design.operation_id == operation.id, DesignSection.key == section_key)
    )
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


def _thread(section: DesignSection, comment_id: int) -> DesignComment:
    comment = db.session.get(DesignComment, comment_id)
    if comment is None or comment.section_id != section.id:
        abort(404)
    return comment


# --- Who may be mentioned ----------------------------------------------------------------


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


def mentionables(operation: Operation) -> Mentionables:
    """Who may be mentioned on ``operation``: two queries, once per request."""
    cache = g.setdefault("design_mentionables", {})
    if operation.id in cache:
        return cache[operation.id]
    organisations = list(
        db.session.scalars(
            select(Organisation)
            .join(Participant, Participant.organisation_id == Organisation.id)
            .where(Participant.operation_id == operation.id, Participant.withdrawn_at.is_(None))
            .order_by(Organisation.name)
        )
    )
    rows = db.session.execute(
        select(User, Membership.organisation_id)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.organisation_id.in_([o.id for o in organisations]),
            Membership.active.is_(True),
            User.is_enabled.is_(True),
        )
        .order_by(User.last_name, User.first_name, User.id)
    ).all()
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
    form = CommentForm(formdata=formdata, prefix=f"comment-{section.key.value}")
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


@bp.context_processor
def comment_helpers() -> dict:
    """Lets the design pages render the comment forms and mentions (see the templates)."""
    return {
        "new_comment_form": comment_form,
        "new_reply_form": reply_form,
        "mentionables": mentionables,
    }


# --- Responses ---------------------------------------------------------------------------


def _render(operation, section, *, status=200, **context):
    """The comments block (htmx, with its out-of-band badge) or the comments page."""
    # The commit (or rollback) expired the participants read for the form: read them again
    # in two queries rather than one per organisation and person.
    g.pop("design_mentionables", None)
    threads = section_threads(section)
    return htmx.render(
        "design/comments.html",
        "design/_section_comments.html",
        status=status,
        operation=operation,
        design=section.design,
        section=section,
        threads=threads,
        open_count=sum(1 for t in threads if t.is_open),
        can_steer=can_steer(operation),
        comment_count_oob=htmx.is_htmx(),
        **context,
    )


def _done(operation, section, message: str):
    if htmx.is_htmx():
        return _render(operation, section, comment_notice=message)
    flash(message, "success")
    page = "conventions.show_convention" if section.key.is_clause else "design.show_design"
    return redirect(
        url_for(
            page,
            operation_id=operation.id,
            _anchor=f"comments-{section.key.value}",
        ),
        303,
    )


def _rows(model, ids: list[int]) -> list:
    return list(db.session.scalars(select(model).where(model.id.in_(ids)))) if ids else []


# --- Routes ------------------------------------------------------------------------------


@bp.post("/<key>/commentaires")
@login_required
def add_comment(operation_id: int, key: str):
    """Open a thread on the section, possibly blocking, mentioning participants."""
    operation, section = section_or_404(operation_id, key)
    form = comment_form(operation, section, formdata=request.form)
    if not form.validate_on_submit():
        return _render(operation, section, comment_form_with_errors=form, status=422)
    try:
        services.add_comment(
            section,
            form.body.data,
            by=current_user,
            org=current_org(),
            blocking=form.blocking.data,
            mention_users=_rows(User, form.mention_users.ids),
            mention_orgs=_rows(Organisation, form.mention_orgs.ids),
        )
    except RuleError as exc:
        db.session.rollback()
        return _render(
            operation, section, comment_form_with_errors=form, comment_error=exc.message, status=422
        )
    db.session.commit()
    return _done(operation, section, _("Commentaire publié."))


@bp.post("/<key>/commentaires/<int:comment_id>/reponses")
@login_required
def reply_comment(operation_id: int, key: str, comment_id: int):
    """Reply in a thread."""
    operation, section = section_or_404(operation_id, key)
    thread = _thread(section, comment_id)
    form = reply_form(thread, formdata=request.form)
    if not form.validate_on_submit():
        return _render(operation, section, comment_reply_forms={thread.id: form}, status=422)
    try:
        services.add_comment(
            section, form.body.data, by=current_user, org=current_org(), parent=thread
        )
    except RuleError as exc:
        db.session.rollback()
        return _render(operation, section, comment_error=exc.message, status=422)
    db.session.commit()
    return _done(operation, section, _("Réponse publiée."))


@bp.post("/<key>/commentaires/<int:comment_id>/resolution")
@login_required
def resolve_comment(operation_id: int, key: str, comment_id: int):
    """Resolve (``resolved=1``) or reopen (``resolved=0``) a thread."""
    operation, section = section_or_404(operation_id, key)
    thread = _thread(section, comment_id)
    form = ResolveCommentForm()
    if not form.validate_on_submit():
        return _render(operation, section, comment_error=_("Choix inconnu."), status=422)
    resolved = form.resolved.data == "1"
    try:
        services.set_comment_resolved(thread, resolved, by=current_user, org=current_org())
    except RuleError as exc:
        db.session.rollback()
        return _render(operation, section, comment_error=exc.message, status=422)
    db.session.commit()
    return _done(operation, section, _("Fil résolu.") if resolved else _("Fil rouvert."))
