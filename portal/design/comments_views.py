"""Comment threads of a design section: comment, reply, resolve and reopen.

Every participant may comment, reply and reopen; a blocking thread is resolved only by
its author, the carrier OF or the Région (it holds the gate to the convention). Each
route answers htmx with the section's comments block and, out of band, its badge of open
threads; without JavaScript it redirects (303) to the block on the design page, or shows
the block on a page of its own when the form has errors.
"""

from flask import abort, g, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from portal import htmx
from portal.accounts.access import current_org
from portal.accounts.models import Organisation, User
from portal.core.actions import act, done
from portal.design import bp, comments
from portal.design.comment_context import (
    comment_form,
    comment_helpers,
    reply_form,
    section_or_404,
    section_threads,
)
from portal.design.comment_forms import ResolveCommentForm
from portal.design.models import DesignComment, DesignSection
from portal.extensions import db
from portal.operations.access import can_steer

# --- Loading -----------------------------------------------------------------------------


def _thread(section: DesignSection, comment_id: int) -> DesignComment:
    comment = db.session.get(DesignComment, comment_id)
    if comment is None or comment.section_id != section.id:
        abort(404)
    return comment


# --- Who may be mentioned ----------------------------------------------------------------


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
        status,
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
    url = url_for(
        section.key.page,
        operation_id=operation.id,
        _anchor=f"comments-{section.slug}",
        **section.page_args,
    )
    return done(message, url, lambda: _render(operation, section, comment_notice=message))


def _refused(operation, section, **shown):
    """A refused comment action: the block again with the French reason (422)."""
    return lambda refusal: _render(
        operation, section, comment_error=refusal.message, status=422, **shown
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
    return act(
        lambda: comments.add_comment(
            section,
            form.body.data,
            by=current_user,
            org=current_org(),
            blocking=form.blocking.data,
            mention_users=_rows(User, form.mention_users.ids),
            mention_orgs=_rows(Organisation, form.mention_orgs.ids),
        ),
        success=lambda _result: _done(operation, section, _("Commentaire publié.")),
        failure=_refused(operation, section, comment_form_with_errors=form),
    )


@bp.post("/<key>/commentaires/<int:comment_id>/reponses")
@login_required
def reply_comment(operation_id: int, key: str, comment_id: int):
    """Reply in a thread."""
    operation, section = section_or_404(operation_id, key)
    thread = _thread(section, comment_id)
    form = reply_form(thread, formdata=request.form)
    if not form.validate_on_submit():
        return _render(operation, section, comment_reply_forms={thread.id: form}, status=422)
    return act(
        lambda: comments.add_comment(
            section, form.body.data, by=current_user, org=current_org(), parent=thread
        ),
        success=lambda _result: _done(operation, section, _("Réponse publiée.")),
        failure=_refused(operation, section),
    )


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
    return act(
        lambda: comments.set_comment_resolved(thread, resolved, by=current_user, org=current_org()),
        success=lambda _result: _done(
            operation, section, _("Fil résolu.") if resolved else _("Fil rouvert.")
        ),
        failure=_refused(operation, section),
    )


bp.context_processor(comment_helpers)
