"""Information sessions and job datings: the list, planning one, the session's page (who is
invited, the attendance sheet of the organisme porteur, the employers' opinions).

Who sees what is ``sessions.viewer``; every page showing candidates writes the access log.
The attendance sheet and each opinion are htmx widgets (``_session_candidates.html``,
``_opinion.html``); without JS their forms post and are redirected (303).
"""

from flask import abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext, to_utc
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal import htmx
from portal.accounts.access import current_membership, current_org, require
from portal.core.actions import act, done, flash_redirect, form_page
from portal.extensions import db
from portal.operations.access import is_region, load_operation
from portal.recruitment import bp, opinions, queries, rules, sessions
from portal.recruitment.access import log_trainees_shown
from portal.recruitment.models import Attendance, RecruitmentSession, Trainee, Verdict
from portal.recruitment.session_forms import AttendanceForm, InviteForm, OpinionForm, SessionForm

LIST = "recruitment/sessions.html"
CREATE = "recruitment/create_session.html"
PAGE = "recruitment/session.html"
CANDIDATES = "recruitment/_session_candidates.html"
OPINION = "recruitment/_opinion.html"


def _viewer(operation) -> sessions.Viewer:
    seen_by = sessions.viewer(operation, current_membership(), region=is_region())
    require(seen_by.allowed)
    return seen_by


def _load(operation, session_id: int, seen_by: sessions.Viewer) -> RecruitmentSession:
    """The session of ``operation``: 404 if it is another's, 403 if not for this viewer."""
    session = db.session.scalar(
        select(RecruitmentSession)
        .where(RecruitmentSession.id == session_id)
        .options(
            selectinload(RecruitmentSession.employers).selectinload(
                sessions.SessionEmployer.organisation
            ),
            selectinload(RecruitmentSession.candidates),
        )
    )
    if session is None or session.operation_id != operation.id:
        abort(404)
    if not seen_by.sees_all and session not in sessions.sessions_for(operation, seen_by):
        abort(403)
    return session


@bp.get("/sessions")
@login_required
def list_sessions(operation_id: int):
    """The operation's information sessions and job datings the user may open."""
    operation = load_operation(operation_id)
    seen_by = _viewer(operation)
    return render_template(
        LIST,
        operation=operation,
        sessions=sessions.sessions_for(operation, seen_by),
        viewer=seen_by,
        can_plan=seen_by.manages and operation.status in rules.RECORDING_STEPS,
        when=sessions.when,
    )


@bp.route("/sessions/nouvelle", methods=["GET", "POST"])
@login_required
def create_session(operation_id: int):
    """The organisme porteur plans a session (a past date records one held already)."""
    operation = load_operation(operation_id)
    require(_viewer(operation).manages)
    form = SessionForm()

    def page(error: str | None = None):
        return form_page(CREATE, operation=operation, form=form, error=error)

    if not form.validate_on_submit():
        return page()
    data = {
        "kind": form.kind.data,
        "starts_at": to_utc(form.starts_at.data),  # typed in Paris time, stored in UTC
        "place": form.place.data,
        "video_link": form.video_link.data,
        "details": form.details.data,
    }

    def refused(refusal):
        if refusal.field in form:
            form[refusal.field].errors = [*form[refusal.field].errors, refusal.message]
            return page()
        return page(refusal.message)

    return act(
        lambda: sessions.plan_session(operation, data, by=current_user, org=current_org()).id,
        success=lambda session_id: flash_redirect(
            _("Session enregistrée : invitez maintenant les candidat·e·s et les employeurs."),
            url_for("recruitment.show_session", operation_id=operation.id, session_id=session_id),
        ),
        failure=refused,
    )


def _opinion_form(trainee_id: int, opinion=None, formdata=None) -> OpinionForm:
    form = OpinionForm(formdata=formdata, prefix=f"opinion-{trainee_id}")
    if formdata is None and opinion is not None:
        form.verdict.data = opinion.verdict.value
        form.comment.data = opinion.comment
    if formdata is None:
        form.version.data = opinion.version if opinion is not None else 0
    return form


def _context(operation, session, seen_by, posted: dict | None = None, **overrides) -> dict:
    """The session page; ``posted``: opinion forms as posted (refused), by trainee id."""
    shown = sessions.shown_candidates(session, seen_by)
    ids = [row.trainee_id for row in shown]
    own = seen_by.employer.id if seen_by.employer is not None else None
    given = opinions.by_trainee(ids, own) if (seen_by.sees_all or own) else {}
    started = sessions.has_started(session)
    can_opine = (
        own is not None
        and seen_by.employer_admin
        and started
        and operation.status in rules.RECORDING_STEPS
    )
    context = {
        "operation": operation,
        "session": session,
        "viewer": seen_by,
        "when": sessions.when(session),
        "started": started,
        "shown": shown,
        "opinions": given,
        # What the employer promised here: what its opinions are about.
        "own_promises": [p for p in queries.promises(operation) if p.organisation_id == own]
        if own is not None
        else [],
        "can_record": seen_by.manages and operation.status in rules.RECORDING_STEPS,
        "can_opine": can_opine,
        "opinion_forms": {
            i: _opinion_form(i, (given.get(i) or [None])[0]) for i in ids if can_opine
        },
        "attendance_form": AttendanceForm(formdata=None, version=session.attendance_version),
        "invite_form": None,
        "attendances": list(Attendance),
        "verdicts": list(Verdict),
        "notice": None,
        "error": None,
    }
    context["opinion_forms"].update(posted or {})
    if seen_by.manages and context["can_record"]:
        form = InviteForm(formdata=None)
        form.set_choices(*sessions.invitable(operation, session))
        context["invite_form"] = form
    context.update(overrides)
    log_trainees_shown(ids, "session")
    return context


