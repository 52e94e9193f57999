"""What a meeting leaves: attendance, the minutes (a design section co-edited with the
design's machinery, approved by the organisme porteur), decisions and action items that
their owners mark done. They flush and never commit.

Every read-then-write takes the meeting's row lock first (``lock``), then, for the
approval, the minutes' section: attendance recorded twice at once, two approvals, a
decision added while the minutes are approved — each sees what the other wrote.
"""

from datetime import date

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import Organisation, OrgKind, User
from portal.core.errors import RuleError
from portal.core.locking import lock
from portal.core.time import utcnow
from portal.design.comments import open_blocking_in
from portal.design.models import Design, DesignSection, SectionKey
from portal.design.services import design_for, is_filled
from portal.design.start import add_prefilled_section
from portal.extensions import db
from portal.notifications.services import notify, organisation_members
from portal.operations.events import log_event
from portal.steering import rules
from portal.steering.models import (
    Presence,
    SteeringAction,
    SteeringAttendance,
    SteeringDecision,
    SteeringMeeting,
)
from portal.steering.services import candidates, recipients


def steers(meeting: SteeringMeeting, org: Organisation) -> bool:
    """The Région and the organisme porteur keep the meeting's record."""
    return org.kind == OrgKind.REGION or meeting.committee.operation.provider_id == org.id


def _steer(meeting: SteeringMeeting, org: Organisation) -> None:
    if not steers(meeting, org):
        raise RuleError(_("La Région et l'organisme porteur tiennent le relevé de la réunion."))


def _recording(meeting: SteeringMeeting, org: Organisation) -> SteeringMeeting:
    """Check who acts, lock the meeting and check it takes records now."""
    _steer(meeting, org)
    if not meeting.committee.operation.is_open:
        raise RuleError(_("L'opération est close ou annulée : son comité ne change plus."))
    meeting = lock(meeting)
    rules.check_recording(meeting)
    return meeting


# --- Attendance -------------------------------------------------------------------------


def record_attendance(
    meeting: SteeringMeeting, presences: dict[int, Presence], *, by: User, org: Organisation
) -> None:
    """Record whether each member (by id) attended; a member left out keeps what was
    recorded for them."""
    meeting = _recording(meeting, org)
    members = {m.id: m for m in meeting.committee.active_members()}
    unknown = set(presences) - set(members)
    if unknown:
        raise RuleError(_("Un membre n'appartient plus au comité : rechargez la page."))
    if not presences:
        raise RuleError(_("Indiquez la présence d'au moins un membre."))
    recorded = {a.member_id: a for a in meeting.attendances}
    now = utcnow()
    for member_id, presence in presences.items():
        row = recorded.get(member_id)
        if row is None:
            db.session.add(
                SteeringAttendance(
                    meeting_id=meeting.id,
                    member_id=member_id,
                    presence=presence,
                    recorded_at=now,
                    recorded_by_id=by.id,
                )
            )
        else:
            row.presence, row.recorded_at, row.recorded_by_id = presence, now, by.id
    db.session.flush()
    present = sum(1 for p in presences.values() if p == Presence.PRESENT)
    log_event(
        meeting.committee.operation,
        "steering_attendance_recorded",
        by=by,
        org=org,
        title=meeting.title,
        present=present,
    )


# --- Minutes ----------------------------------------------------------------------------


def minutes_section(meeting: SteeringMeeting) -> DesignSection | None:
    return db.session.scalar(select(DesignSection).where(DesignSection.meeting_id == meeting.id))


def open_minutes(meeting: SteeringMeeting, *, by: User, org: Organisation) -> DesignSection:
    """Start the minutes of a meeting that began, prefilled with its agenda."""
    meeting = _recording(meeting, org)
    existing = minutes_section(meeting)
    if existing is not None:
        return existing
    operation = meeting.committee.operation
    design = design_for(operation)
    if design is None:  # the minutes may come before the co-design, or without one
        design = Design(operation=operation)
        db.session.add(design)
        db.session.flush()
    lines = [_("Ordre du jour :"), meeting.agenda, "", _("Échanges :"), ""]
    section = add_prefilled_section(
        design,
        SectionKey.MINUTES,
        {"text": "\n".join(lines) if meeting.agenda else ""},
        by=by,
        org=org,
        meeting_id=meeting.id,
    )
    db.session.flush()
    log_event(operation, "steering_minutes_opened", by=by, org=org, title=meeting.title)
    return section


def approval_problems(meeting: SteeringMeeting, section: DesignSection | None) -> list[str]:
    """What approving the minutes waits for (French)."""
    problems = []
    if not meeting.attendances:
        problems.append(_("La présence des membres n'est pas relevée."))
    if section is None or not is_filled(section):
        problems.append(_("Le compte rendu n'est pas rédigé."))
    elif open_blocking_in(section):
        problems.append(_("Un commentaire bloquant du compte rendu n'est pas résolu."))
    return problems


