"""Business verbs of the steering committee: its members, and its meetings — convened,
changed or cancelled, each time with an iCalendar invitation to every member (same UID,
a higher SEQUENCE). The Région pilots: its referent or admins compose and convene the
committee. They flush and never commit. Attendance, minutes, decisions and action items
are in ``minutes.py``."""

import uuid

from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.accounts.models import Membership, Organisation, OrgKind, User
from portal.core.errors import RuleError
from portal.core.locking import lock
from portal.core.time import utcnow
from portal.extensions import db
from portal.notifications.services import notify, organisation_members
from portal.operations.events import log_event, region_organisation
from portal.operations.models import Operation
from portal.steering import calendar, rules
from portal.steering.models import MeetingStatus, SteeringCommittee, SteeringMeeting, SteeringMember

MEETING_FIELDS = ("title", "starts_at", "ends_at", "place", "video_url", "agenda")


def committee_for(operation: Operation) -> SteeringCommittee | None:
    return db.session.scalar(
        select(SteeringCommittee).where(SteeringCommittee.operation_id == operation.id)
    )


def _region(org: Organisation) -> None:
    if org.kind != OrgKind.REGION:
        raise RuleError(_("La Région pilote le comité : elle le compose et le convoque."))


def _open(operation: Operation) -> None:
    if not operation.is_open:
        raise RuleError(_("L'opération est close ou annulée : son comité ne change plus."))


def candidates(operation: Operation) -> list[tuple[Organisation, list[User]]]:
    """Who may sit on the committee: the Région and the operation's active participants,
    each with its active members (two queries)."""
    org_ids = {p.organisation_id for p in operation.active_participants()}
    org_ids.add(region_organisation().id)
    rows = db.session.execute(
        select(Membership)
        .where(Membership.organisation_id.in_(org_ids), Membership.active.is_(True))
        .options(selectinload(Membership.user), selectinload(Membership.organisation))
    ).scalars()
    people: dict[int, list[User]] = {org_id: [] for org_id in org_ids}
    for membership in rows:
        if membership.user.is_enabled:
            people[membership.organisation_id].append(membership.user)
    organisations = db.session.scalars(
        select(Organisation).where(Organisation.id.in_(org_ids))
    ).all()
    ordered = sorted(organisations, key=lambda o: (o.kind != OrgKind.REGION, o.name))
    return [(o, sorted(people[o.id], key=lambda u: (u.last_name, u.first_name))) for o in ordered]


def ensure_committee(operation: Operation, *, by: User, org: Organisation) -> SteeringCommittee:
    """The operation's committee, constituted by the Région on first use."""
    committee = committee_for(operation)
    if committee is None:
        committee = SteeringCommittee(operation_id=operation.id, created_by_id=by.id)
        db.session.add(committee)
        db.session.flush()
        log_event(operation, "steering_committee_created", by=by, org=org)
    return committee


def add_member(
    operation: Operation, organisation_id: int, user_id: int | None, *, by: User, org: Organisation
) -> SteeringMember:
    """The Région names an organisation, or a person of it, to the committee; a newcomer is
    convened to the meetings to come."""
    _region(org)
    _open(operation)
    people = {o.id: (o, users) for o, users in candidates(operation)}
    if organisation_id not in people:
        raise RuleError(_("Choisissez une organisation qui participe à l'opération."), "member")
    organisation, users = people[organisation_id]
    user = next((u for u in users if u.id == user_id), None)
    if user_id is not None and user is None:
        raise RuleError(_("Cette personne n'est pas membre de l'organisation choisie."), "member")
    committee = ensure_committee(operation, by=by, org=org)
    for member in committee.active_members():
        if member.organisation_id == organisation_id and member.user_id == user_id:
            raise RuleError(_("Déjà membre du comité."), "member")
    member = SteeringMember(
        committee=committee, organisation=organisation, user=user, added_by_id=by.id
    )
    db.session.add(member)
    db.session.flush()
    log_event(operation, "steering_member_added", by=by, org=org, member=member.label)
    now = utcnow()
    for meeting in committee.meetings:
        if not meeting.is_cancelled and not meeting.has_started(now):
            _convene(meeting, "convened", people=member_people(member))
    return member


def remove_member(member: SteeringMember, *, by: User, org: Organisation) -> None:
    """The Région takes a member off the committee (its attendance records are kept)."""
    _region(org)
    operation = member.committee.operation
    _open(operation)
    member = lock(member)
    if member.removed_at is not None:
        raise RuleError(_("Ce membre a déjà quitté le comité."))
    member.removed_at = utcnow()
    db.session.flush()
    log_event(operation, "steering_member_removed", by=by, org=org, member=member.label)


def member_people(member: SteeringMember) -> list[User]:
    """Who receives a member's convocations: the named person, else the organisation's
    admins (all its members when it has no admin)."""
    if member.user is not None:
        return [member.user]
    return organisation_members(member.organisation_id, admins_only=True) or (
        organisation_members(member.organisation_id)
    )


def recipients(committee: SteeringCommittee) -> list[User]:
    """Everyone convened to the committee's meetings, once each."""
    people: dict[int, User] = {}
    for member in committee.active_members():
        for user in member_people(member):
            if user.is_enabled:
                people.setdefault(user.id, user)
    return list(people.values())


# --- Meetings ---------------------------------------------------------------------------


def _when(meeting: SteeringMeeting) -> str:
    return format_datetime(meeting.starts_at, _("EEEE d MMMM y 'à' HH:mm"))