def _render(template_page, fragment, operation, session, seen_by, *, status=200, **overrides):
    response = htmx.render(
        template_page, fragment, status, **_context(operation, session, seen_by, **overrides)
    )
    db.session.commit()  # the access log line, after rendering
    return response


@bp.get("/sessions/<int:session_id>")
@login_required
def show_session(operation_id: int, session_id: int):
    """A session: when and where, the employers, the candidates the viewer may see (the
    attendance sheet for the organisme porteur, the opinion forms for an employer)."""
    operation = load_operation(operation_id)
    seen_by = _viewer(operation)
    session = _load(operation, session_id, seen_by)
    return _render(PAGE, PAGE, operation, session, seen_by)


@bp.post("/sessions/<int:session_id>/invitations")
@login_required
def invite_to_session(operation_id: int, session_id: int):
    """The organisme porteur invites candidates and employers; they or their prescribers
    are told."""
    operation = load_operation(operation_id)
    seen_by = _viewer(operation)
    require(seen_by.manages)
    session = _load(operation, session_id, seen_by)
    form = InviteForm()
    url = url_for("recruitment.show_session", operation_id=operation.id, session_id=session.id)
    if not form.validate_on_submit():
        return flash_redirect(_("Le formulaire a expiré : rechargez la page."), url, "error")

    def call():
        candidates, employers = sessions.invite(
            session,
            form.trainee_ids.data or [],
            form.employer_ids.data or [],
            by=current_user,
            org=current_org(),
        )
        return candidates, employers

    return act(
        call,
        success=lambda counts: flash_redirect(
            ngettext("%(num)d candidature invitée", "%(num)d candidatures invitées", counts[0])
            + " — "
            + ngettext("%(num)d employeur invité.", "%(num)d employeurs invités.", counts[1]),
            url,
        ),
        failure=lambda refusal: flash_redirect(refusal.message, url, "error"),
    )


@bp.post("/sessions/<int:session_id>/presences")
@login_required
def record_attendance(operation_id: int, session_id: int):
    """The organisme porteur records who came (the sheet of the version it read)."""
    operation = load_operation(operation_id)
    seen_by = _viewer(operation)
    require(seen_by.manages)
    session = _load(operation, session_id, seen_by)
    form = AttendanceForm()
    url = url_for("recruitment.show_session", operation_id=operation.id, session_id=session.id)

    def answer(status=200, **shown):
        return _render(PAGE, CANDIDATES, operation, session, seen_by, status=status, **shown)

    if not form.validate_on_submit():
        return answer(422, error=_("Le formulaire a expiré : rechargez la page."))
    candidates = form.choices(request.form, "candidate", [c.trainee_id for c in session.candidates])
    employers = form.choices(
        request.form, "employer", [e.organisation_id for e in session.employers]
    )
    notice = _("Présences enregistrées.")
    return act(
        lambda: sessions.record_attendance(
            session,
            candidates,
            employers,
            form.version.data,
            by=current_user,
            org=current_org(),
        ),
        success=lambda _result: done(notice, url, lambda: answer(notice=notice)),
        failure=lambda refusal: answer(422, error=refusal.message),
    )


@bp.post("/sessions/<int:session_id>/avis/<int:trainee_id>")
@login_required
def give_opinion(operation_id: int, session_id: int, trainee_id: int):
    """An employer's admin gives (or changes) its opinion of a candidate met at the
    session; the organisme porteur is told."""
    operation = load_operation(operation_id)
    seen_by = _viewer(operation)
    require(seen_by.employer is not None and seen_by.employer_admin)
    session = _load(operation, session_id, seen_by)
    trainee = db.session.get(Trainee, trainee_id)
    shown = {row.trainee_id for row in sessions.shown_candidates(session, seen_by)}
    if trainee is None or trainee.id not in shown:
        abort(404)
    form = _opinion_form(trainee.id, formdata=request.form)
    url = url_for("recruitment.show_session", operation_id=operation.id, session_id=session.id)

    def widget(notice=None, error=None, status=200):
        context = _context(
            operation, session, seen_by, posted={trainee.id: form} if error else None
        )
        response = htmx.render(
            PAGE,
            OPINION,
            status,
            **context,
            trainee=trainee,
            opinion_for=trainee.id,
            opinion_notice=notice,
            opinion_error=error,
        )
        db.session.commit()  # the access log line
        return response

    if not form.validate_on_submit():
        message = next(iter(form.errors.values()))[0]
        return widget(error=message, status=422)
    notice = _("Avis enregistré : l'organisme de formation en est informé.")
    return act(
        lambda: opinions.give_opinion(
            trainee,
            session,
            Verdict(form.verdict.data),
            form.comment.data or "",
            form.version.data or 0,
            by=current_user,
            org=current_org(),
        ),
        success=lambda _result: done(notice, url, lambda: widget(notice=notice)),
        failure=lambda refusal: widget(error=refusal.message, status=422),
    )
