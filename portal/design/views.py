"""Routes of the co-design page and of its sections: view, edit in place, save with merge,
conflict resolution, validation by the organisme porteur or the Région, approval.

Every section is one widget, ``design/_section.html``: htmx swaps it whole
(``hx-swap="outerHTML"`` on ``#section-<key>``); without JS the same URLs answer the full
page with that section in the asked state, and successful posts redirect (303). The
comments (B) and the live updates (C) render sections through ``section_context``.
"""

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import htmx
from portal.accounts.access import current_org, require
from portal.assessment.context import assessment_page
from portal.conventions.context import clause_page
from portal.core.actions import act, act_and_redirect, done
from portal.core.french import de
from portal.core.memo import remember_read
from portal.core.text import clean_text
from portal.design import bp, content, queries, services, start
from portal.design.context import (
    conflict_context,
    draft_context,
    gate_context,
    load,
    load_section,
    operation_for_page,
    page_context,
    section_context,
)
from portal.design.forms import section_form
from portal.design.models import Design, DesignSection, SectionKey, SectionRevision
from portal.extensions import db
from portal.operations import needs
from portal.operations.access import can_steer, is_region, load_operation
from portal.operations.models import Operation, Status
from portal.steering.context import minutes_page

PAGE = "design/show.html"
SECTION = "design/_section.html"
GATE = "design/_gate.html"
DRAFT = "design/_draft.html"
MAX_NEW_ROWS = 20


# --- Loading ---------------------------------------------------------------------------


def _own_draft(section: DesignSection, draft_id: int) -> SectionRevision:
    draft = db.session.get(SectionRevision, draft_id)
    if draft is None or draft.section_id != section.id or draft.kind != "draft":
        abort(404)
    require(draft.author_id == current_user.id)
    return draft


# --- Contexts --------------------------------------------------------------------------


def _render(operation, design, section, *, status: int = 200, **overrides):
    """htmx: the section alone; a plain request: the page with the section in that state."""
    if section.key.is_clause and not htmx.is_htmx():
        return clause_page(operation, section, status=status, **overrides)
    if section.key.is_assessment and not htmx.is_htmx():
        return assessment_page(operation, section, status=status, **overrides)
    if section.key.is_minutes and not htmx.is_htmx():
        return minutes_page(operation, section, status=status, **overrides)
    if htmx.is_htmx():
        context = section_context(design, section, **overrides)
    else:
        context = page_context(operation, design, section, **overrides)
    return htmx.render(PAGE, SECTION, status, **context)


def _done(operation, design, section, notice: str, **overrides):
    """After a change: htmx re-renders the section (and the gate out of band) with the
    notice; a plain form is redirected to the page (Post/Redirect/Get)."""
    # After the commit, the design reloads first: its sections (this one among them) come
    # joined to it in one query, instead of this section's row alone and then the design's.
    design.sections  # noqa: B018
    anchor = f"section-{section.slug}"
    url = url_for(section.key.page, operation_id=operation.id, _anchor=anchor, **section.page_args)
    return done(
        notice,
        url,
        lambda: _render(
            operation, design, section, notice=notice, oob_gate=section.key.is_design, **overrides
        ),
    )


def _edit_refusal(operation: Operation, section: DesignSection) -> tuple[str, int] | None:
    """Why the current user may not change ``section`` now (message, status), if so."""
    if not services.is_open_for_edit(section):
        return services.closed_message(section.key), 409
    if not services.can_edit_section(section, steering=can_steer(operation)):
        return (
            _("Section validée : seuls l'organisme porteur et la Région la modifient."),
            403,
        )
    return None


def _choices(design: Design) -> tuple[list, list]:
    """Employers taking part ``[(id, name)]`` and the design's skills ``[(id, label)]``."""
    employers = [(o.id, o.name) for o in needs.employer_participants(design.operation)]
    skills = content.skill_labels(design.section(SectionKey.SKILLS).content)
    return employers, list(skills.items())


def _edit_form(design: Design, key: SectionKey, *, new_rows: int = 0, **kwargs):
    """The section's form (bound to the request's form data unless ``formdata=None``)."""
    form = section_form(key, **kwargs)
    if key.is_list:
        for _row in range(new_rows):
            form.items.append_entry()
        form.set_choices(*_choices(design))
    return form


def _gate_response(operation, design, *, status: int = 200, **extra):
    """htmx: the gate alone; a plain request: the page."""
    if htmx.is_htmx():
        context = {
            "operation": operation,
            "design": design,
            "region": is_region(),
            **gate_context(design),
            **extra,
        }
    else:
        context = {**page_context(operation, design), **extra}
    return htmx.render(PAGE, GATE, status, **context)


