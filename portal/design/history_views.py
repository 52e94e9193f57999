"""The record of a design: the history of each section with an accessible diff of every
revision, restoring an older one (a new revision: history is never rewritten), and the
"Fiche de co-conception" exported as a Word document."""

from dataclasses import dataclass
from io import BytesIO

from flask import abort, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal import htmx
from portal.accounts.access import current_org
from portal.accounts.forms import EmptyForm
from portal.core.actions import act, done
from portal.core.pagination import paginate
from portal.design import bp, documents, services
from portal.design.comment_context import section_or_404
from portal.design.diffs import Chunk, ItemFormatter, ItemsDiff, items_diff, text_diff
from portal.design.models import DesignSection, SectionKey, SectionRevision
from portal.design.queries import load_design
from portal.extensions import db
from portal.operations.access import can_steer, load_operation

REVISION_KINDS = {
    "prefill": _l("pré-remplissage"),
    "save": _l("saisie"),
    "merge": _l("fusion"),
    "restore": _l("restauration"),
    "draft": _l("brouillon en conflit"),
}
PER_PAGE = 20


@dataclass
class HistoryEntry:
    """A revision, what it changed from the one before (``compared_to``), and whether
    it may be restored."""

    revision: SectionRevision
    compared_to: int
    chunks: list[Chunk] | None
    items: ItemsDiff | None
    restorable: bool

    @property
    def kind(self) -> str:
        return str(REVISION_KINDS.get(self.revision.kind, self.revision.kind))


def _may_restore(operation, section: DesignSection) -> bool:
    """Restoring is editing: same rule, and only while the section is open for edits."""
    return services.is_open_for_edit(section) and services.can_edit_section(
        section, steering=can_steer(operation)
    )


def _formatter(operation, section: DesignSection) -> ItemFormatter:
    skills = db.session.scalar(
        select(DesignSection.content).where(
            DesignSection.design_id == section.design_id,
            DesignSection.key == SectionKey.SKILLS,
        )
    )
    skill_labels = {s.get("id"): s.get("label", "") for s in (skills or {}).get("items", [])}
    return ItemFormatter(section.key, documents.organisation_names(operation), skill_labels)


def _entries(operation, section, revisions: list[SectionRevision]) -> list[HistoryEntry]:
    """Each revision against the one it follows: the previous version, or for a draft
    (never applied) the version its author started from; one query for those off the page."""
    by_version = {r.version: r for r in revisions if r.version is not None}
    wanted = {r.base_version if r.version is None else r.version - 1 for r in revisions}
    missing = wanted - by_version.keys() - {0}
    if missing:
        by_version.update(
            (r.version, r)
            for r in db.session.scalars(
                select(SectionRevision).where(
                    SectionRevision.section_id == section.id,
                    SectionRevision.version.in_(missing),
                )
            )
        )
    empty = services.empty_content(section.key)
    formatter = _formatter(operation, section) if section.key.is_list else None
    may_restore = _may_restore(operation, section)
    entries = []
    for revision in revisions:
        compared_to = revision.base_version if revision.version is None else revision.version - 1
        before = by_version[compared_to].content if compared_to in by_version else empty
        chunks = items = None
        if formatter:
            items = items_diff(
                before.get("items", []), revision.content.get("items", []), formatter
            )
        else:
            chunks = text_diff(before.get("text") or "", revision.content.get("text") or "")
        restorable = (
            may_restore and revision.version is not None and revision.version != section.version
        )
        entries.append(HistoryEntry(revision, compared_to, chunks, items, restorable))
    return entries


def _render(operation, section, *, status=200, **context):
    pages = paginate(
        select(SectionRevision)
        .where(SectionRevision.section_id == section.id)
        .options(selectinload(SectionRevision.author), selectinload(SectionRevision.organisation))
        .order_by(SectionRevision.id.desc()),
        per_page=PER_PAGE,
    )
    return htmx.render(
        "design/history.html",
        "design/_history.html",
        status,
        operation=operation,
        section=section,
        pages=pages,
        entries=_entries(operation, section, pages.items),
        restore_form=EmptyForm(formdata=None),
        **context,
    )


@bp.get("/<key>/historique")
@login_required
def section_history(operation_id: int, key: str):
    """Every revision of the section, newest first, each with what it changed."""
    operation, section = section_or_404(operation_id, key)
    return _render(operation, section)


def _restored(operation, section, revision: SectionRevision):
    """After a restore: htmx re-renders the history with the notice; a form is redirected."""
    message = _(
        "La version %(old)d est restaurée : elle devient la version %(new)d.",
        old=revision.version,
        new=section.version,
    )
    url = url_for("design.section_history", operation_id=operation.id, key=section.slug)
    return done(message, url, lambda: _render(operation, section, history_notice=message))


@bp.post("/<key>/historique/<int:revision_id>/restauration")
@login_required
def restore_revision(operation_id: int, key: str, revision_id: int):
    """Make an older revision current again, as a new revision."""
    operation, section = section_or_404(operation_id, key)
    revision = db.session.get(SectionRevision, revision_id)
    if revision is None or revision.section_id != section.id:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    steering = can_steer(operation)
    return act(
        lambda: services.restore_revision(
            section, revision, by=current_user, org=current_org(), steering=steering
        ),
        success=lambda _result: _restored(operation, section, revision),
        failure=lambda refusal: _render(
            operation,
            section,
            history_error=refusal.message,
            status=409 if services.can_edit_section(section, steering=steering) else 403,
        ),
    )


@bp.get("/fiche.docx")
@login_required
def export_docx(operation_id: int):
    """The "Fiche de co-conception" as a Word document, for any participant."""
    operation = load_operation(operation_id)
    design = load_design(operation.id)
    if design is None:
        abort(404)
    response = send_file(
        BytesIO(documents.design_docx(operation, design)),
        mimetype=documents.DOCX_MIMETYPE,
        as_attachment=True,
        download_name=documents.filename(operation),
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
