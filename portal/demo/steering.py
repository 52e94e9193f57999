"""Demo: the steering committee of the running session of Saran.

The Orléans referent constituted the committee with the organisme, the two employers,
France Travail and the Mission locale. The launch meeting took place six weeks ago at
Forma'Centre: attendance taken (the bakery excused), minutes written by the organisme and
approved, three decisions and three action items — the organisme's immersion planning is
done, France Travail's information session is due in ten days, and the logistics company's
updated job descriptions are twelve days late (employeur@ finds them in « À faire », and
``flask reminders send``, run here once, has reminded them). The mid-term meeting is
convened in three weeks, at the company and by video.
"""

from datetime import UTC, date, datetime, time, timedelta

from portal.core.time import PARIS
from portal.design import services as design_services
from portal.operations.models import Operation
from portal.steering import minutes, reminders, services
from portal.steering.models import Presence

MINUTES = """Ordre du jour :
1. Présentation du parcours et du rythme de l'alternance
2. Recrutement : huit stagiaires retenus sur dix places
3. Préparation des immersions

Échanges :
Forma'Centre présente le parcours de 420 heures en centre et 140 heures en entreprise.
Transports et Logistique du Loiret confirme ses six promesses d'embauche (quatre CDI,
deux CDD de douze mois) ; la boulangerie, excusée, a confirmé les siennes par courriel.
France Travail et la Mission locale proposent une nouvelle information collective pour
pourvoir les deux places restantes.
"""


def _weekday(day: date) -> date:
    """``day``, or the Monday after it when it falls on a weekend."""
    return day + timedelta(days=(7 - day.weekday()) % 7 if day.weekday() >= 5 else 0)


def _utc(day: date, hour: int, minute: int = 0) -> datetime:
    """A Paris wall-clock time, stored as naive UTC."""
    return (
        datetime.combine(day, time(hour, minute), tzinfo=PARIS).astimezone(UTC).replace(tzinfo=None)
    )


def load_demo_steering(operation: Operation, *, orgs: dict, people: dict) -> None:
    """The committee described in the module's docstring."""
    region, referent = orgs["region"], people["referent_orleans"]
    of_admin, carrier = people["of_admin"], orgs["of1"]
    by_region = {"by": referent, "org": region}
    by_carrier = {"by": of_admin, "org": carrier}
    members = [
        (region, referent),
        (carrier, of_admin),
        (orgs["logistics"], people["employer"]),
        (orgs["bakery"], None),
        (orgs["france_travail"], None),
        (orgs["mission_locale"], None),
    ]
    for organisation, user in members:
        services.add_member(operation, organisation.id, getattr(user, "id", None), **by_region)
    today = date.today()
    held = _weekday(today - timedelta(days=42))
    launch = services.schedule_meeting(
        operation,
        {
            "title": "Comité de lancement",
            "starts_at": _utc(held, 14),
            "ends_at": _utc(held, 16),
            "place": "Forma'Centre Loiret, 12 avenue des Droits de l'Homme, Orléans",
            "video_url": "",
            "agenda": "1. Présentation du parcours et du rythme de l'alternance\n"
            "2. Recrutement : huit stagiaires retenus sur dix places\n"
            "3. Préparation des immersions",
        },
        now=_utc(held - timedelta(days=14), 9),
        **by_region,
    )
    committee = launch.committee
    presence = {m.id: Presence.PRESENT for m in committee.active_members()}
    bakery = next(m for m in committee.active_members() if m.organisation_id == orgs["bakery"].id)
    presence[bakery.id] = Presence.EXCUSED
    minutes.record_attendance(launch, presence, **by_carrier)
    section = minutes.open_minutes(launch, **by_carrier)
    design_services.save_section(
        section, {"text": MINUTES}, base_version=section.version, steering=True, **by_carrier
    )
    for text in (
        "Le parcours et le rythme de l'alternance sont validés tels que co-conçus.",
        "Une information collective est organisée pour pourvoir les deux places restantes.",
        "Le comité de mi-parcours se tiendra la semaine précédant l'immersion avant embauche.",
    ):
        minutes.add_decision(launch, text, **by_region)
    actions = [
        ("Envoyer le planning des immersions aux employeurs", carrier, of_admin, 30),
        ("Organiser une information collective à l'agence", orgs["france_travail"], None, 50),
        (
            "Transmettre les fiches de poste actualisées des préparateurs",
            orgs["logistics"],
            people["employer"],
            28,
        ),
    ]
    made = [
        minutes.add_action(
            launch,
            {
                "title": title,
                "owner_org_id": owner.id,
                "owner_user_id": getattr(user, "id", None),
                "due_on": held + timedelta(days=days),
            },
            **by_region,
        )
        for title, owner, user, days in actions
    ]
    minutes.mark_action_done(made[0], **by_carrier)
    launch = made[0].meeting
    minutes.approve_minutes(launch, minutes.minutes_section(launch).version, **by_carrier)
    mid_term = _weekday(today + timedelta(days=21))
    services.schedule_meeting(
        operation,
        {
            "title": "Comité de mi-parcours",
            "starts_at": _utc(mid_term, 9, 30),
            "ends_at": _utc(mid_term, 11, 30),
            "place": "Transports et Logistique du Loiret, ZA des Montées, Orléans",
            "video_url": "https://visio.demo.defi.test/comite-saran",
            "agenda": "1. Bilan des premières immersions\n"
            "2. Affectation des stagiaires pour l'immersion avant embauche\n"
            "3. Préparation du jury",
        },
        **by_region,
    )
    reminders.send_due_reminders()
