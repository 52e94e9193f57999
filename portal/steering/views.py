"""Routes of the steering committee page: members named and removed by the Région, the
meetings it convenes, changes and cancels (each time the members get the invitation
again), and a meeting's invitation as an ``.ics`` file.

The operation's participants read; the Région acts; other organisations get 404. The
members widget (``#steering-members``) answers htmx; plain forms redirect (303).
"""

from io import BytesIO

from flask import abort, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import to_user_timezone, to_utc
from flask_login import current_user, login_required

from portal import htmx
from portal.accounts.access import current_org, require
from portal.core.actions import act, done, field_error, flash_redirect, form_page
from portal.core.time import utcnow
from portal.design.comment_context import comment_helpers
from portal.extensions import db
from portal.operations.access import is_region, load_operation
from portal.steering import bp, calendar, queries, rules, services
from portal.steering.context import committee_context, meeting_or_404, member_form
from portal.steering.forms import CancelMeetingForm, MeetingForm, parse_person
from portal.steering.models import SteeringMember

COMMITTEE_PAGE = "steering/committee.html"
MEMBERS = "steering/_members.html"
FORM_PAGE = "steering/meeting_form.html"

# The minutes on the meeting page render the design's comment blocks.
bp.context_processor(comment_helpers)


def _committee_url(operation_id: int) -> str:
    return url_for("steering.show_committee", operation_id=operation_id)


def _members(operation, status: int = 200, /, **shown):
    return htmx.render(COMMITTEE_PAGE, MEMBERS, status, **committee_context(operation, **shown))


@bp.get("")
@login_required
def show_committee(operation_id: int):
    """The committee: its members and meetings (htmx: the members widget)."""
    return _members(load_operation(operation_id))


@bp.post("/membres")
@login_required
def add_member(operation_id: int):
    """The Région names an organisation or one of its people to the committee."""
    operation = load_operation(operation_id)
    require(is_region())
    form = member_form(operation, request.form)
    if not form.validate_on_submit():
        return _members(operation, 422, member_form=form)
    organisation_id, user_id = parse_person(form.member.data)
    notice = _("Membre ajouté au comité.")

    def refused(refusal):
        return _members(operation, 422, member_form=form, error=field_error(form, refusal))

    return act(
        lambda: services.add_member(
            operation, organisation_id, user_id, by=current_user, org=current_org()
        ),
        success=lambda _member: done(
            notice,
            _committee_url(operation_id),
            lambda: _members(operation, notice=notice),
        ),
        failure=refused,
    )


@bp.post("/membres/<int:member_id>/retrait")
@login_required
def remove_member(operation_id: int, member_id: int):
    """The Région takes a member off the committee."""
    operation = load_operation(operation_id)
    require(is_region())
    member = db.session.get(SteeringMember, member_id)
    if member is None or member.committee.operation_id != operation.id:
        abort(404)
    notice = _("Membre retiré du comité.")
    return act(
        lambda: services.remove_member(member, by=current_user, org=current_org()),
        success=lambda _result: done(
            notice, _committee_url(operation_id), lambda: _members(operation, notice=notice)
        ),
        failure=lambda refusal: _members(operation, 422, error=refusal.message),
    )


# --- Meetings ---------------------------------------------------------------------------


def _data(form: MeetingForm) -> dict:
    """The meeting as the services take it: Paris times typed, UTC stored."""
    starts = form.starts_at.data
    ends = starts.replace(hour=form.ends_at.data.hour, minute=form.ends_at.data.minute)
    return {
        "title": form.title.data,
        "starts_at": to_utc(starts),
        "ends_at": to_utc(ends),
        "place": form.place.data or "",
        "video_url": form.video_url.data or "",
        "agenda": form.agenda.data or "",
    }


def _meeting_form_page(operation, form, meeting=None):
    def page(error: str | None = None):
        return form_page(FORM_PAGE, operation=operation, form=form, meeting=meeting, error=error)

    return page


def _meeting_url(operation_id: int, meeting_id: int) -> str:
    return url_for("steering.show_meeting", operation_id=operation_id, meeting_id=meeting_id)


