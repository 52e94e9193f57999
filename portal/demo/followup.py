"""Demo: a previous session that reached « Suivi dans l'emploi ».

« Préparateur·rice de commandes — session d'Ingré » started about ten months ago, with the
same partners as the running session of Saran, and was built with the same service verbs.
Eight trainees were recruited on the eight promises. Yanis Colin abandoned after ten
weeks, Chloé Morel was hired early by the bakery; the jury certified five trainees, one
partially; the others left at the end of the training, six months ago.

Promises: five kept (four CDI, one CDD of a year), two not kept, one freed by the
abandon and left without an outcome. The follow-ups at exit and at three months are
answered — Julie Masson's three-months one disagrees (the organisme says CDI, the
employer a CDD of five months) and waits for the organisme's reconciliation; Yanis Colin
could not be reached three times (« sans nouvelles ») and his six-months follow-up is
overdue, reported to the referent; the other six-months follow-ups are due now.
"""

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from portal.accounts.models import User
from portal.core.employment import Situation
from portal.demo.running import recruiting_logistics_operation
from portal.extensions import db
from portal.followup import reminders, services
from portal.followup.models import Channel, Milestone, MilestoneKind, NotKeptReason, WorkingTime
from portal.immersions import evaluations
from portal.immersions.models import EvaluationKind, Outcome
from portal.operations import lifecycle
from portal.operations.models import Operation, Status
from portal.recruitment import services as recruitment
from portal.recruitment.models import ExitReason, JobPromise, Trainee, TraineeStatus

TITLE = "Préparateur·rice de commandes — session d'Ingré"
SESSION_DAYS_AGO = 317  # the training ended 177 days ago: six months of follow-up
TRAINING_DAYS = 140

# (last name, first name, birth year, prescriber key, public), in the order of the promises:
# four CDI and two CDD of the logistics company, then the bakery's two CDI.
TRAINEES = [
    ("Traoré", "Awa", 1996, "france_travail", "job_seekers"),
    ("Masson", "Julie", 1989, "france_travail", "job_seekers"),
    ("Colin", "Yanis", 2002, "mission_locale", "youth"),
    ("Henry", "Manon", 1991, "france_travail", "low_qualified"),
    ("Rousseau", "Mehdi", 2000, "mission_locale", "youth"),
    ("Fabre", "Océane", 1993, "france_travail", "rsa"),
    ("Morel", "Chloé", 1985, "france_travail", "job_seekers"),
    ("Gomez", "Lucas", 2003, "mission_locale", "youth"),
]
# The jury: five full certifications, one partial, one not obtained (Yanis had left).
JURY = {
    "Awa": Outcome.FULL,
    "Julie": Outcome.FULL,
    "Manon": Outcome.FULL,
    "Mehdi": Outcome.PARTIAL,
    "Océane": Outcome.FULL,
    "Chloé": Outcome.FULL,
    "Lucas": Outcome.NOT_OBTAINED,
}


def _user(prefix: str) -> User:
    return db.session.scalar(select(User).where(User.email.like(f"{prefix}@%")))


def recruit(
    operation: Operation, people_rows: list, *, orgs: dict, people: dict
) -> dict[str, Trainee]:
    """Record, retain, match to the promises in order and start the trainees of
    ``people_rows`` (as ``TRAINEES``), by first name."""
    of_admin, carrier = people["of_admin"], orgs["of1"]
    rows = [
        {
            "last_name": last,
            "first_name": first,
            "email": "",
            "phone": "",
            "birth_year": year,
            "prescriber_id": orgs[prescriber].id,
            "public_category": public,
        }
        for last, first, year, prescriber, public in people_rows
    ]
    trainees = recruitment.add_trainees(operation, rows, by=of_admin, org=carrier)
    promises = db.session.scalars(
        select(JobPromise)
        .where(JobPromise.operation_id == operation.id)
        .order_by(JobPromise.organisation_id != orgs["logistics"].id, JobPromise.id)
    ).all()
    for trainee, promise in zip(trainees, promises, strict=True):
        recruitment.change_status(trainee, TraineeStatus.RETAINED, by=of_admin, org=carrier)
        recruitment.match_trainee(trainee, promise, by=of_admin, org=carrier)
        recruitment.change_status(trainee, TraineeStatus.IN_TRAINING, by=of_admin, org=carrier)
    return {t.first_name: t for t in trainees}


