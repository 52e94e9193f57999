"""The tutor's space, across operations: their trainees in immersion with the dates and the
place, what is due (assessments, coming evaluations and juries they are invited to), and
the assessment of each immersion (presence, skills observed, feedback, would they hire).

For an admin of an employer the space lists every immersion the employer hosts, and each
row carries the designation of its tutor: an htmx widget (``immersions/_designation.html``)
that confirms the organisme's suggestion or designates another tutor, in place.
"""

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import exists, func, select
from sqlalchemy.orm import selectinload

from portal import htmx
from portal.accounts.access import current_membership, current_org, require
from portal.accounts.forms import EmptyForm
from portal.accounts.models import OrgKind
from portal.core.actions import act, flash_redirect, form_page, form_refusal
from portal.core.errors import RuleError
from portal.core.french import de
from portal.core.time import utcnow
from portal.extensions import db
from portal.immersions import assessments, queries, rules, services, tutor_bp, tutoring
from portal.immersions.forms import DesignateTutorForm, assessment_form
from portal.immersions.models import Immersion, TutorAssessment
from portal.operations.access import can_view
from portal.recruitment.access import can_view_trainee, log_trainees_shown

DESIGNATION = "immersions/_designation.html"


def designation_form(immersion: Immersion, tutors, **kwargs) -> DesignateTutorForm:
    """The designation form of one row (prefixed: one form per immersion on the page)."""
    form = DesignateTutorForm(prefix=f"tutor{immersion.id}", **kwargs)
    form.set_tutors(
        tutors,
        _(
            "Tuteur·rice %(of_t)s, du %(a)s au %(b)s",
            of_t=de(immersion.trainee.full_name),
            a=format_date(immersion.starts_on, "short"),
            b=format_date(immersion.ends_on, "short"),
        ),
    )
    return form


@tutor_bp.get("")
@login_required
def tutor_home():
    """The immersions the user tutors (and, for an admin of an employer, those it hosts):
    what is due (the coming evaluations ten a page), then current, coming, and those ended
    in the last three months, fifty a page (``queries.tutor_space``: a fixed number of
    queries)."""
    org, membership = current_org(), current_membership()
    hosts = org.kind == OrgKind.EMPLOYER and membership.is_admin
    today = rules.today()
    space = queries.tutor_space(current_user.id, org.id, hosts=hosts, today=today, now=utcnow())
    immersions = space.page.items
    log_trainees_shown([i.trainee for i in [*space.due, *immersions]], "tutor")
    groups = {
        "current": [i for i in immersions if i.starts_on <= today <= i.ends_on],
        "coming": [i for i in immersions if i.starts_on > today],
        "recent": [i for i in immersions if i.ends_on < today],
    }
    tutors = tutoring.tutors_by_employer([org.id])[org.id] if hosts else []
    forms = {}
    if hosts:
        for immersion in immersions:
            initial = {"tutor_id": str(immersion.tutor_id or immersion.suggested_tutor_id or "")}
            forms[immersion.id] = designation_form(immersion, tutors, formdata=None, data=initial)
    response = render_template(
        "immersions/tutor_home.html",
        groups=groups,
        pagination=space.page,
        hosts=hosts,
        today=today,
        due=space.due,
        due_total=space.due_total,
        agenda=space.agenda.items,
        agenda_pages=space.agenda,
        agenda_arg=queries.AGENDA_PAGE,
        undesignated=space.undesignated,
        tutor_ids={user.id for user in tutors},
        forms=forms,
        button_form=EmptyForm(formdata=None),
        can_assess=lambda i: assessments.can_assess(i, current_user, org),
    )
    db.session.commit()  # the access log line, after rendering
    return response