# --- The page --------------------------------------------------------------------------


@bp.get("")
@login_required
def show_design(operation_id: int):
    """The co-design page: the gate to the convention (or, after co-design, what the draft
    changes) and every section. htmx asking for ``#design-draft``: that block alone."""
    operation = load_operation(operation_id, loader=operation_for_page)
    design = queries.load_design(operation.id)
    if design is not None and htmx.is_htmx() and htmx.target() == "design-draft":
        return htmx.render(
            PAGE, DRAFT, 200, operation=operation, design=design, draft=draft_context(design)
        )
    return render_template(PAGE, **page_context(operation, design))


@bp.post("/demarrage")
@login_required
def start_design(operation_id: int):
    """The organisme porteur or the Région opens the design, prefilled from the needs."""
    operation = load_operation(operation_id, loader=operation_for_page)
    require(can_steer(operation))
    return act_and_redirect(
        lambda: start.start_design(operation, by=current_user, org=current_org()),
        url_for("design.show_design", operation_id=operation.id),
        _("Co-conception ouverte, préremplie depuis l'analyse des besoins."),
    )


@bp.post("/approbation")
@login_required
def approve_design(operation_id: int):
    """The Région approves the design; refused with the list of unmet conditions."""
    operation, design = load(operation_id)
    require(is_region())
    comment = clean_text(request.form.get("comment") or "", multiline=True).strip()[:2000]
    notice = _("Co-conception approuvée par la Région.")
    error = _("La co-conception ne peut pas encore être approuvée : voir les conditions.")
    return act(
        lambda: services.approve_design(
            design, by=current_user, org=current_org(), comment=comment
        ),
        success=lambda _result: done(
            notice,
            url_for("design.show_design", operation_id=operation.id),
            lambda: _gate_response(operation, design, gate_notice=notice),
        ),
        failure=lambda _refusal: _gate_response(operation, design, status=422, gate_error=error),
    )


# --- A section -------------------------------------------------------------------------


@bp.get("/<key>")
@login_required
def show_section(operation_id: int, key: str):
    """A section as it reads (htmx: the fragment, e.g. after « Annuler »)."""
    operation, design, section = load_section(operation_id, key)
    return _render(operation, design, section)


@bp.route("/<key>/modification", methods=["GET", "POST"])
@login_required
def edit_section(operation_id: int, key: str):
    """The section's form in place of the section (without JS: the page with the form).

    ``?ajout=N`` adds N blank rows to a list section. A POST here saves, as ``save_section``
    does (the form's own URL acts, like every edit form of the portal).
    """
    if request.method == "POST":
        return save_section(operation_id, key)
    operation, design, section = load_section(operation_id, key)
    refusal = _edit_refusal(operation, section)
    if refusal:
        return _render(operation, design, section, status=refusal[1], error=refusal[0])
    if section.key.is_list:
        rows = content.form_rows(section.key, section.content)
        extra = min(max(request.args.get("ajout", 0, type=int), 0), MAX_NEW_ROWS)
        form = _edit_form(
            design, section.key, new_rows=1 + extra, formdata=None, data={"items": rows}
        )
    else:
        form = _edit_form(
            design, section.key, formdata=None, data={"text": section.content["text"]}
        )
    return _render(operation, design, section, mode="edit", form=form)


@bp.post("/<key>")
@login_required
def save_section(operation_id: int, key: str):
    """Save the section from the version the edit started at; merge with what others saved
    meanwhile, or keep the user's text as a draft and show the conflict (409)."""
    operation, design, section = load_section(operation_id, key)
    refusal = _edit_refusal(operation, section)
    if refusal:
        return _render(operation, design, section, status=refusal[1], error=refusal[0])
    adding = section.key.is_list and bool(request.form.get("add_row"))
    form = _edit_form(design, section.key, new_rows=1 if adding else 0)
    base_version = request.form.get("base_version", type=int)
    edit = {"mode": "edit", "form": form, "base_version": base_version or section.version}
    if adding:
        # « Ajouter une ligne » posts what was typed and gets it back with one more row.
        return _render(operation, design, section, **edit)
    if not form.validate_on_submit():
        return _render(operation, design, section, status=422, **edit)
    if base_version is None:
        error = _("Version de départ inconnue : rechargez la section.")
        return _render(operation, design, section, status=422, error=error, **edit)
    if section.key.is_list:
        new_content = content.items_content(section.key, form.rows())
    else:
        new_content = content.text_content(form.text.data)
    return _commit_save(
        operation,
        design,
        section,
        lambda **who: services.save_section(section, new_content, base_version=base_version, **who),
        edit,
    )