@bp.route("/reunions/nouvelle", methods=["GET", "POST"])
@login_required
def create_meeting(operation_id: int):
    """The Région convenes a meeting: every member gets a notification and an e-mail with
    the invitation (.ics)."""
    operation = load_operation(operation_id)
    require(is_region())
    form = MeetingForm()
    page = _meeting_form_page(operation, form)
    if not form.validate_on_submit():
        return page()
    return act(
        lambda: (
            services.schedule_meeting(operation, _data(form), by=current_user, org=current_org()).id
        ),
        success=lambda meeting_id: flash_redirect(
            _("Réunion convoquée : les membres reçoivent l'invitation."),
            _meeting_url(operation_id, meeting_id),
        ),
        failure=lambda refusal: page(field_error(form, refusal)),
    )


@bp.route("/reunions/<int:meeting_id>/modification", methods=["GET", "POST"])
@login_required
def edit_meeting(operation_id: int, meeting_id: int):
    """The Région changes the meeting before it begins: the invitation is sent again (same
    UID, higher SEQUENCE). A meeting that began no longer changes: back to its page."""
    operation = load_operation(operation_id)
    require(is_region())
    meeting = meeting_or_404(operation, meeting_id)
    url = _meeting_url(operation_id, meeting_id)
    if meeting.is_cancelled or meeting.has_started():
        flash(_("Cette réunion a commencé ou est annulée : elle ne se modifie plus."), "error")
        return redirect(url, 303)
    if request.method == "GET":
        starts = to_user_timezone(meeting.starts_at).replace(tzinfo=None)
        ends = to_user_timezone(meeting.ends_at).replace(tzinfo=None)
        form = MeetingForm(
            formdata=None,
            obj=meeting,
            data={"starts_at": starts, "ends_at": ends.time()},
        )
    else:
        form = MeetingForm()
    page = _meeting_form_page(operation, form, meeting)
    if not form.validate_on_submit():
        return page()
    return act(
        lambda: services.update_meeting(meeting, _data(form), by=current_user, org=current_org()),
        success=lambda _result: flash_redirect(
            _("Réunion modifiée : les membres reçoivent l'invitation mise à jour."), url
        ),
        failure=lambda refusal: page(field_error(form, refusal)),
    )


@bp.post("/reunions/<int:meeting_id>/annulation")
@login_required
def cancel_meeting(operation_id: int, meeting_id: int):
    """The Région cancels the meeting with a reason; the calendars get a CANCEL."""
    operation = load_operation(operation_id)
    require(is_region())
    meeting = meeting_or_404(operation, meeting_id)
    form = CancelMeetingForm()
    url = _meeting_url(operation_id, meeting_id)
    if not form.validate_on_submit():
        return flash_redirect(_("Indiquez le motif de l'annulation."), url, "error")
    return act(
        lambda: services.cancel_meeting(
            meeting, form.reason.data, by=current_user, org=current_org()
        ),
        success=lambda _result: flash_redirect(
            _("Réunion annulée : les membres en sont prévenus."), url
        ),
        failure=lambda refusal: flash_redirect(refusal.message, url, "error"),
    )


@bp.get("/reunions/<int:meeting_id>/invitation.ics")
@login_required
def download_invitation(operation_id: int, meeting_id: int):
    """The meeting for one's calendar (a GET that writes nothing)."""
    operation = load_operation(operation_id)
    meeting = meeting_or_404(operation, meeting_id)
    data = calendar.meeting_calendar(meeting, method="PUBLISH")
    return send_file(
        BytesIO(data),
        mimetype=f"{calendar.MIMETYPE}; charset=utf-8",
        as_attachment=True,
        download_name=calendar.filename(meeting),
    )


# --- Cards of other pages ---------------------------------------------------------------


@bp.app_template_global()
def steering_card(operation) -> dict:
    """What the operation page says of its committee: members, next meeting, last one."""
    found = queries.card(operation, current_org())
    meetings, now = found.meetings, utcnow()
    return {
        "members": found.members,
        "next": next((m for m in meetings if not m.has_started(now)), None),
        "last": next((m for m in reversed(meetings) if m.has_started(now)), None),
    }


@bp.app_template_global()
def steering_home() -> dict | None:
    """The home card: the current organisation's action items and its next meetings."""
    found = queries.home(current_org())
    if not (found["actions"] or found["meetings"]):
        return None
    return {**found, "state": rules.action_state}