def approve_minutes(
    meeting: SteeringMeeting, seen_version: int, *, by: User, org: Organisation
) -> None:
    """The organisme porteur approves the minutes as it read them (``seen_version``); they,
    the attendance, decisions and action items are then final. Members are told."""
    operation = meeting.committee.operation
    if operation.provider_id != org.id:
        raise RuleError(_("Seul l'organisme porteur approuve le compte rendu."))
    meeting = _recording(meeting, org)
    section = minutes_section(meeting)
    if section is not None:
        section = lock(section)
    problems = approval_problems(meeting, section)
    if problems:
        raise RuleError(" ".join(problems))
    if section.version != seen_version:
        raise RuleError(
            _("Le compte rendu a changé depuis que vous l'avez lu : relisez-le avant d'approuver.")
        )
    meeting.minutes_approved_at, meeting.minutes_approved_by_id = utcnow(), by.id
    db.session.flush()
    log_event(operation, "steering_minutes_approved", by=by, org=org, title=meeting.title)
    notify(
        recipients(meeting.committee),
        kind="steering_minutes_approved",
        message=_(
            "Le compte rendu du comité de pilotage « %(t)s » (opération « %(o)s ») est "
            "approuvé par l'organisme porteur.",
            t=meeting.title,
            o=operation.title,
        ),
        endpoint="steering.show_meeting",
        operation=operation,
        operation_id=operation.id,
        meeting_id=meeting.id,
    )


# --- Decisions and action items ---------------------------------------------------------


def add_decision(meeting: SteeringMeeting, text: str, *, by: User, org: Organisation):
    """A decision the committee took."""
    text = rules.cleaned(text, "text", _("Rédigez la décision."))
    meeting = _recording(meeting, org)
    decision = SteeringDecision(meeting=meeting, text=text, created_by_id=by.id)
    db.session.add(decision)
    db.session.flush()
    log_event(meeting.committee.operation, "steering_decision_added", by=by, org=org)
    return decision


def remove_decision(decision: SteeringDecision, *, by: User, org: Organisation) -> None:
    """Take back a decision recorded by mistake, before the minutes are approved."""
    meeting = _recording(decision.meeting, org)
    db.session.delete(decision)
    db.session.flush()
    log_event(meeting.committee.operation, "steering_decision_removed", by=by, org=org)


def add_action(meeting: SteeringMeeting, data: dict, *, by: User, org: Organisation):
    """An action item (``data``: title, owner_org_id, owner_user_id or None, due_on); its
    owner is told, and finds it in their « À faire »."""
    title = rules.cleaned(data.get("title"), "title", _("Décrivez l'action."), 300)
    people = {o.id: (o, users) for o, users in candidates(meeting.committee.operation)}
    if data.get("owner_org_id") not in people:
        raise RuleError(_("Choisissez une organisation qui participe à l'opération."), "owner")
    owner_org, users = people[data["owner_org_id"]]
    owner_user = next((u for u in users if u.id == data.get("owner_user_id")), None)
    if data.get("owner_user_id") is not None and owner_user is None:
        raise RuleError(_("Cette personne n'est pas membre de l'organisation choisie."), "owner")
    rules.check_due_on(data["due_on"], meeting)
    meeting = _recording(meeting, org)
    action = SteeringAction(
        meeting=meeting,
        title=title,
        owner_org=owner_org,
        owner_user=owner_user,
        due_on=data["due_on"],
        created_by_id=by.id,
    )
    db.session.add(action)
    db.session.flush()
    operation = meeting.committee.operation
    log_event(operation, "steering_action_added", by=by, org=org, owner=action.owner_label)
    notify(
        [owner_user] if owner_user else organisation_members(owner_org.id),
        kind="steering_action",
        message=_(
            "Action confiée par le comité de pilotage de l'opération « %(o)s » : « %(t)s », "
            "échéance le %(d)s.",
            o=operation.title,
            t=title,
            d=format_date(action.due_on, "d MMMM y"),
        ),
        endpoint="steering.show_meeting",
        operation=operation,
        email_subject=_("Action du comité de pilotage — %(o)s", o=operation.title),
        operation_id=operation.id,
        meeting_id=meeting.id,
    )
    return action


def remove_action(action: SteeringAction, *, by: User, org: Organisation) -> None:
    """Take back an action item recorded by mistake, before the minutes are approved."""
    meeting = _recording(action.meeting, org)
    if action.is_done:
        raise RuleError(_("Une action faite ne se retire pas."))
    db.session.delete(action)
    db.session.flush()
    log_event(meeting.committee.operation, "steering_action_removed", by=by, org=org)


def may_mark_done(action: SteeringAction, org: Organisation) -> bool:
    """The owner organisation marks its action done; the Région and the organisme porteur
    may too (they keep the record)."""
    return org.id == action.owner_org_id or steers(action.meeting, org)


def mark_action_done(action: SteeringAction, *, by: User, org: Organisation) -> None:
    """The action item is done (once)."""
    if not may_mark_done(action, org):
        raise RuleError(_("Seul le ou la responsable de l'action la déclare faite."))
    operation = action.meeting.committee.operation
    if not operation.is_open:
        raise RuleError(_("L'opération est close ou annulée : son comité ne change plus."))
    action = lock(action)
    if action.is_done:
        raise RuleError(
            _(
                "Cette action est déjà faite (par %(who)s le %(d)s).",
                who=action.done_by.full_name if action.done_by else "?",
                d=format_date(action.done_at, "d MMMM y"),
            )
        )
    if action.meeting.is_cancelled:
        raise RuleError(_("Cette réunion est annulée."))
    action.done_at, action.done_by_id = utcnow(), by.id
    db.session.flush()
    log_event(operation, "steering_action_done", by=by, org=org, title=action.title)


def due_label(due_on: date) -> str:
    return format_date(due_on, "d MMMM y")
