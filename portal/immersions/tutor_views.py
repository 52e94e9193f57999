"""The tutor's space, across operations: their trainees in immersion and the assessment of
each immersion (presence, skills observed, overall feedback, would they hire)."""

from datetime import timedelta

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import exists, func, select
from sqlalchemy.orm import selectinload

from portal.accounts.access import current_membership, current_org, require
from portal.accounts.models import OrgKind
from portal.core.actions import act, flash_redirect, form_page, form_refusal
from portal.extensions import db
from portal.immersions import assessments, queries, rules, services, tutor_bp
from portal.immersions.forms import assessment_form
from portal.immersions.models import Immersion, TutorAssessment
from portal.operations.access import can_view
from portal.recruitment.access import can_view_trainee


@tutor_bp.get("")
@login_required
def tutor_home():
    """The immersions the user tutors (and, for an admin of an employer, those it hosts):
    current, coming, and those ended in the last three months."""
    org, membership = current_org(), current_membership()
    hosts = org.kind == OrgKind.EMPLOYER and membership.is_admin
    today = rules.today()
    immersions = queries.tutor_immersions(current_user.id, org.id if hosts else None, today=today)
    groups = {
        "current": [i for i in immersions if i.starts_on <= today <= i.ends_on],
        "coming": [i for i in immersions if i.starts_on > today],
        "recent": [i for i in immersions if i.ends_on < today],
    }
    return render_template(
        "immersions/tutor_home.html",
        groups=groups,
        hosts=hosts,
        today=today,
        can_assess=lambda i: assessments.can_assess(i, current_user, org),
    )


def _immersion(immersion_id: int) -> Immersion:
    immersion = db.session.scalar(
        select(Immersion)
        .where(Immersion.id == immersion_id)
        .options(
            selectinload(Immersion.trainee),
            selectinload(Immersion.operation),
            selectinload(Immersion.employer),
            selectinload(Immersion.assessment).selectinload(TutorAssessment.ratings),
        )
    )
    if immersion is None:
        abort(404)
    return immersion


def _initial(immersion: Immersion) -> dict | None:
    assessment = immersion.assessment
    if assessment is None:
        return None
    data = {
        "presence": assessment.presence.value,
        "would_hire": assessment.would_hire.value,
        "feedback": assessment.feedback,
    }
    for rating in assessment.ratings:
        data[f"level-{rating.skill_id}"] = rating.level.value
        data[f"comment-{rating.skill_id}"] = rating.comment
    return data


@tutor_bp.route("/immersions/<int:immersion_id>/evaluation", methods=["GET", "POST"])
@login_required
def assess_immersion(immersion_id: int):
    """The tutor's assessment: a form for the tutor (or an admin of the host employer), the
    assessment as recorded for the others who may see the trainee."""
    immersion = _immersion(immersion_id)
    org = current_org()
    may_assess = assessments.can_assess(immersion, current_user, org)
    if not may_assess:
        if not can_view(immersion.operation):
            abort(404)
        require(can_view_trainee(immersion.trainee) and request.method == "GET")
    skills = services.skills_to_assess(immersion)
    form = assessment_form(skills, data=_initial(immersion) if request.method == "GET" else None)

    def page(error: str | None = None):
        return form_page(
            "immersions/tutor_assess.html",
            immersion=immersion,
            skills=skills,
            form=form,
            error=error,
            may_assess=may_assess,
            started=immersion.starts_on <= rules.today(),
        )

    if not (may_assess and form.validate_on_submit()):
        return page()
    data = {
        "presence": form.presence.data,
        "would_hire": form.would_hire.data,
        "feedback": form.feedback.data,
        "ratings": form.ratings(),
    }
    return act(
        lambda: assessments.record_assessment(immersion, data, by=current_user, org=org),
        success=lambda _result: flash_redirect(
            _("Évaluation enregistrée : l'organisme de formation en est informé."),
            url_for("tutoring.tutor_home"),
        ),
        failure=form_refusal(form, page),
    )


@tutor_bp.app_template_global()
def tutored_immersions_count() -> int:
    """Current and coming immersions the logged-in user tutors (the tutor's home page)."""
    return db.session.scalar(
        select(func.count(Immersion.id)).where(
            Immersion.tutor_id == current_user.id, Immersion.ends_on >= rules.today()
        )
    )


@tutor_bp.app_template_global()
def tutor_assessments_due() -> int:
    """Started immersions the logged-in user tutors and has not assessed yet, among those the
    tutor's space lists: once a period is over it leaves the count above, not this one."""
    today = rules.today()
    return db.session.scalar(
        select(func.count(Immersion.id)).where(
            Immersion.tutor_id == current_user.id,
            Immersion.starts_on <= today,
            Immersion.ends_on >= today - timedelta(days=queries.RECENT_DAYS),
            ~exists().where(TutorAssessment.immersion_id == Immersion.id),
        )
    )
