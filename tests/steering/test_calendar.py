"""The meeting's iCalendar invitation, parsed back with ``icalendar``: Paris time with its
VTIMEZONE, the same UID through every change, a growing SEQUENCE, REQUEST then CANCEL;
and the e-mails that carry it."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select

from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.mail.services import build_email
from portal.steering import calendar, services
from tests.steering.factories import Committee, meeting_data


@pytest.fixture
def world(ctx):
    return Committee()


def _event(data: bytes):
    parsed = Calendar.from_ical(data)
    [event] = parsed.walk("VEVENT")
    return parsed, event


def _invitations(meeting) -> list[tuple[str, bytes]]:
    """(recipient, .ics bytes) of every e-mail about ``meeting``, in order."""
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    return [
        (message.recipient, attachment.data)
        for message in rows
        for attachment in message.attachments
        if attachment.filename == calendar.filename(meeting)
    ]


def test_the_invitation_is_in_paris_time_with_its_timezone(world):
    meeting = world.convene(starts_at=datetime(2031, 7, 3, 12, 0), ends_at=datetime(2031, 7, 3, 14))
    parsed, event = _event(calendar.meeting_calendar(meeting, method="REQUEST"))
    assert parsed["METHOD"] == "REQUEST"
    assert event.decoded("DTSTART") == datetime(2031, 7, 3, 14, 0, tzinfo=ZoneInfo("Europe/Paris"))
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert event["DTEND"].params["TZID"] == "Europe/Paris"
    [timezone] = parsed.walk("VTIMEZONE")
    assert timezone["TZID"] == "Europe/Paris"
    assert {c.name for c in timezone.subcomponents} == {"STANDARD", "DAYLIGHT"}
    assert str(event["UID"]) == meeting.uid
    assert event["STATUS"] == "CONFIRMED"
    assert event["LOCATION"] == "Salle du conseil, Tours"
    assert "https://visio.example.fr/comite" in event["DESCRIPTION"]


def test_winter_time_is_an_hour_from_utc(world):
    meeting = world.convene(starts_at=datetime(2031, 1, 9, 8, 30), ends_at=datetime(2031, 1, 9, 10))
    _parsed, event = _event(calendar.meeting_calendar(meeting, method="PUBLISH"))
    assert event.decoded("DTSTART").strftime("%H:%M %Z") == "09:30 CET"


def test_every_member_gets_the_invitation_by_mail(world):
    meeting = world.convene()
    sent = _invitations(meeting)
    # The named referent and Organisme A's admin, and Entreprise E's admin (its only admin).
    assert sorted(r for r, _data in sent) == [
        "a.admin@example.fr",
        "e.admin@example.fr",
        "referent.tours@example.fr",
    ]
    _parsed, event = _event(sent[0][1])
    attendees = sorted(str(a).removeprefix("mailto:") for a in event["ATTENDEE"])
    assert attendees == sorted(r for r, _data in sent)


def test_an_update_keeps_the_uid_and_raises_the_sequence_then_a_cancel(world):
    meeting = world.convene()
    uid = meeting.uid
    services.update_meeting(
        meeting, meeting_data(8, place="Hôtel de Région, Orléans"), **world.region
    )
    services.cancel_meeting(meeting, "Quorum impossible.", **world.region)
    events = [_event(data) for _recipient, data in _invitations(meeting)]
    methods = [str(parsed["METHOD"]) for parsed, _event in events]
    assert methods == ["REQUEST"] * 3 + ["REQUEST"] * 3 + ["CANCEL"] * 3
    assert {str(event["UID"]) for _parsed, event in events} == {uid}
    assert [int(event["SEQUENCE"]) for _parsed, event in events] == [0] * 3 + [1] * 3 + [2] * 3
    cancelled = events[-1][1]
    assert cancelled["STATUS"] == "CANCELLED"
    assert "Quorum impossible." in cancelled["DESCRIPTION"]
    assert events[3][1]["LOCATION"] == "Hôtel de Région, Orléans"


def test_the_same_meeting_gives_the_same_bytes(world):
    meeting = world.convene()
    first = calendar.meeting_calendar(meeting, method="PUBLISH")
    assert calendar.meeting_calendar(meeting, method="PUBLISH") == first


def test_the_email_carries_a_text_calendar_part_with_its_method(world):
    meeting = world.convene()
    message = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.attachments.any()).order_by(OutboxMessage.id)
    ).first()
    email = build_email(message)
    [part] = list(email.iter_attachments())
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "REQUEST"
    assert part.get_filename() == calendar.filename(meeting)
    content = part.get_content()
    _parsed, event = _event(content.encode() if isinstance(content, str) else content)
    assert str(event["UID"]) == meeting.uid
