"""What the committee's pages and widgets render: contexts shared by the steering routes
and the design routes (a meeting's minutes are a design section shown on the meeting page,
``minutes_page``)."""

from flask import abort, render_template

from portal.accounts.access import current_org
from portal.accounts.forms import EmptyForm
from portal.core.time import utcnow
from portal.design import context as design_context
from portal.design import queries as design_queries
from portal.design.models import DesignSection
from portal.operations.access import can_steer, is_carrier, is_region
from portal.operations.models import Operation
from portal.steering import minutes, queries, rules, services
from portal.steering.forms import (
    ActionForm,
    ApproveMinutesForm,
    CancelMeetingForm,
    DecisionForm,
    MemberForm,
    attendance_form,
    person_choices,
)
from portal.steering.models import SteeringMeeting

MEETING_PAGE = "steering/meeting.html"


def meeting_or_404(operation: Operation, meeting_id: int) -> SteeringMeeting:
    meeting = queries.load_meeting(operation, meeting_id)
    if meeting is None:
        abort(404)
    return meeting


def member_form(operation: Operation, formdata=None) -> MemberForm:
    form = MemberForm(formdata=formdata)
    form.member.choices = person_choices(services.candidates(operation))
    return form


def action_form(operation: Operation, formdata=None) -> ActionForm:
    form = ActionForm(formdata=formdata)
    form.owner.choices = person_choices(services.candidates(operation))
    return form


def committee_context(operation: Operation, **shown) -> dict:
    """The committee page: its members and meetings, the Région's forms."""
    committee = queries.load_committee(operation)
    region = is_region() and operation.is_open
    now = utcnow()
    meetings = committee.meetings if committee else []
    members = committee.active_members() if committee else []
    return {
        "operation": operation,
        "committee": committee,
        "members": members,
        "upcoming": [m for m in meetings if not m.has_started(now) and not m.is_cancelled],
        "past": [m for m in reversed(meetings) if m.has_started(now) or m.is_cancelled],
        "region": region,
        "may_convene": region and bool(members),
        "member_form": shown.pop("member_form", None)
        or (member_form(operation) if region else None),
        "button_form": EmptyForm(formdata=None),
        "notice": shown.pop("notice", None),
        "error": shown.pop("error", None),
    }


def meeting_flags(operation: Operation, meeting: SteeringMeeting) -> dict:
    """Who may do what with the meeting now."""
    now = utcnow()
    started = meeting.has_started(now)
    live = operation.is_open and not meeting.is_cancelled
    steer = can_steer(operation)
    return {
        "started": started,
        "region": is_region(),
        "carrier": is_carrier(operation),
        "may_change": is_region() and live and not started,
        "may_record": steer and live and started and not meeting.minutes_approved,
    }


def attendance_context(operation: Operation, meeting: SteeringMeeting, **shown) -> dict:
    """The attendance widget: each member's presence, and the form while it may change."""
    flags = meeting_flags(operation, meeting)
    members = meeting.committee.active_members()
    recorded = {a.member_id: a for a in meeting.attendances}
    form = shown.pop("attendance_form", None)
    if form is None and flags["may_record"]:
        data = {f"presence-{m}": a.presence.value for m, a in recorded.items()}
        form = attendance_form(members, formdata=None, data=data)
    listed = {m.id for m in members}
    former = [a.member for a in meeting.attendances if a.member_id not in listed]
    return {
        "operation": operation,
        "meeting": meeting,
        **flags,
        "members": members + former,
        "recorded": recorded,
        "attendance_form": form,
        "attendance_notice": shown.pop("notice", None),
        "attendance_error": shown.pop("error", None),
    }


def outcomes_context(operation: Operation, meeting: SteeringMeeting, **shown) -> dict:
    """The decisions and action items widget, with the forms of who keeps the record."""
    flags = meeting_flags(operation, meeting)
    org = current_org()
    record = flags["may_record"]
    return {
        "operation": operation,
        "meeting": meeting,
        **flags,
        "decision_form": shown.pop("decision_form", None)
        or (DecisionForm(formdata=None) if record else None),
        "action_form": shown.pop("action_form", None)
        or (action_form(operation) if record else None),
        "button_form": EmptyForm(formdata=None),
        "may_mark": {a.id: minutes.may_mark_done(a, org) for a in meeting.actions},
        "action_state": rules.action_state,
        "outcomes_notice": shown.pop("notice", None),
        "outcomes_error": shown.pop("error", None),
    }


def meeting_context(
    operation: Operation,
    meeting: SteeringMeeting,
    *,
    focus: DesignSection | None = None,
    forms: dict | None = None,
    **overrides,
) -> dict:
    """The whole meeting page; the minutes (``focus``) get ``overrides`` (the design
    widget's mode, form, errors); ``forms`` fill the other widgets."""
    forms = forms or {}
    section = minutes.minutes_section(meeting)
    context = {
        **attendance_context(operation, meeting, **forms.get("attendance", {})),
        **outcomes_context(operation, meeting, **forms.get("outcomes", {})),
        "sections": [],
        "minutes": section,
        "approval_problems": minutes.approval_problems(meeting, section),
        "approve_form": ApproveMinutesForm(
            formdata=None, data={"version": section.version if section else 0}
        ),
        "cancel_form": forms.get("cancel_form") or CancelMeetingForm(formdata=None),
    }
    if section is not None:
        design = design_queries.load_design(operation.id)
        shared, parts = design_context.part_contexts(
            design, [section], focus if focus is not None else None, overrides
        )
        context = {**shared, **context, "sections": parts}
    # The design's shared context names the operation's design; the page is the meeting's.
    context["operation"] = operation
    return context


def minutes_page(operation: Operation, section: DesignSection, *, status: int = 200, **overrides):
    """The meeting page with its minutes in the given state (the design routes' answer to
    a plain request on the minutes: their form, their errors, their conflict)."""
    meeting = meeting_or_404(operation, section.meeting_id)
    context = meeting_context(operation, meeting, focus=section, **overrides)
    return render_template(MEETING_PAGE, **context), status