SUBJECTS = {
    "convened": _l("Convocation — %(t)s"),
    "updated": _l("Convocation modifiée — %(t)s"),
    "cancelled": _l("Réunion annulée — %(t)s"),
}
MESSAGES = {
    "convened": _l(
        "Vous êtes convoqué·e au comité de pilotage « %(t)s » de l'opération « %(o)s », "
        "le %(w)s (%(where)s). L'invitation est jointe au courriel."
    ),
    "updated": _l(
        "Le comité de pilotage « %(t)s » de l'opération « %(o)s » change : il aura lieu "
        "le %(w)s (%(where)s). L'invitation mise à jour est jointe au courriel."
    ),
    "cancelled": _l(
        "Le comité de pilotage « %(t)s » de l'opération « %(o)s », prévu le %(w)s, est "
        "annulé : %(r)s"
    ),
}


def _convene(meeting: SteeringMeeting, kind: str, *, people: list[User] | None = None) -> None:
    """Tell ``people`` (every member by default) in the portal and by e-mail, the meeting's
    invitation attached: REQUEST, or CANCEL once cancelled."""
    people = recipients(meeting.committee) if people is None else people
    if not people:
        return
    method = "CANCEL" if meeting.is_cancelled else "REQUEST"
    invitation = calendar.meeting_calendar(
        meeting, method=method, attendees=recipients(meeting.committee)
    )
    values = {
        "t": meeting.title,
        "o": meeting.committee.operation.title,
        "w": _when(meeting),
        "where": meeting.place or _("en visioconférence"),
        "r": meeting.cancel_reason,
    }
    notify(
        people,
        kind=f"steering_{kind}",
        message=str(MESSAGES[kind]) % values,
        endpoint="steering.show_meeting",
        operation=meeting.committee.operation,
        email_subject=str(SUBJECTS[kind]) % values,
        attachments=[
            (
                calendar.filename(meeting),
                f"{calendar.MIMETYPE}; method={method}; charset=UTF-8",
                invitation,
            )
        ],
        operation_id=meeting.committee.operation_id,
        meeting_id=meeting.id,
    )


def _check(data: dict, now=None) -> dict:
    data = {**data}
    data["title"] = rules.cleaned(
        data.get("title"), "title", _("Donnez un titre à la réunion."), rules.TITLE_MAX
    )
    data["place"] = (data.get("place") or "").strip()
    data["video_url"] = (data.get("video_url") or "").strip()
    data["agenda"] = (data.get("agenda") or "").strip()
    rules.check_where(data["place"], data["video_url"])
    rules.check_schedule(data["starts_at"], data["ends_at"], now=now)
    return data


def schedule_meeting(
    operation: Operation, data: dict, *, by: User, org: Organisation, now=None
) -> SteeringMeeting:
    """The Région convenes a meeting (``data``: title, starts_at and ends_at in naive UTC,
    place, video_url, agenda); every member gets the invitation. ``now``: when it is
    convened (the demo convenes, in the past, a meeting already held)."""
    _region(org)
    _open(operation)
    now = now or utcnow()
    data = _check(data, now)
    committee = committee_for(operation)
    if committee is None or not committee.active_members():
        raise RuleError(_("Composez le comité avant de le convoquer."))
    meeting = SteeringMeeting(
        committee=committee,
        uid=f"{uuid.uuid4()}@portail-defi",
        sequence=0,
        created_by_id=by.id,
        created_at=now,
        updated_at=now,
        status=MeetingStatus.PLANNED,
        **{name: data[name] for name in MEETING_FIELDS},
    )
    db.session.add(meeting)
    db.session.flush()
    log_event(operation, "steering_meeting_convened", by=by, org=org, title=meeting.title)
    _convene(meeting, "convened")
    return meeting


def update_meeting(meeting: SteeringMeeting, data: dict, *, by: User, org: Organisation) -> None:
    """The Région changes a meeting before it begins: the members get the invitation again,
    same UID, next SEQUENCE."""
    _region(org)
    operation = meeting.committee.operation
    _open(operation)
    data = _check(data)
    meeting = lock(meeting)
    rules.check_changeable(meeting)
    if all(getattr(meeting, name) == data[name] for name in MEETING_FIELDS):
        raise RuleError(_("Rien n'a changé : la convocation n'est pas renvoyée."))
    for name in MEETING_FIELDS:
        setattr(meeting, name, data[name])
    meeting.sequence += 1
    meeting.updated_at = utcnow()
    db.session.flush()
    log_event(operation, "steering_meeting_updated", by=by, org=org, title=meeting.title)
    _convene(meeting, "updated")


def cancel_meeting(meeting: SteeringMeeting, reason: str, *, by: User, org: Organisation) -> None:
    """The Région cancels a meeting before it begins, with a reason: the members' calendars
    get a CANCEL of the same UID, next SEQUENCE."""
    _region(org)
    operation = meeting.committee.operation
    _open(operation)
    reason = rules.cleaned(reason, "reason", _("Indiquez le motif de l'annulation."))
    meeting = lock(meeting)
    rules.check_changeable(meeting)
    now = utcnow()
    meeting.status = MeetingStatus.CANCELLED
    meeting.cancelled_at = meeting.updated_at = now
    meeting.cancel_reason = reason
    meeting.sequence += 1
    db.session.flush()
    log_event(operation, "steering_meeting_cancelled", by=by, org=org, title=meeting.title)
    _convene(meeting, "cancelled")
