"""Read-side queries of the steering committee: its page, a meeting's page, the action
items and minutes waiting for someone (the operation's « À faire » and the home card) —
each in a fixed number of queries."""

from dataclasses import dataclass

from flask import url_for
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, select, true
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from portal.accounts.models import Organisation, OrgKind
from portal.core.memo import remember
from portal.core.time import utcnow
from portal.design.models import DesignSection
from portal.extensions import db
from portal.operations.access import visible_operations
from portal.operations.models import Operation, Status
from portal.steering import rules
from portal.steering.minutes import due_label
from portal.steering.models import (
    MeetingStatus,
    SteeringAction,
    SteeringAttendance,
    SteeringCommittee,
    SteeringMeeting,
    SteeringMember,
)


def load_committee(operation: Operation) -> SteeringCommittee | None:
    """The committee with its members (their organisations and people) and meetings."""
    members = selectinload(SteeringCommittee.members).options(
        joinedload(SteeringMember.organisation), joinedload(SteeringMember.user)
    )
    return db.session.scalar(
        select(SteeringCommittee)
        .where(SteeringCommittee.operation_id == operation.id)
        .options(members, selectinload(SteeringCommittee.meetings))
    )


@dataclass
class Card:
    """The committee as the operation page shows it to an organisation (``card``)."""

    members: int  # active members
    meetings: list[SteeringMeeting]  # not cancelled, by start
    actions: list[SteeringAction]  # the organisation's open action items, by due date


def card(operation: Operation, org: Organisation) -> Card:
    """What the operation page's card shows of the committee and what its « À faire »
    asks ``org``, in one statement: the active members (counted), the meetings not
    cancelled, and ``org``'s action items still open (of a planned meeting, the operation
    still running). Read once per request (the card and « À faire »)."""
    return remember(("steering.card", operation.id, org.id), lambda: _card(operation, org))


def _card(operation: Operation, org: Organisation) -> Card:
    members = (
        select(func.count(SteeringMember.id))
        .where(
            SteeringMember.committee_id == SteeringCommittee.id,
            SteeringMember.removed_at.is_(None),
        )
        .scalar_subquery()
    )
    # ``_open_actions``'s rule; the owner and the operation's status are checked below, so
    # that the join follows the meeting's index (the owner's grows with the operations).
    open_actions = and_(
        SteeringAction.meeting_id == SteeringMeeting.id,
        SteeringAction.done_at.is_(None),
        SteeringMeeting.status == MeetingStatus.PLANNED,
    )
    rows = db.session.execute(  # from the committee: its indexes, whatever the data
        select(members, SteeringMeeting, SteeringAction)
        .select_from(SteeringCommittee)
        .outerjoin(
            SteeringMeeting,
            and_(
                SteeringMeeting.committee_id == SteeringCommittee.id,
                SteeringMeeting.status != MeetingStatus.CANCELLED,
            ),
        )
        .outerjoin(SteeringAction, open_actions)
        .where(SteeringCommittee.operation_id == operation.id)
        .order_by(SteeringMeeting.starts_at, SteeringMeeting.id)
    ).all()
    if not rows:  # no committee yet
        return Card(0, [], [])
    meetings = list(dict.fromkeys(meeting for _n, meeting, _a in rows if meeting is not None))
    actions = [a for _n, _m, a in rows if a is not None and a.owner_org_id == org.id]
    if operation.status in (Status.CLOSED, Status.CANCELLED):
        actions = []
    actions.sort(key=lambda action: (action.due_on, action.id))
    return Card(rows[0][0], meetings, actions)


def meeting_loads() -> tuple:
    """The eager loads of what a meeting's page and its minutes' document show."""
    members = selectinload(SteeringMeeting.committee).selectinload(SteeringCommittee.members)
    attended = selectinload(SteeringMeeting.attendances).selectinload(SteeringAttendance.member)
    return (
        selectinload(SteeringMeeting.committee).selectinload(SteeringCommittee.operation),
        members.selectinload(SteeringMember.organisation),
        members.selectinload(SteeringMember.user),
        attended.selectinload(SteeringMember.organisation),
        attended.selectinload(SteeringMember.user),
        selectinload(SteeringMeeting.decisions),
        selectinload(SteeringMeeting.actions).selectinload(SteeringAction.owner_org),
        selectinload(SteeringMeeting.actions).selectinload(SteeringAction.owner_user),
        selectinload(SteeringMeeting.actions).selectinload(SteeringAction.done_by),
        selectinload(SteeringMeeting.minutes_approved_by),
    )


