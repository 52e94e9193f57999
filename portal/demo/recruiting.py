"""Demo: recruitment with the prescribers and the employers (issue #12), on « Préparateur·rice
de commandes — session de Saran » (portal/demo/running.py).

- Two promises that are not lasting jobs: the bakery's seasonal CDD of 4 months, which
  the Orléans referent accepted with a reason (it counts, and the convention says so), and
  a 3-month intérim mission at Transports et Logistique, listed apart.
- France Travail (partenaire@) and the Mission locale (mission.locale@) proposed the
  candidates, each with the consent statement ticked; France Travail proposed one more
  last week, still to examine.
- A job dating ten days before the session: every candidate invited, both employers
  present, one candidate absent; each employer gave its opinions (favorable, réservé,
  défavorable) before the organisme retained and matched.
"""

from datetime import datetime, time, timedelta

from flask_babel import to_utc
from sqlalchemy import select

from portal.accounts.models import User
from portal.core.employment import ContractType
from portal.extensions import db
from portal.operations import needs
from portal.operations.models import Operation
from portal.recruitment import lasting, opinions, prescription, sessions
from portal.recruitment.models import Attendance, SessionKind, Verdict

SEASONAL_REASON = (
    "Renfort du fournil pour les fêtes de fin d'année : le gérant s'engage à proposer un CDI "
    "à l'issue si la période est concluante ; le contrat mène au titre visé."
)
LATE_CANDIDATE = {
    "last_name": "Fofana",
    "first_name": "Mariam",
    "email": "mariam.fofana@exemple.fr",
    "phone": "06 11 22 33 44",
    "birth_year": 1996,
    "public_category": "job_seekers",
}
# (last name, employer key, verdict, comment) — the employers' opinions at the job dating.
OPINIONS = [
    ("Diallo", "logistics", Verdict.FAVOURABLE, "Très à l'aise avec le scanner, motivée."),
    ("Martin", "logistics", Verdict.FAVOURABLE, ""),
    ("Nguyen", "logistics", Verdict.FAVOURABLE, "Expérience de la préparation en magasin."),
    ("Bernard", "logistics", Verdict.RESERVED, "Port de charges à confirmer en immersion."),
    ("Petit", "logistics", Verdict.FAVOURABLE, ""),
    ("Lopes", "logistics", Verdict.FAVOURABLE, "Disponible en équipe du matin."),
    ("Haddad", "bakery", Verdict.FAVOURABLE, "Intéressé par le fournil central."),
    ("Bernard", "bakery", Verdict.FAVOURABLE, "Rigoureuse, bon contact."),
    ("Benoît", "bakery", Verdict.UNFAVOURABLE, "Le fournil ouvre à 4 h : horaires inadaptés."),
]


def _person(email_prefix: str) -> User:
    return db.session.scalar(select(User).where(User.email.like(f"{email_prefix}@%")))


def add_seasonal_promises(operation: Operation, *, orgs: dict, people: dict) -> None:
    """Two short contracts: the bakery's seasonal CDD, accepted by the referent with a
    reason, and a summer intérim mission, left apart (during co-design, before the
    convention quotes them)."""
    bakery = needs.need_for(operation, orgs["bakery"])
    seasonal = needs.add_position(
        bakery,
        {
            "job_title": "Préparateur·rice de commandes (renfort de fin d'année)",
            "rome_code": "N1103",
            "count": 1,
            "contract_type": ContractType.CDD,
            "duration_months": 4,
        },
        by=people["baker"],
        org=orgs["bakery"],
    )
    needs.add_position(
        needs.need_for(operation, orgs["logistics"]),
        {
            "job_title": "Agent·e de quai (renfort d'été)",
            "rome_code": "N1103",
            "count": 1,
            "contract_type": ContractType.INTERIM,
            "duration_months": 3,
        },
        by=people["employer"],
        org=orgs["logistics"],
    )
    lasting.accept_non_lasting(
        seasonal, SEASONAL_REASON, by=people["referent_orleans"], org=orgs["region"]
    )


def propose(operation: Operation, rows: list[tuple[str, dict]], *, orgs: dict) -> list:
    """Each (prescriber key, candidate) proposed by that prescriber's adviser, consent
    ticked; the trainees in order."""
    advisers = {
        "france_travail": _person("partenaire"),
        "mission_locale": _person("mission.locale"),
    }
    trainees = []
    for key, data in rows:
        org = orgs[key]
        consent = prescription.consent_text(operation, org)
        trainees.append(
            prescription.propose_candidate(operation, data, consent, by=advisers[key], org=org)
        )
    return trainees


def job_dating(operation: Operation, trainees: list, absent: str, *, orgs: dict, people: dict):
    """The job dating before the session: everyone invited, ``absent`` (a last name) did
    not come, both employers did and gave their opinions."""
    of_admin, carrier = people["of_admin"], orgs["of1"]
    day = operation.session_start - timedelta(days=10)
    session = sessions.plan_session(
        operation,
        {
            "kind": SessionKind.JOB_DATING,
            "starts_at": to_utc(datetime.combine(day, time(9, 30))),
            "place": "Forma'Centre Loiret, 12 avenue des Droits de l'Homme, Orléans — salle 2",
            "video_link": "",
            "details": (
                "9 h 30 : présentation de la formation et des métiers ; 10 h 15 : entretiens "
                "de 15 minutes avec chaque employeur ; 12 h : visite du plateau technique."
            ),
        },
        by=of_admin,
        org=carrier,
    )
    employers = [orgs["logistics"], orgs["bakery"]]
    sessions.invite(
        session, [t.id for t in trainees], [e.id for e in employers], by=of_admin, org=carrier
    )
    sessions.record_attendance(
        session,
        {
            t.id: Attendance.ABSENT if t.last_name == absent else Attendance.PRESENT
            for t in trainees
        },
        {e.id: Attendance.PRESENT for e in employers},
        0,
        by=of_admin,
        org=carrier,
    )
    by_name = {t.last_name: t for t in trainees}
    speakers = {"logistics": people["employer"], "bakery": people["baker"]}
    for last_name, key, verdict, comment in OPINIONS:
        opinions.give_opinion(
            by_name[last_name], session, verdict, comment, 0, by=speakers[key], org=orgs[key]
        )
    return session


def late_proposal(operation: Operation, *, orgs: dict) -> None:
    """France Travail proposes one more candidate, still to examine."""
    propose(operation, [("france_travail", dict(LATE_CANDIDATE))], orgs=orgs)


def counted_first(promises: list) -> list:
    """Promises that count toward the rule before the others (each in its given order)."""
    accepted = lasting.acceptances(promises[0].operation) if promises else {}
    return sorted(promises, key=lambda p: not lasting.counts(p, accepted.get(p.position_id)))
