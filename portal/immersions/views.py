"""Routes of the immersions page: the immersions of each trainee, generation from the
rhythm, adding, adjusting and removing an immersion, its preparation checklist (an htmx
widget, ``immersions/_preparation.html``), and the trainee's path.

Everyone taking part in the operation opens these pages and sees only the trainees whose
record they may open; only the organisme porteur changes anything.
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal import htmx
from portal.accounts.access import current_org
from portal.accounts.forms import EmptyForm
from portal.core.actions import act, done, flash_redirect, flash_refusal, form_page, form_refusal
from portal.core.memo import remember_read
from portal.extensions import db
from portal.immersions import bp, path, queries, rules, services
from portal.immersions.access import immersion_or_404, require_carrier
from portal.immersions.forms import ChecklistForm, ImmersionForm
from portal.operations.access import is_carrier, is_region, load_operation, with_access
from portal.operations.models import Operation
from portal.recruitment.access import can_view_trainee, load_trainee, log_trainees_shown
from portal.recruitment.models import Trainee

PAGE = "immersions/list.html"
SHOW = "immersions/show.html"
PREPARATION = "immersions/_preparation.html"
CHECKLIST_FIELDS = (
    "objectives_agreed",
    "tutor_briefed",
    "practical_details",
    "safety_ppe",
    "agreement_reference",
)


def skill_names(operation: Operation) -> dict[str, str]:
    """Skill id -> label of the operation's design."""
    return {s["id"]: s["label"] for s in services.design_skills(operation)}


def _list_url(operation: Operation, immersion_id: int | None = None) -> str:
    """The immersions page, at ``immersion_id``'s row when given."""
    anchor = f"immersion-{immersion_id}" if immersion_id else None
    return url_for("immersions.list_immersions", operation_id=operation.id, _anchor=anchor)


# --- The page ----------------------------------------------------------------------------------


@bp.get("/immersions")
@login_required
def list_immersions(operation_id: int):
    """Each visible trainee with their immersions: host, tutor, dates, objectives, state."""
    operation = load_operation(operation_id, loader=with_access())
    page, rows = queries.immersions_page(operation, today=rules.today())
    log_trainees_shown([row.trainee for row in rows], "immersions")
    response = render_template(
        PAGE,
        operation=operation,
        page=page,
        rows=rows,
        skills=skill_names(operation),
        carrier=is_carrier(operation),
        running=operation.status in rules.RUNNING_STEPS,
        button_form=EmptyForm(formdata=None),
    )
    db.session.commit()  # the access log line, after rendering
    return response


def _generated(operation: Operation, result: services.Generation):
    """What the generation made, and which trainees it could not place."""
    if result.created:
        flash(_("%(n)d immersion(s) créée(s) depuis le rythme.", n=result.created), "success")
    else:
        flash(_("Toutes les immersions du rythme existent déjà."), "success")
    if result.unmatched:
        flash(
            _(
                "%(n)d stagiaire(s) sans promesse d'embauche n'ont pas d'entreprise d'accueil "
                "pour les périodes sans entreprise choisie : ajoutez ces immersions une à une.",
                n=result.unmatched,
            ),
            "error",
        )
    return redirect(_list_url(operation), 303)


@bp.post("/immersions/generation")
@login_required
def generate_immersions(operation_id: int):
    """One immersion per matched trainee and company period of the rhythm (idempotent)."""
    operation = load_operation(operation_id)
    require_carrier(operation)
    return act(
        lambda: services.generate_from_rhythm(operation, by=current_user, org=current_org()),
        success=lambda result: _generated(operation, result),
        failure=flash_refusal(_list_url(operation)),
    )


# --- One immersion -------------------------------------------------------------------------------


def _form(operation: Operation, **kwargs):
    """The immersion form with its choices; the employers and tutors by id."""
    form = ImmersionForm(**kwargs)
    employers = services.signatory_employers(operation)
    tutors = services.tutors_by_employer(e.id for e in employers)
    form.set_choices(employers, tutors, services.design_skills(operation))
    tutor_ids = {user.id: user for users in tutors.values() for user in users}
    return form, {e.id: e for e in employers}, tutor_ids


def _data(form: ImmersionForm, employers: dict, tutors: dict) -> dict:
    return {
        "employer": employers.get(int(form.employer_id.data)),
        "tutor": tutors.get(int(form.tutor_id.data)) if form.tutor_id.data else None,
        "starts_on": form.starts_on.data,
        "ends_on": form.ends_on.data,
        "objectives": list(form.objectives.data or []),
    }


def _immersion_form(operation: Operation, trainee: Trainee, immersion=None):
    """Add (``immersion`` None) or adjust an immersion: the form, then the service."""
    initial = None
    if immersion is not None and request.method == "GET":
        initial = {
            "employer_id": str(immersion.employer_id),
            # The organisme suggests; the designated tutor stands until the employer changes it.
            "tutor_id": str(immersion.suggested_tutor_id or immersion.tutor_id or ""),
            "starts_on": immersion.starts_on,
            "ends_on": immersion.ends_on,
            "objectives": list(immersion.objectives or []),
        }
    form, employers, tutors = _form(operation, data=initial)

    def page(error: str | None = None):
        return form_page(
            "immersions/edit.html",
            operation=operation,
            trainee=trainee,
            immersion=immersion,
            form=form,
            error=error,
        )

    if not form.validate_on_submit():
        return page()
    data = _data(form, employers, tutors)

    def save() -> int:
        if immersion is None:
            return services.create_immersion(
                operation, trainee, data, by=current_user, org=current_org()
            ).id
        services.update_immersion(immersion, data, by=current_user, org=current_org())
        return immersion.id

    return act(
        save,
        success=lambda immersion_id: flash_redirect(
            _("Immersion enregistrée."), _list_url(operation, immersion_id)
        ),
        failure=form_refusal(form, page),
    )