def load_meeting(operation: Operation, meeting_id: int) -> SteeringMeeting | None:
    """A meeting of the operation's committee, with what its page shows."""
    return db.session.scalar(
        select(SteeringMeeting)
        .join(SteeringCommittee, SteeringCommittee.id == SteeringMeeting.committee_id)
        .where(SteeringMeeting.id == meeting_id, SteeringCommittee.operation_id == operation.id)
        .options(*meeting_loads())
    )


# An action item still to do: not done, decided at a meeting that was not cancelled.
_OPEN_ACTION = (SteeringAction.done_at.is_(None), SteeringMeeting.status == MeetingStatus.PLANNED)


def _open_actions():
    return (
        select(SteeringAction)
        .join(SteeringMeeting, SteeringMeeting.id == SteeringAction.meeting_id)
        .join(SteeringCommittee, SteeringCommittee.id == SteeringMeeting.committee_id)
        .join(Operation, Operation.id == SteeringCommittee.operation_id)
        .where(
            *_OPEN_ACTION,
            Operation.status.not_in((Status.CLOSED, Status.CANCELLED)),
        )
    )


def _visible(query):
    """Only operations the current user may open (a withdrawn participant may not);
    ``query`` joins ``Operation``. The rule applies to the joined row itself: as
    ``Operation.id IN (SELECT … FROM operations WHERE …)`` SQLite took 1.5 s at 10,000
    operations to order the home card's meetings, 6 ms this way (issue #16)."""
    return visible_operations(query)


def actions_owned_by(
    org: Organisation,
    *,
    operation: Operation | None = None,
    visible: bool = False,
    among: list[int] | None = None,
    limit: int | None = None,
) -> list:
    """The open action items of ``org`` (on ``operation``, on the operations of ids
    ``among``, or on the operations the user may open when ``visible``), by due date, with
    their meeting and operation (the first ``limit`` when given)."""
    query = _open_actions().where(SteeringAction.owner_org_id == org.id)
    if operation is not None:
        query = query.where(SteeringCommittee.operation_id == operation.id)
    if among is not None:
        query = query.where(SteeringCommittee.operation_id.in_(among))
    if visible:
        query = _visible(query)
    return list(
        db.session.scalars(
            query.options(
                # the rows the query joins already (``_open_actions``): no query more
                contains_eager(SteeringAction.meeting)
                .contains_eager(SteeringMeeting.committee)
                .contains_eager(SteeringCommittee.operation),
                joinedload(SteeringAction.owner_user),
                joinedload(SteeringAction.owner_org),
            )
            .order_by(SteeringAction.due_on, SteeringAction.id)
            .limit(limit)
        )
    )


def action_line(action: SteeringAction) -> str:
    """« Action du comité … » for a to-do list, its state said in words."""
    return _(
        "Action du comité de pilotage : « %(t)s » — échéance le %(d)s (%(s)s).",
        t=action.title,
        d=due_label(action.due_on),
        s=rules.action_state(action).title.lower(),
    )


def _minutes_waiting(
    operations: list[Operation], org: Organisation
) -> list[tuple[int, SteeringMeeting]]:
    """Meetings of ``operations`` that began, not cancelled, whose minutes are not approved
    yet, with their operation's id. One operation (its page): from its card's read."""
    now = utcnow()
    if len(operations) == 1:
        return [
            (operations[0].id, meeting)
            for meeting in card(operations[0], org).meetings
            if meeting.status == MeetingStatus.PLANNED
            and meeting.minutes_approved_at is None
            and meeting.starts_at <= now
        ]
    ids = [o.id for o in operations]
    return [
        (meeting.committee.operation_id, meeting)
        for meeting in db.session.scalars(
            select(SteeringMeeting)
            .join(SteeringCommittee, SteeringCommittee.id == SteeringMeeting.committee_id)
            .where(
                SteeringCommittee.operation_id.in_(ids),
                SteeringMeeting.status == MeetingStatus.PLANNED,
                SteeringMeeting.minutes_approved_at.is_(None),
                SteeringMeeting.starts_at <= now,
            )
            .options(selectinload(SteeringMeeting.committee))
            .order_by(SteeringMeeting.starts_at)
        )
    ]