def jury(
    operation: Operation, trainees: dict, held_on: date, outcomes: dict, *, orgs, people
) -> None:
    """The certification jury, with the employer and the tutor; ``outcomes`` by first name."""
    of_admin, carrier = people["of_admin"], orgs["of1"]
    jury = evaluations.create_evaluation(
        operation,
        {
            "kind": EvaluationKind.JURY,
            "held_at": datetime.combine(held_on, time(8, 0)),
            "place": "Centre d'examen AFPA Olivet",
            "notes": "Jury du titre professionnel Préparateur de commandes en entrepôt.",
            "invitee_ids": [people["employer"].id, _user("tuteur").id],
        },
        by=of_admin,
        org=carrier,
    )
    evaluations.record_attendance(jury, [people["employer"].id], by=of_admin, org=carrier)
    evaluations.record_results(
        jury,
        [
            {
                "trainee": trainees[name],
                "outcome": outcome,
                "blocks": "RNCP38413BC01" if outcome == Outcome.PARTIAL else "",
                "comment": "",
            }
            for name, outcome in outcomes.items()
        ],
        by=of_admin,
        org=carrier,
    )


def _outcomes(trainees: dict, end: date, *, orgs: dict, people: dict) -> None:
    """Five promises kept, two not kept (the abandon's promise stays without an outcome)."""
    employer, logistics = people["employer"], orgs["logistics"]
    of_admin, carrier = people["of_admin"], orgs["of1"]
    kept_cdi = {"kept": True, "contract": Situation.CDI, "weekly_hours": 35.0}
    rows = [
        ("Awa", {**kept_cdi, "start_date": end + timedelta(days=7)}, employer, logistics),
        ("Julie", {**kept_cdi, "start_date": end + timedelta(days=7)}, employer, logistics),
        ("Manon", {**kept_cdi, "start_date": end + timedelta(days=7)}, employer, logistics),
        (
            "Mehdi",
            {
                "kept": True,
                "contract": Situation.CDD,
                "duration_months": 12,
                "start_date": end + timedelta(days=14),
                "weekly_hours": 35.0,
            },
            of_admin,
            carrier,
        ),
        (
            "Océane",
            {
                "kept": False,
                "reason": NotKeptReason.CANDIDATE_REJECTED,
                "comment": "Poste de cariste finalement pourvu par une mobilité interne.",
            },
            employer,
            logistics,
        ),
        (
            "Chloé",
            {**kept_cdi, "weekly_hours": 30.0, "start_date": end - timedelta(days=24)},
            people["baker"],
            orgs["bakery"],
        ),
        (
            "Lucas",
            {
                "kept": False,
                "reason": NotKeptReason.TRAINEE_DECLINED,
                "comment": "Préfère passer d'abord le CACES R489 catégorie 5.",
            },
            of_admin,
            carrier,
        ),
    ]
    for name, data, user, organisation in rows:
        services.record_promise_outcome(trainees[name].promise, data, by=user, org=organisation)


def milestone_of(trainee: Trainee, kind: MilestoneKind) -> Milestone:
    return db.session.scalar(
        select(Milestone).where(Milestone.trainee_id == trainee.id, Milestone.kind == kind)
    )


def answer(trainee, kind, who, situation, employer=None, **extra) -> None:
    """``who``'s answer, contacted two days after the due date."""
    user, organisation = who
    milestone = milestone_of(trainee, kind)
    data = {
        "situation": situation,
        "employer_id": getattr(employer, "id", None),
        "employer_name": "",
        "job_title": "",
        "working_time": WorkingTime.FULL_TIME if situation.is_salaried else None,
        "contacted_on": min(milestone.due_on + timedelta(days=2), date.today()),
        "channel": Channel.PHONE,
        "comment": "",
        **extra,
    }
    services.record_answer(milestone, data, by=user, org=organisation)