@bp.route("/immersions/nouvelle", methods=["GET", "POST"])
@login_required
def create_immersion(operation_id: int):
    """Add an immersion for one trainee (``?stagiaire=<id>``) by hand."""
    operation = load_operation(operation_id)
    require_carrier(operation)
    trainee = db.session.get(Trainee, request.args.get("stagiaire", type=int) or 0)
    if trainee is None or trainee.operation_id != operation.id:
        abort(404)
    return _immersion_form(operation, trainee)


@bp.route("/immersions/<int:immersion_id>/modification", methods=["GET", "POST"])
@login_required
def edit_immersion(operation_id: int, immersion_id: int):
    """Adjust the host, tutor, dates and objectives of an immersion."""
    operation = load_operation(operation_id)
    immersion = immersion_or_404(operation, immersion_id)
    require_carrier(operation)
    return _immersion_form(operation, immersion.trainee, immersion)


@bp.post("/immersions/<int:immersion_id>/suppression")
@login_required
def delete_immersion(operation_id: int, immersion_id: int):
    """Remove an immersion added by mistake (not once assessed or debriefed)."""
    operation = load_operation(operation_id)
    immersion = immersion_or_404(operation, immersion_id)
    require_carrier(operation)
    return act(
        lambda: services.delete_immersion(immersion, by=current_user, org=current_org()),
        success=lambda _result: flash_redirect(_("Immersion supprimée."), _list_url(operation)),
        failure=flash_refusal(_list_url(operation, immersion_id)),
    )


# --- Preparation (htmx widget) ---------------------------------------------------------------


def _preparation(operation, immersion, *, status=200, **extra):
    """htmx: the widget alone; a plain request: the immersion's page."""
    done = queries.debriefed_ids([immersion.id])
    context = {
        "operation": operation,
        "immersion": immersion,
        "state": rules.immersion_state(
            immersion, today=rules.today(), debriefed=immersion.id in done
        ),
        "carrier": is_carrier(operation),
        "running": operation.status in rules.RUNNING_STEPS,
        "skills": skill_names(operation),
        "form": None,
        "notice": None,
        "csrf_form": EmptyForm(formdata=None),
        **extra,
    }
    return htmx.render(SHOW, PREPARATION, status, **context)


@bp.get("/immersions/<int:immersion_id>")
@login_required
def show_immersion(operation_id: int, immersion_id: int):
    """One immersion and its preparation (htmx: the preparation widget, e.g. « Annuler »)."""
    operation = load_operation(operation_id)
    immersion = immersion_or_404(operation, immersion_id)
    log_trainees_shown([immersion.trainee], "immersion")
    response = _preparation(operation, immersion)
    db.session.commit()  # the access log line, after rendering
    return response


def _prepared(operation, immersion, ready: bool):
    """After the checklist is saved: the widget again (htmx) or the immersions page."""
    notice = _("Immersion prête.") if ready else _("Préparation enregistrée.")
    url = _list_url(operation, immersion.id)
    return done(notice, url, lambda: _preparation(operation, immersion, notice=notice))


@bp.route("/immersions/<int:immersion_id>/preparation", methods=["GET", "POST"])
@login_required
def edit_preparation(operation_id: int, immersion_id: int):
    """The preparation checklist in place of its summary; « prête » once complete."""
    operation = load_operation(operation_id)
    immersion = immersion_or_404(operation, immersion_id)
    require_carrier(operation)
    prefix = f"prep{immersion.id}"  # several checklists may be open on one page
    if request.method == "GET":
        form = ChecklistForm(obj=immersion, formdata=None, prefix=prefix)
        return _preparation(operation, immersion, form=form)
    form = ChecklistForm(prefix=prefix)
    if not form.validate_on_submit():
        return _preparation(operation, immersion, status=422, form=form)
    data = {name: form[name].data for name in CHECKLIST_FIELDS}
    return act(
        lambda: services.save_checklist(immersion, data, by=current_user, org=current_org()),
        success=lambda ready: _prepared(operation, immersion, ready),
        failure=form_refusal(
            form,
            lambda _message: _preparation(operation, immersion, status=422, form=form),
            "tutor_briefed",
        ),
    )


# --- The trainee's path ---------------------------------------------------------------------


@bp.get("/stagiaires/<int:trainee_id>/parcours")
@login_required
def show_trainee_path(operation_id: int, trainee_id: int):
    """The trainee's path (the view is written to the access log)."""
    operation = load_operation(operation_id)
    trainee = load_trainee(operation.id, trainee_id, current_user)
    page = render_template(
        "immersions/path.html",
        operation=operation,
        trainee=trainee,
        path=path.trainee_path(trainee),
    )
    db.session.commit()  # the access log line (after rendering: nothing expires meanwhile)
    return page


@bp.app_template_global()
def trainee_path_for(trainee: Trainee) -> path.TraineePath | None:
    """The path of ``trainee`` for the trainee's record page (None if not visible)."""
    return path.trainee_path(trainee) if can_view_trainee(trainee) else None


@bp.app_template_global()
def immersions_card(operation: Operation) -> dict | None:
    """What the operation page says of immersions, debriefs and evaluations (None before
    the recruitment step)."""
    reads = queries.card_reads(operation)
    return {"figures": remember_read(reads[0]), "region": is_region()} if reads else None