def todo(operation: Operation, *, org: Organisation) -> list[str]:
    """The committee's « À faire » of ``org`` on one operation, in words."""
    return [str(text) for _id, _kind, text, _url in todo_many([operation], org=org)]


def todo_many(operations: list[Operation], *, org: Organisation) -> list[tuple]:
    """The committee's « À faire » over ``operations`` as ``(operation id, kind, text,
    url)``: the action items ``org`` owns; for the organisme porteur and the Région,
    the minutes to write, and for the organisme, those to approve (at most six queries
    whatever the number of operations; on one operation, its card's read and at most two)."""
    ids = [o.id for o in operations]

    # Texts and links are lazy: built only for the duties shown (issue #16).
    def committee(operation_id: int) -> LazyString:
        return LazyString(url_for, "steering.show_committee", operation_id=operation_id)

    if len(operations) == 1:  # the operation page: its card's read
        owned = [(action, ids[0]) for action in card(operations[0], org).actions]
    else:
        # The actions alone with their operation's id (the home card's eager loads of their
        # meeting, committee, operation and owners would grow by a query per 500 actions).
        owned = db.session.execute(
            _open_actions()
            .add_columns(SteeringCommittee.operation_id)
            .where(SteeringAction.owner_org_id == org.id, SteeringCommittee.operation_id.in_(ids))
            .order_by(SteeringAction.due_on, SteeringAction.id)
        ).all()
    tasks = [
        (operation_id, "action", LazyString(action_line, a), committee(operation_id))
        for a, operation_id in owned
    ]
    region = org.kind == OrgKind.REGION
    steered = [o for o in operations if region or o.provider_id == org.id]
    waiting = _minutes_waiting(steered, org) if steered else []
    meetings = [meeting for _operation_id, meeting in waiting]
    if not meetings:
        return tasks
    sections = dict(
        db.session.execute(
            select(DesignSection.meeting_id, DesignSection.version).where(
                DesignSection.meeting_id.in_([m.id for m in meetings])
            )
        ).all()
    )
    attended = set(
        db.session.scalars(
            select(SteeringAttendance.meeting_id).where(
                SteeringAttendance.meeting_id.in_([m.id for m in meetings])
            )
        )
    )
    carried = {o.id for o in operations if o.provider_id == org.id}
    for operation_id, meeting in waiting:
        if meeting.id not in sections or meeting.id not in attended:
            text = _l(
                "Relever les présences et rédiger le compte rendu de « %(t)s ».", t=meeting.title
            )
            tasks.append((operation_id, "minutes", text, committee(operation_id)))
        elif operation_id in carried:
            text = _l("Relire et approuver le compte rendu de « %(t)s ».", t=meeting.title)
            tasks.append((operation_id, "minutes", text, committee(operation_id)))
    return tasks


def todo_actions(operations, org: Organisation):
    """The ``select`` of ``(operation id, operation title, action id, action title, due
    date, done at)`` of the open action items ``org`` owns over ``operations`` (a ``select``
    of ``Operation`` columns, the visible open ones): « À faire » across operations, which
    reads them as plain columns (``action_line`` on a ``SteeringAction`` made of them)."""
    return (
        operations.add_columns(
            SteeringAction.id.label("action_id"),
            SteeringAction.title.label("action_title"),
            SteeringAction.due_on,
            SteeringAction.done_at,
        )
        .join(SteeringCommittee, SteeringCommittee.operation_id == Operation.id)
        .join(SteeringMeeting, SteeringMeeting.committee_id == SteeringCommittee.id)
        .join(SteeringAction, SteeringAction.meeting_id == SteeringMeeting.id)
        .where(*_OPEN_ACTION, SteeringAction.owner_org_id == org.id)
    )