def _followups(trainees: dict, *, orgs: dict, people: dict) -> None:
    """Exit and +3 months answered (one disagreement, one « sans nouvelles »), Chloé's
    +6 months answered early, the others' due now."""
    of = (people["of_admin"], orgs["of1"])
    boss = (people["employer"], orgs["logistics"])
    baker = (people["baker"], orgs["bakery"])
    prescriber = (_user("partenaire"), orgs["france_travail"])
    logistics, bakery = orgs["logistics"], orgs["bakery"]
    t = trainees
    exit_, m3, m6 = MilestoneKind.EXIT, MilestoneKind.M3, MilestoneKind.M6
    cdd = Situation.CDD
    picker = {"job_title": "Préparateur·rice de commandes"}
    for name in ("Awa", "Julie", "Manon"):
        answer(t[name], exit_, of, Situation.CDI, logistics, **picker)
    answer(t["Manon"], exit_, prescriber, Situation.CDI, logistics)
    answer(t["Mehdi"], exit_, of, cdd, logistics, duration_months=12, job_title="Cariste")
    answer(
        t["Océane"],
        exit_,
        of,
        Situation.JOB_SEEKING,
        comment="Inscrite à France Travail ; candidatures en entrepôt.",
    )
    answer(t["Yanis"], exit_, of, Situation.JOB_SEEKING)
    answer(t["Chloé"], exit_, of, Situation.CDI, bakery)
    answer(t["Chloé"], exit_, baker, Situation.CDI, bakery)
    answer(t["Lucas"], exit_, of, Situation.TRAINING, comment="Formation CACES R489 cat. 5.")

    answer(t["Awa"], m3, of, Situation.CDI, logistics, **picker)
    answer(t["Awa"], m3, boss, Situation.CDI, logistics, **picker)
    answer(t["Julie"], m3, of, Situation.CDI, logistics, **picker)
    answer(
        t["Julie"],
        m3,
        boss,
        cdd,
        logistics,
        duration_months=5,
        channel=Channel.EMAIL,
        comment="Contrat de 5 mois pour remplacement ; CDI envisagé à l'issue.",
        **picker,
    )
    answer(t["Manon"], m3, of, Situation.CDI, logistics)
    answer(t["Mehdi"], m3, of, cdd, logistics, duration_months=12, job_title="Cariste")
    answer(
        t["Océane"],
        m3,
        of,
        Situation.INTERIM,
        duration_months=2,
        employer_name="Intérim Loire Services",
        job_title="Manutentionnaire",
    )
    yanis = milestone_of(t["Yanis"], m3)
    for days, channel, note in (
        (1, Channel.PHONE, "Messagerie, message laissé."),
        (5, Channel.EMAIL, "Courriel sans réponse."),
        (9, Channel.PHONE, "Numéro non attribué."),
    ):
        services.record_attempt(
            yanis,
            {"attempted_on": yanis.due_on + timedelta(days=days), "channel": channel, "note": note},
            by=of[0],
            org=of[1],
        )
    answer(t["Yanis"], m3, of, Situation.NO_NEWS, contacted_on=yanis.due_on + timedelta(days=9))
    answer(t["Chloé"], m3, of, Situation.CDI, bakery)
    answer(
        t["Lucas"],
        m3,
        of,
        cdd,
        duration_months=3,
        employer_name="Supermarché du Val d'Orléans",
        job_title="Employé de réserve",
    )
    answer(t["Chloé"], m6, of, Situation.CDI, bakery)


def load_demo_followup_operation(*, territories: dict, orgs: dict, people: dict) -> Operation:
    """The previous session described in the module's docstring."""
    today = date.today()
    start = today - timedelta(days=SESSION_DAYS_AGO)
    end = start + timedelta(days=TRAINING_DAYS)
    operation, _signers = recruiting_logistics_operation(
        TITLE,
        start,
        "Ingénierie conforme aux besoins des deux employeurs.",
        territories=territories,
        orgs=orgs,
        people=people,
    )
    of_admin, carrier = people["of_admin"], orgs["of1"]
    trainees = recruit(operation, TRAINEES, orgs=orgs, people=people)
    lifecycle.advance(operation, Status.TRAINING, by=of_admin, org=carrier)
    by = {"by": of_admin, "org": carrier}
    services.record_exit(
        trainees["Yanis"],
        exit_date=start + timedelta(days=70),
        reason=ExitReason.DROPOUT,
        detail="Abandon pour raisons familiales (garde d'enfant le matin).",
        **by,
    )
    services.record_exit(
        trainees["Chloé"],
        exit_date=start + timedelta(days=115),
        reason=ExitReason.EARLY_HIRE,
        detail="Embauchée au fournil central avant la fin de la formation.",
        **by,
    )
    jury(operation, trainees, end - timedelta(days=5), JURY, orgs=orgs, people=people)
    for name in ("Awa", "Julie", "Manon", "Mehdi", "Océane", "Lucas"):
        services.record_exit(trainees[name], exit_date=end, reason=ExitReason.END_OF_TRAINING, **by)
    lifecycle.advance(operation, Status.FOLLOW_UP, by=of_admin, org=carrier)
    _outcomes(trainees, end, orgs=orgs, people=people)
    _followups(trainees, orgs=orgs, people=people)
    reminders.send_due_reminders()
    return operation
