"""The convention type, edited by the Région's admins: the version in force as a form,
the history of versions, and what each version changed (routes on ``admin.bp``, whose
``before_request`` lets only the Région's admins in)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from portal.accounts.access import current_org
from portal.admin import bp
from portal.admin.clauses_forms import clause_template_form
from portal.conventions import clause_templates, clauses
from portal.conventions.models import ClauseTemplate
from portal.core.errors import RuleError
from portal.design.models import SectionKey
from portal.extensions import db


@bp.route("/convention-type", methods=["GET", "POST"])
def edit_clause_template():
    """The convention type in force, editable; saving makes a new version."""
    current = clause_templates.in_force()
    if request.method == "GET":
        form = clause_template_form(formdata=None, data={**current.texts, "base": current.number})
    else:
        form = clause_template_form()
    error = None
    if request.method == "POST" and form.validate_on_submit():
        try:
            template = clause_templates.save_template(
                form.texts(),
                form.note.data or "",
                base=form.base.data,
                by=current_user,
                org=current_org(),
            )
        except RuleError as exc:
            db.session.rollback()
            if exc.field and exc.field in form:
                form[exc.field].errors = [*form[exc.field].errors, exc.message]
            else:
                error = exc.message
        else:
            number = template.number
            db.session.commit()
            flash(
                _(
                    "Version %(n)d de la convention type enregistrée : les prochaines "
                    "conventions en partent ; les conventions déjà commencées gardent leur texte.",
                    n=number,
                ),
                "success",
            )
            return redirect(url_for("admin.edit_clause_template"), 303)
    status = 422 if request.method == "POST" else 200
    return render_template(
        "admin/clause_template.html",
        form=form,
        error=error,
        current=current,
        history=clause_templates.history(),
        keys=SectionKey.clause_keys(),
        placeholders=clauses.PLACEHOLDERS,
    ), status


@bp.get("/convention-type/versions/<int:template_id>")
def show_clause_template(template_id: int):
    """One saved version: who saved it, why, and what it changed from the one before."""
    template = db.session.get(
        ClauseTemplate, template_id, options=[selectinload(ClauseTemplate.created_by)]
    )
    if template is None:
        abort(404)
    return render_template(
        "admin/clause_template_version.html",
        template=template,
        changes=clause_templates.changes(clause_templates.previous_texts(template), template.texts),
        keys=SectionKey.clause_keys(),
        in_force=clause_templates.in_force().number == template.number,
    )
