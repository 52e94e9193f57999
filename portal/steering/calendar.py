"""The iCalendar (RFC 5545) invitation of a meeting, built with the ``icalendar`` package.

One event per meeting: its ``UID`` never changes and its ``SEQUENCE`` grows at every change,
so calendars replace the event they hold rather than adding a second one. ``METHOD:REQUEST``
invites (and updates), ``METHOD:CANCEL`` cancels, ``METHOD:PUBLISH`` is the copy one
downloads from the meeting page. Times carry ``TZID=Europe/Paris`` with its ``VTIMEZONE``
(daylight saving rules included), ``DTSTAMP`` is UTC. Deterministic: the same meeting in the
same state gives the same bytes (``DTSTAMP`` is the meeting's last change).
"""

from datetime import UTC, date
from email.utils import parseaddr

from flask import current_app
from icalendar import Calendar, Event, vCalAddress, vText

from portal.accounts.models import User
from portal.core.urls import absolute_url
from portal.steering.models import SteeringMeeting
from portal.steering.rules import paris

PRODID = "-//Région Centre-Val de Loire//Portail DEFI//FR"
MIMETYPE = "text/calendar"


def _address(email: str, name: str, **params) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    address.params["CN"] = vText(name)
    for key, value in params.items():
        address.params[key.replace("_", "-").upper()] = vText(value)
    return address


def _organizer() -> vCalAddress:
    name, email = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    return _address(email or "ne-pas-repondre@portail-defi.test", name or "Portail DEFI")


def _description(meeting: SteeringMeeting, link: str) -> str:
    lines = [f"Opération : {meeting.committee.operation.title}"]
    if meeting.video_url:
        lines.append(f"Visioconférence : {meeting.video_url}")
    if meeting.agenda:
        lines += ["", "Ordre du jour :", meeting.agenda]
    if meeting.is_cancelled and meeting.cancel_reason:
        lines += ["", f"Réunion annulée : {meeting.cancel_reason}"]
    lines += ["", f"Dans le portail : {link}"]
    return "\n".join(lines)


def meeting_calendar(meeting: SteeringMeeting, *, method: str, attendees: list[User] = ()) -> bytes:
    """The meeting as an iCalendar file with ``method`` (REQUEST, CANCEL or PUBLISH),
    naming ``attendees`` (the people it is sent to)."""
    link = absolute_url(
        "steering.show_meeting",
        operation_id=meeting.committee.operation_id,
        meeting_id=meeting.id,
    )
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    event = Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", meeting.updated_at.replace(tzinfo=UTC))
    event.add("dtstart", paris(meeting.starts_at))
    event.add("dtend", paris(meeting.ends_at))
    event.add("summary", f"{meeting.title} — comité de pilotage DEFI")
    event.add("location", meeting.place or meeting.video_url)
    event.add("description", _description(meeting, link))
    event.add("url", link)
    event.add("status", "CANCELLED" if meeting.is_cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", _organizer())
    for user in sorted(attendees, key=lambda u: u.email):
        event.add(
            "attendee",
            _address(
                user.email,
                user.full_name,
                role="REQ-PARTICIPANT",
                partstat="NEEDS-ACTION",
                rsvp="FALSE",
            ),
        )
    calendar.add_component(event)
    # The time zone's rules around the meeting only (the whole table since 1970 is ~3 kB).
    year = paris(meeting.starts_at).year
    calendar.add_missing_timezones(first_date=date(year - 1, 1, 1), last_date=date(year + 2, 1, 1))
    return calendar.to_ical()


def filename(meeting: SteeringMeeting) -> str:
    return f"comite-de-pilotage-{meeting.id}.ics"