@tutor_bp.post("/immersions/<int:immersion_id>/tuteur")
@login_required
def designate_tutor(immersion_id: int):
    """The host employer designates (or confirms, or withdraws) an immersion's tutor."""
    immersion = _immersion(immersion_id)
    org = current_org()
    if not tutoring.can_designate(immersion, current_user, org):
        if not can_view(immersion.operation):
            abort(404)
        abort(403)
    tutors = tutoring.tutors_by_employer([org.id])[org.id]
    form = designation_form(immersion, tutors)
    if form.validate_on_submit():
        tutor = next((u for u in tutors if str(u.id) == form.tutor_id.data), None)
        try:
            tutoring.designate_tutor(immersion, tutor, by=current_user, org=org)
        except RuleError as exc:
            db.session.rollback()
            form.tutor_id.errors = [exc.message]
        else:
            db.session.commit()
            notice = (
                _(
                    "%(who)s est désigné·e tuteur·rice %(of_t)s ; l'organisme de formation en "
                    "est informé.",
                    who=tutor.full_name,
                    of_t=de(immersion.trainee.full_name),
                )
                if tutor
                else _("Plus aucun·e tuteur·rice pour %(t)s.", t=immersion.trainee.full_name)
            )
            return _designation_answer(immersion, tutors, notice=notice)
    if htmx.is_htmx():
        return _designation_widget(immersion, tutors, form, status=422)
    # The choice's message is a lazy string (``_l``): joined as text, not as the object.
    errors = " ".join(str(error) for error in form.tutor_id.errors)
    flash(errors or _("Le formulaire a expiré : rechargez la page."), "error")
    return redirect(url_for("tutoring.tutor_home", _anchor=f"designation-{immersion.id}"), 303)


def _designation_widget(immersion: Immersion, tutors, form, *, status=200, notice=None):
    return htmx.render(
        DESIGNATION,
        DESIGNATION,
        status,
        immersion=immersion,
        form=form,
        notice=notice,
        tutor_ids={user.id for user in tutors},
        button_form=EmptyForm(formdata=None),
    )


def _designation_answer(immersion: Immersion, tutors, *, notice: str):
    """htmx: the row's widget again, with the notice; a plain form: flash and back (PRG)."""
    if htmx.is_htmx():
        initial = {"tutor_id": str(immersion.tutor_id or "")}
        form = designation_form(immersion, tutors, formdata=None, data=initial)
        return _designation_widget(immersion, tutors, form, notice=notice)
    flash(notice, "success")
    return redirect(url_for("tutoring.tutor_home", _anchor=f"designation-{immersion.id}"), 303)


def _immersion(immersion_id: int) -> Immersion:
    immersion = db.session.scalar(
        select(Immersion)
        .where(Immersion.id == immersion_id)
        .options(
            selectinload(Immersion.trainee),
            selectinload(Immersion.operation),
            selectinload(Immersion.employer),
            selectinload(Immersion.tutor),
            selectinload(Immersion.suggested_tutor),
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
        log_trainees_shown([immersion.trainee], "tutor")
        response = form_page(
            "immersions/tutor_assess.html",
            immersion=immersion,
            skills=skills,
            form=form,
            error=error,
            may_assess=may_assess,
            started=immersion.starts_on <= rules.today(),
        )
        db.session.commit()  # the access log line, after rendering
        return response

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


def _mine():
    """Immersions the logged-in user tutors for the current organisation, while still an
    active tutor of it (``rules.tutored_by``)."""
    org_id = getattr(current_org(), "id", None)
    return (rules.tutored_by(current_user.id, org_id), Immersion.employer_id == org_id)


@tutor_bp.app_template_global()
def tutored_immersions_count() -> int:
    """Current and coming immersions the logged-in user tutors (the tutor's home page)."""
    return db.session.scalar(
        select(func.count(Immersion.id)).where(*_mine(), Immersion.ends_on >= rules.today())
    )


@tutor_bp.app_template_global()
def tutor_assessments_due() -> int:
    """Started immersions the logged-in user tutors and has not assessed yet, among those the
    tutor's space lists: once a period is over it leaves the count above, not this one."""
    today = rules.today()
    return db.session.scalar(
        select(func.count(Immersion.id)).where(
            *_mine(),
            Immersion.starts_on <= today,
            Immersion.ends_on >= today - timedelta(days=queries.RECENT_DAYS),
            ~exists().where(TutorAssessment.immersion_id == Immersion.id),
        )
    )