def _commit_save(operation, design, section, save, shown: dict):
    """Run a save (or a resolution) as the current user, commit once, answer with the
    section, the merge notice or the conflict view; a refusal re-renders ``shown`` (422)."""
    return act(
        lambda: save(by=current_user, org=current_org(), steering=can_steer(operation)),
        success=lambda result: _after_save(operation, design, section, result),
        failure=lambda refusal: _render(
            operation, design, section, status=422, error=refusal.message, **shown
        ),
        # The save locked the section and the design and read them, and the operation,
        # under the lock: the answer shows them as committed, without reading them again.
        keep_loaded=True,
    )


def _after_save(operation, design, section, result: services.SaveResult):
    """The answer to a save or a resolution: the conflict view (409) or the saved section."""
    if result.status == "conflict":
        return _render(
            operation,
            design,
            section,
            status=409,
            error=_(
                "Quelqu'un a modifié les mêmes passages pendant que vous écriviez : votre "
                "version est conservée en brouillon. Choisissez ce que la section doit garder."
            ),
            **conflict_context(section, result.draft),
        )
    if result.status == "merged":
        notice = _(
            "Vos modifications ont été fusionnées avec celles %(of_who)s.",
            of_who=de(", ".join(result.other_authors) or _("un autre participant")),
        )
    elif result.status == "unchanged":
        notice = _("Aucune modification : la section est inchangée.")
    else:
        notice = _("Section enregistrée.")
    return _done(operation, design, section, notice)


@bp.post("/<key>/conflit/<int:draft_id>")
@login_required
def resolve_conflict(operation_id: int, key: str, draft_id: int):
    """The user settles a conflict: their version, the saved one, or a text of their own
    (per item for lists). The draft is closed once the result is saved."""
    operation, design, section = load_section(operation_id, key)
    draft = _own_draft(section, draft_id)
    refusal = _edit_refusal(operation, section)
    if refusal:
        return _render(operation, design, section, status=refusal[1], error=refusal[0])
    if draft.resolved_at is not None:
        return _done(operation, design, section, _("Ce conflit est déjà réglé."))
    theirs_version = request.form.get("base_version", type=int) or section.version
    if not 1 <= theirs_version <= section.version:
        abort(400)
    shown = conflict_context(section, draft, theirs_version=theirs_version)
    try:
        resolved = content.resolution(section.key, shown["conflict"]["merge"], request.form)
    except ValueError as exc:
        if request.form.get("custom_text"):
            shown["conflict"]["custom_text"] = request.form["custom_text"]
        return _render(operation, design, section, status=422, error=str(exc), **shown)
    return _commit_save(
        operation,
        design,
        section,
        lambda **who: services.resolve_conflict(
            section, draft, resolved, base_version=theirs_version, **who
        ),
        shown,
    )


@bp.post("/<key>/brouillon/<int:draft_id>/abandon")
@login_required
def discard_draft(operation_id: int, key: str, draft_id: int):
    """The user drops their kept version (it stays in the section's history)."""
    operation, design, section = load_section(operation_id, key)
    draft = _own_draft(section, draft_id)
    services.discard_draft(draft, by=current_user)
    db.session.commit()
    return _done(
        operation,
        design,
        section,
        _("Votre version est abandonnée ; elle reste consultable dans l'historique."),
    )


@bp.post("/<key>/validation")
@login_required
def validate_section(operation_id: int, key: str):
    """The organisme porteur or the Région marks the section validated (1) or not (0)."""
    operation, design, section = load_section(operation_id, key)
    require(can_steer(operation))
    validated = request.form.get("validated") == "1"
    notice = (
        _("Section validée : seuls l'organisme porteur et la Région la modifient désormais.")
        if validated
        else _("Validation retirée : tous les participants peuvent de nouveau la modifier.")
    )
    return act(
        lambda: services.set_validated(section, validated, by=current_user, org=current_org()),
        success=lambda _result: _done(operation, design, section, notice),
        failure=lambda refusal: _render(
            operation, design, section, status=422, error=refusal.message
        ),
    )


# --- The operation page ----------------------------------------------------------------


@bp.app_template_global()
def design_card(operation: Operation) -> dict | None:
    """What the operation page says of the co-design (None: nothing to show yet)."""
    started, approved = remember_read(queries.card_read(operation))
    if not started and operation.status != Status.CO_DESIGN:
        return None
    return {"started": started, "approved": approved}
