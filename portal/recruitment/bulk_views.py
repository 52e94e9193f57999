"""Adding candidates, for the organisme porteur: several at once in one form, or a CSV file.

Both are all-or-nothing: one bad row refuses them all, and the form (or the report) says
which row and why, with everything typed kept.
"""

from flask import Response, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from portal import htmx
from portal.accounts.access import current_org, require
from portal.core.actions import act
from portal.core.errors import RuleError
from portal.extensions import db
from portal.operations.access import load_operation
from portal.operations.needs import TARGET_PUBLICS
from portal.recruitment import bp, imports, queries, rules, services
from portal.recruitment.access import is_provider_of
from portal.recruitment.forms import (
    BULK_TOO_MANY,
    MAX_IMPORT_BYTES,
    BulkTraineesForm,
    ImportTraineesForm,
)

BULK_PAGE = "recruitment/create_trainees.html"
BULK_FORM = "recruitment/_bulk_form.html"


def _carrier_operation(operation_id: int):
    operation = load_operation(operation_id)
    require(is_provider_of(operation))
    return operation


def _bulk_form(operation, formdata=None, *, add_row: bool = False) -> BulkTraineesForm:
    """The form, with one more row if ``add_row`` (``form.new_row``), its prescribers to
    choose from."""
    form = BulkTraineesForm(formdata=formdata)
    if add_row:
        form.add_row()
    form.set_choices(*queries.prescribers(operation))
    return form


def _render_bulk(operation, form, *, status=200, error=None, new_row=None):
    return htmx.render(
        BULK_PAGE,
        BULK_FORM,
        status,
        operation=operation,
        form=form,
        error=error,
        new_row=new_row,
        open=operation.status in rules.RECORDING_STEPS,
    )


def _added(operation, count: int):
    """The candidates are recorded: the recruitment page, where they are listed (htmx too)."""
    flash(
        ngettext("%(num)d candidature enregistrée.", "%(num)d candidatures enregistrées.", count),
        "success",
    )
    target = url_for("recruitment.show_recruitment", operation_id=operation.id)
    if htmx.is_htmx():
        return htmx.redirect(make_response("", 200), target)
    return redirect(target, 303)


@bp.route("/candidats", methods=["GET", "POST"])
@login_required
def create_trainees(operation_id: int):
    """Several candidates in one form; « Ajouter une ligne » posts what was typed and gets it
    back with one more row (htmx swaps the form; without JS, the page)."""
    operation = _carrier_operation(operation_id)
    if request.method == "GET":
        return _render_bulk(operation, _bulk_form(operation))
    if request.form.get("add_row"):
        form = _bulk_form(operation, formdata=request.form, add_row=True)
        if form.new_row is None:  # at the ceiling: the rows as they are, and why
            return _render_bulk(operation, form, error=str(BULK_TOO_MANY))
        return _render_bulk(operation, form, new_row=form.new_row)
    form = _bulk_form(operation, formdata=request.form)
    filled = form.filled()
    if not form.validate_filled():
        return _render_bulk(operation, form, status=422)
    if not filled:
        return _render_bulk(
            operation, form, status=422, error=_("Saisissez au moins un·e candidat·e.")
        )

    def refused(refusal: RuleError):
        if isinstance(refusal, services.RowErrors):
            for index, problems in refusal.errors.items():
                row = filled[index][1]
                for name, message in problems:
                    row[name].errors = [*row[name].errors, message]
        return _render_bulk(operation, form, status=422, error=refusal.message)

    return act(
        lambda: services.add_trainees(
            operation, [row.to_data() for _i, row in filled], by=current_user, org=current_org()
        ),
        success=lambda trainees: _added(operation, len(trainees)),
        failure=refused,
    )


def _read_upload(form: ImportTraineesForm) -> bytes | None:
    """The uploaded bytes, or None (with an error on the field) when the file is too big."""
    raw = form.file.data.read(MAX_IMPORT_BYTES + 1)
    if len(raw) > MAX_IMPORT_BYTES:
        form.file.errors = [*form.file.errors, _("Le fichier dépasse la taille autorisée (1 Mio).")]
        return None
    return raw


@bp.route("/import", methods=["GET", "POST"])
@login_required
def import_trainees(operation_id: int):
    """Import candidates from a CSV file: a file with one bad line is refused whole, with
    every problem listed by line and column."""
    operation = _carrier_operation(operation_id)
    form = ImportTraineesForm()
    report = None
    if form.validate_on_submit() and (raw := _read_upload(form)) is not None:
        try:
            report = imports.import_trainees_csv(raw, operation, by=current_user, org=current_org())
        except RuleError as exc:
            db.session.rollback()
            form.file.errors = [*form.file.errors, exc.message]
        else:
            if report.ok:
                db.session.commit()
                flash(
                    ngettext(
                        "Import terminé : %(num)d candidature enregistrée.",
                        "Import terminé : %(num)d candidatures enregistrées.",
                        report.created,
                    ),
                    "success",
                )
                return redirect(
                    url_for("recruitment.show_recruitment", operation_id=operation.id), 303
                )
            db.session.rollback()
    partners, others = queries.prescribers(operation)
    return render_template(
        "recruitment/import.html",
        operation=operation,
        form=form,
        report=report,
        columns=list(imports.COLUMNS),
        partners=partners + others,
        publics=TARGET_PUBLICS,
        open=operation.status in rules.RECORDING_STEPS,
    ), (422 if request.method == "POST" else 200)


@bp.get("/modele-candidats.csv")
@login_required
def csv_template(operation_id: int):
    """The example file: French headers and two fictitious lines (UTF-8 with BOM)."""
    load_operation(operation_id)
    return Response(
        imports.template_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="modele-candidats.csv"'},
    )
