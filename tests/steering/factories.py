"""Factories for the steering committee tests: Organisme A's operation in Tours with its
committee, and meetings convened through the services, then moved into the past to be
"held" (a meeting is convened only for a date to come).

Usage (inside an app context)::

    world = Committee()                 # the Région's referent, Organisme A, Entreprise E
    meeting = world.convene()           # in a week, every member invited
    world.hold(meeting)                 # it took place yesterday
"""

from datetime import timedelta

from portal.accounts.models import OrgKind
from portal.core.time import utcnow
from portal.design import services as design_services
from portal.extensions import db
from portal.operations.models import Status
from portal.steering import minutes, services
from portal.steering.models import Presence, SteeringMeeting
from tests.factories import make_org, make_user
from tests.operations.factories import Market

OUTSIDER = "g.admin@example.fr"  # Entreprise G, in no operation
EMPLOYER_MEMBER = "e.membre@example.fr"  # Entreprise E, not admin
MINUTES_TEXT = "Le comité valide le rythme de l'alternance."


def meeting_data(days: int = 7, **overrides) -> dict:
    """A meeting ``days`` from now, 14:00 to 16:00 UTC, in a room and by video."""
    start = (utcnow() + timedelta(days=days)).replace(hour=13, minute=0, second=0, microsecond=0)
    data = {
        "title": "Comité de lancement",
        "starts_at": start,
        "ends_at": start + timedelta(hours=2),
        "place": "Salle du conseil, Tours",
        "video_url": "https://visio.example.fr/comite",
        "agenda": "1. Recrutement\n2. Immersions",
    }
    data.update(overrides)
    return data


class Committee:
    """Organisme A's operation at the training step; its committee: the Tours referent
    (named), Organisme A's admin (named) and Entreprise E (its admins are convened)."""

    def __init__(self, *, status: Status = Status.TRAINING):
        m = self.market = Market()
        self.operation = m.report()
        self.operation.status = status
        self.employer_member = make_user(m.employer, email=EMPLOYER_MEMBER, first_name="Eva")
        self.outsider_org = make_org(OrgKind.EMPLOYER, "Entreprise G")
        self.outsider = make_user(self.outsider_org, admin=True, email=OUTSIDER)
        for organisation, user in (
            (m.region, m.referent),
            (m.of_a, m.a_user),
            (m.employer, None),
        ):
            services.add_member(
                self.operation, organisation.id, getattr(user, "id", None), **self.region
            )
        db.session.flush()

    @property
    def region(self) -> dict:
        return {"by": self.market.referent, "org": self.market.region}

    @property
    def carrier(self) -> dict:
        return {"by": self.market.a_user, "org": self.market.of_a}

    @property
    def employer(self) -> dict:
        return {"by": self.market.employer_user, "org": self.market.employer}

    def member(self, organisation):
        return next(
            m
            for m in services.committee_for(self.operation).active_members()
            if m.organisation_id == organisation.id
        )

    def convene(self, days: int = 7, **overrides) -> SteeringMeeting:
        return services.schedule_meeting(
            self.operation, meeting_data(days, **overrides), **self.region
        )

    def hold(self, meeting: SteeringMeeting, days_ago: int = 1) -> SteeringMeeting:
        """Move the meeting into the past: it took place ``days_ago`` days ago."""
        length = meeting.ends_at - meeting.starts_at
        meeting.starts_at = utcnow() - timedelta(days=days_ago)
        meeting.ends_at = meeting.starts_at + length
        db.session.flush()
        return meeting

    def held(self, days_ago: int = 1) -> SteeringMeeting:
        return self.hold(self.convene(), days_ago)

    def attend(self, meeting: SteeringMeeting) -> None:
        """Everyone present."""
        members = services.committee_for(self.operation).active_members()
        minutes.record_attendance(
            meeting, {m.id: Presence.PRESENT for m in members}, **self.carrier
        )

    def write(self, meeting: SteeringMeeting, text: str = MINUTES_TEXT):
        section = minutes.open_minutes(meeting, **self.carrier)
        design_services.save_section(
            section, {"text": text}, base_version=section.version, steering=True, **self.carrier
        )
        return section

    def ready(self) -> SteeringMeeting:
        """A meeting held yesterday, attendance taken, minutes written (to approve)."""
        meeting = self.held()
        self.attend(meeting)
        self.write(meeting)
        return meeting
