"""Routes of debriefs (retours d'expérience): the due list and the recorded debriefs, the
form to record one (individual or collective) and a debrief's page.

Recording is in two steps that work without JS: choose the immersions (a GET form, the
choice travels as ``?immersion=<id>`` repeated), then fill in the debrief for them.
"""

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.accounts.access import current_org
from portal.core.actions import act, flash_redirect, form_page, form_refusal
from portal.extensions import db
from portal.immersions import bp, debriefs, queries, rules, services
from portal.immersions.access import debrief_or_404, require_carrier
from portal.immersions.forms import choices, debrief_form
from portal.immersions.models import DebriefKind, Immersion, SkillLevel, TutorAssessment
from portal.operations.access import is_carrier, load_operation, with_access
from portal.recruitment.access import can_view_trainee, log_trainees_shown, visible_among


@bp.get("/retours")
@login_required
def list_debriefs(operation_id: int):
    """Debriefs due (« à faire », « en retard ») and those recorded, for visible trainees."""
    operation = load_operation(operation_id, loader=with_access())
    visible = queries.visible_ids(operation)
    due = debriefs.due_debriefs(operation, trainee_ids=visible)
    recorded = queries.debriefs(operation, visible)
    # A collective debrief may name trainees the user does not see: only theirs are shown.
    shown = visible_among(
        operation, {line.trainee for debrief in recorded for line in debrief.trainees}
    )
    log_trainees_shown([d.immersion.trainee_id for d in due] + sorted(shown), "debriefs")
    response = render_template(
        "immersions/debriefs.html",
        operation=operation,
        due=due,
        recorded=recorded,
        overdue_days=rules.overdue_days(),
        carrier=is_carrier(operation),
        running=operation.status in rules.RUNNING_STEPS,
    )
    db.session.commit()  # the access log line, after rendering
    return response


def _selected(operation) -> list[Immersion]:
    """The immersions chosen for the debrief (``immersion`` arguments), in date order."""
    ids = request.values.getlist("immersion", type=int)[:50]
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Immersion)
            .where(Immersion.operation_id == operation.id, Immersion.id.in_(ids))
            .options(
                selectinload(Immersion.trainee),
                selectinload(Immersion.employer),
                selectinload(Immersion.tutor),
                selectinload(Immersion.assessment).selectinload(TutorAssessment.ratings),
            )
            .order_by(Immersion.starts_on, Immersion.id)
        )
    )


def _lines(operation, immersions: list[Immersion]) -> list[dict]:
    """Per immersion: the skills to note (objectives, or all, plus any the tutor rated) and
    the tutor's ratings by skill id."""
    skills = services.design_skills(operation)
    lines = []
    for immersion in immersions:
        chosen = services.skills_to_assess(immersion, skills)
        ratings = {
            r.skill_id: r for r in (immersion.assessment.ratings if immersion.assessment else [])
        }
        known = {s["id"] for s in chosen}
        chosen += [s for s in skills if s["id"] in ratings and s["id"] not in known]
        lines.append({"immersion": immersion, "skills": chosen, "ratings": ratings})
    return lines


def _initial(lines: list[dict]) -> dict:
    """Defaults: the kind from the number of trainees, today, levels from the tutor."""
    data = {
        "kind": (DebriefKind.INDIVIDUAL if len(lines) == 1 else DebriefKind.COLLECTIVE).value,
        "held_on": rules.today(),
    }
    for line in lines:
        trainee_id = line["immersion"].trainee_id
        for skill_id, rating in line["ratings"].items():
            data[f"skill-{trainee_id}-{skill_id}"] = rating.level.value
    return data


@bp.route("/retours/nouveau", methods=["GET", "POST"])
@login_required
def create_debrief(operation_id: int):
    """Record a debrief for the chosen immersions (one: individual; several of one period:
    collective); levels are prefilled from the tutors' assessments."""
    operation = load_operation(operation_id)
    require_carrier(operation)
    immersions = _selected(operation)
    lines = _lines(operation, immersions)
    form = debrief_form(lines, data=_initial(lines) if request.method == "GET" else None)
    people = debriefs.allowed_attendees(operation, immersions)
    form.attendee_ids.choices = choices(
        (user_id, f"{user.full_name}") for user_id, (user, _org) in people.items()
    )

    def page(error: str | None = None):
        organisations = {user_id: org_id for user_id, (_user, org_id) in people.items()}
        return form_page(
            "immersions/debrief_form.html",
            operation=operation,
            lines=lines,
            form=form,
            error=error,
            candidates=debriefs.due_debriefs(operation) if not immersions else [],
            staff={u for u, o in organisations.items() if o == operation.provider_id},
            levels={level.value: level.title for level in SkillLevel},
        )

    if request.method == "POST" and not immersions:
        return page(_("Choisissez au moins une immersion."))
    if not form.validate_on_submit():
        return page()
    data = {
        "kind": form.kind.data,
        "held_on": form.held_on.data,
        "immersions": immersions,
        "absent": form.absent(),
        "attendee_ids": form.attendee_ids.data or [],
        "went_well": form.went_well.data,
        "difficulties": form.difficulties.data,
        "decisions": form.decisions.data,
        "next_steps": form.next_steps.data,
        "skills": form.skills(),
    }
    return act(
        lambda: debriefs.record_debrief(operation, data, by=current_user, org=current_org()).id,
        success=lambda debrief_id: flash_redirect(
            _("Retour d'expérience enregistré."),
            url_for("immersions.show_debrief", operation_id=operation.id, debrief_id=debrief_id),
        ),
        failure=form_refusal(form, page),
    )


@bp.get("/retours/<int:debrief_id>")
@login_required
def show_debrief(operation_id: int, debrief_id: int):
    """A debrief: who attended, what was said, skills progress of each visible trainee."""
    operation = load_operation(operation_id)
    debrief = debrief_or_404(operation, debrief_id)
    lines = [line for line in debrief.trainees if can_view_trainee(line.trainee)]
    visible = {line.trainee_id for line in lines}
    log_trainees_shown([line.trainee for line in lines], "debrief")
    response = render_template(
        "immersions/debrief.html",
        operation=operation,
        debrief=debrief,
        lines=lines,
        skills=[s for s in debrief.skills if s.trainee_id in visible],
    )
    db.session.commit()  # the access log line, after rendering
    return response