def todo_minutes(operations, org: Organisation, *, approve: bool):
    """The ``select`` of ``(operation id, operation title, meeting id, meeting title)`` of
    the meetings over ``operations`` whose minutes wait: to write (presences or text
    missing; the organisme porteur's and the Région's) or, with ``approve``, to approve
    (the organisme porteur's) — ``todo_many``'s rule, across operations."""
    written = and_(
        exists().where(DesignSection.meeting_id == SteeringMeeting.id),
        exists().where(SteeringAttendance.meeting_id == SteeringMeeting.id),
    )
    steered = Operation.provider_id == org.id
    if org.kind == OrgKind.REGION and not approve:
        steered = true()
    return (
        operations.add_columns(SteeringMeeting.id, SteeringMeeting.title.label("meeting_title"))
        .join(SteeringCommittee, SteeringCommittee.operation_id == Operation.id)
        .join(SteeringMeeting, SteeringMeeting.committee_id == SteeringCommittee.id)
        .where(
            steered,
            SteeringMeeting.status == MeetingStatus.PLANNED,
            SteeringMeeting.minutes_approved_at.is_(None),
            SteeringMeeting.starts_at <= utcnow(),
            written if approve else ~written,
        )
    )


def minutes_text(title: str, *, approve: bool) -> str:
    """The French line of minutes waiting for ``org`` (``todo_minutes``)."""
    if approve:
        return _("Relire et approuver le compte rendu de « %(t)s ».", t=title)
    return _("Relever les présences et rédiger le compte rendu de « %(t)s ».", t=title)


HOME_ITEMS = 10


def home(org: Organisation, limit: int = HOME_ITEMS) -> dict:
    """The home card: ``org``'s open action items and the meetings it is convened to, on
    the operations the user may open — the first ``limit`` of each, and whether there are
    more (``more_actions``, ``more_meetings``), so that the card's cost does not grow with
    the operations (a fixed number of queries)."""
    actions = actions_owned_by(org, visible=True, limit=limit + 1)
    meetings = db.session.scalars(
        _visible(
            select(SteeringMeeting)
            .join(SteeringCommittee, SteeringCommittee.id == SteeringMeeting.committee_id)
            .join(Operation, Operation.id == SteeringCommittee.operation_id)
            .where(
                SteeringMeeting.status == MeetingStatus.PLANNED,
                SteeringMeeting.starts_at > utcnow(),
                SteeringCommittee.id.in_(
                    select(SteeringMember.committee_id).where(
                        SteeringMember.organisation_id == org.id,
                        SteeringMember.removed_at.is_(None),
                    )
                ),
            )
        )
        .options(
            contains_eager(SteeringMeeting.committee).contains_eager(SteeringCommittee.operation)
        )
        .order_by(SteeringMeeting.starts_at, SteeringMeeting.id)
        .limit(limit + 1)
    ).all()
    return {
        "actions": actions[:limit],
        "meetings": meetings[:limit],
        "more_actions": len(actions) > limit,
        "more_meetings": len(meetings) > limit,
    }


def committee_record(operation: Operation) -> list[SteeringMeeting]:
    """The committee's meetings, oldest first, with attendance, decisions and action items
    (for the bilan; five queries)."""
    return list(
        db.session.scalars(
            select(SteeringMeeting)
            .join(SteeringCommittee, SteeringCommittee.id == SteeringMeeting.committee_id)
            .where(SteeringCommittee.operation_id == operation.id)
            .options(
                selectinload(SteeringMeeting.attendances),
                selectinload(SteeringMeeting.decisions),
                selectinload(SteeringMeeting.actions).selectinload(SteeringAction.owner_org),
                selectinload(SteeringMeeting.actions).selectinload(SteeringAction.owner_user),
            )
            .order_by(SteeringMeeting.starts_at, SteeringMeeting.id)
        )
    )
