"""Demo: a running operation, from the signed convention to immersions and debriefs.

« Préparateur·rice de commandes — session de Saran » started six weeks ago. Its
convention was signed by the five parties and validated by the Région; an amendment
(avenant) is being signed: it moves the steering committee, splits the pre-hire immersion
of the rhythm around a collective debrief and brings in a third employer, Entrepôts
Sologne Distribution, with two promised jobs. The organisme and the partners signed it;
the employers have not yet — so employeur@ (and entrepot@, joining) have a signature
waiting. Until the Région validates it, version 1 stays in force: the immersions come
from its rhythm, and the promises from its employers.

Nine candidates were proposed by France Travail and the Mission locale, met the employers
at a job dating (their opinions recorded, one candidate absent): seven retained and matched
to promises (the bakery's are still open; an intérim promise of 3 months is listed apart,
its seasonal CDD accepted by the Région), one not retained, one still to examine — and
France Travail proposed one more since (portal/demo/recruiting.py). Immersions were
generated from the rhythm with each employer's only tutor suggested; the employers
confirmed them (employeur@ for Transports et Logistique, leaving one suggestion of the
platform week unconfirmed; boulangerie@ for the bakery). The first immersion (discovery
week) is over: the
tutor tuteur@ assessed three trainees, a collective debrief covers four of them, the others'
debriefs are overdue; the platform week is being prepared; the intermediate review took
place with the employer and the tutor; the certification jury is planned.
"""

from datetime import date, timedelta

from sqlalchemy import select

from portal.accounts.models import User
from portal.conventions import services as conventions
from portal.core.time import utcnow
from portal.demo import recruiting
from portal.demo.operations import build_logistics_operation
from portal.design import services as design_services
from portal.design.models import SectionKey
from portal.extensions import db
from portal.immersions import assessments, debriefs, evaluations, tutoring
from portal.immersions import services as immersions
from portal.immersions.models import (
    DebriefKind,
    EvaluationKind,
    Immersion,
    Outcome,
    Presence,
    SkillLevel,
    WouldHire,
)
from portal.notifications.services import organisation_members
from portal.operations import lifecycle, needs
from portal.operations import services as operations
from portal.operations.models import ContractType, Operation, ParticipantRole, Status
from portal.recruitment import services as recruitment
from portal.recruitment.models import JobPromise, TraineeStatus

DEMO_EVIDENCE = conventions.Evidence(
    ip="192.0.2.10", user_agent="Mozilla/5.0 (données de démonstration)"
)

STEERING_AMENDMENT = (
    "\nAvenant n° 1 : le comité de pilotage de mi-parcours est avancé à la semaine "
    "précédant l'immersion avant embauche, pour décider avec les employeurs des "
    "affectations des stagiaires."
)


def _person(email_prefix: str) -> User:
    return db.session.scalar(select(User).where(User.email.like(f"{email_prefix}@%")))


def _sign_all(version, signers: list) -> None:
    for user, organisation in signers:
        designation = conventions.signer_for(version.convention, organisation.id)
        conventions.sign(
            version,
            user=user,
            organisation=organisation,
            consent=conventions.consent_text(version, organisation, designation.capacity),
            evidence=DEMO_EVIDENCE,
        )


def _convention(operation: Operation, *, orgs: dict, people: dict) -> list:
    """Designate, submit, sign and validate version 1; return the (user, org) signers."""
    of_admin, carrier, region = people["of_admin"], orgs["of1"], orgs["region"]
    convention = conventions.convention_for(operation)
    signers = [
        (of_admin, carrier, "responsable de projets DEFI, par délégation du directeur"),
        (people["employer"], orgs["logistics"], "gérante"),
        (people["baker"], orgs["bakery"], "gérant"),
        (_person("partenaire"), orgs["france_travail"], "conseillère entreprises"),
        (_person("mission.locale"), orgs["mission_locale"], "conseiller en insertion"),
    ]
    for user, organisation, capacity in signers:
        # The organisme proposes each signer; an admin of each party confirms it.
        conventions.designate_signer(
            convention, organisation, user, capacity, by=of_admin, by_org=carrier
        )
        if organisation.id != carrier.id:
            admin = organisation_members(organisation.id, admins_only=True)[0]
            conventions.confirm_signer(convention, organisation, by=admin, by_org=organisation)
    version = conventions.submit(convention, by=of_admin, org=carrier)
    _sign_all(version, [(user, organisation) for user, organisation, _ in signers])
    conventions.validate(
        version,
        by=people["referent_orleans"],
        org=region,
        comment="Convention conforme ; promesses d'emploi cohérentes avec l'effectif.",
    )
    return [(user, organisation) for user, organisation, _ in signers]


def _save(section, content, *, people: dict, orgs: dict) -> None:
    design_services.save_section(
        section,
        content,
        base_version=section.version,
        by=people["of_admin"],
        org=orgs["of1"],
        steering=True,
    )


def _split_last_immersion(rhythm) -> dict:
    """The pre-hire immersion in two weeks, around the collective debrief (same hours)."""
    *items, last = [dict(item) for item in rhythm.content["items"]]
    end = date.fromisoformat(last["end"])
    first_end, second_start = end - timedelta(days=7), end - timedelta(days=4)
    first = {**last, "end": first_end.isoformat(), "hours": last["hours"] // 2}
    first["label"] = "Immersion avant embauche — première semaine"
    second = {
        **last,
        "id": design_services.new_id(),
        "start": second_start.isoformat(),
        "hours": last["hours"] - first["hours"],
        "label": "Immersion avant embauche — seconde semaine, après le retour collectif",
    }
    return {"items": [*items, first, second]}


def _amendment(operation: Operation, signers: list, *, orgs: dict, people: dict) -> None:
    """Version 2 (avenant), after co-design kept up to date with the employers: the steering
    committee moved, the pre-hire immersion split around a collective debrief, and a third
    employer, Entrepôts Sologne Distribution, joining with two promises. Signed by the
    organisme and the partners, not yet by the employers (nor the one joining)."""
    of_admin, carrier = people["of_admin"], orgs["of1"]
    design = design_services.design_for(operation)
    steering = design.section(SectionKey.CONV_STEERING)
    text = {"text": steering.content["text"] + STEERING_AMENDMENT}
    _save(steering, text, people=people, orgs=orgs)
    rhythm = design.section(SectionKey.RHYTHM)
    _save(rhythm, _split_last_immersion(rhythm), people=people, orgs=orgs)
    warehouse, director = orgs["warehouse"], people["warehouse_admin"]
    operations.add_participant(
        operation, warehouse, ParticipantRole.EMPLOYER, by=of_admin, org=carrier
    )
    needs.add_position(
        needs.need_for(operation, warehouse),
        {
            "job_title": "Préparateur·rice de commandes",
            "rome_code": "N1103",
            "count": 2,
            "contract_type": ContractType.CDI,
            "planned_start": operation.session_end + timedelta(days=7),
        },
        by=director,
        org=warehouse,
    )
    convention = conventions.convention_for(operation)
    conventions.designate_signer(
        convention, warehouse, director, "directeur de site", by=director, by_org=warehouse
    )
    version = conventions.submit(convention, by=of_admin, org=carrier)
    employers = {orgs["logistics"].id, orgs["bakery"].id}
    _sign_all(version, [(u, o) for u, o in signers if o.id not in employers])


# (last name, first name, birth year, prescriber key, public category, outcome)
CANDIDATES = [
    ("Diallo", "Aminata", 1998, "france_travail", "job_seekers", "retained"),
    ("Martin", "Kevin", 2003, "mission_locale", "youth", "retained"),
    ("Nguyen", "Linh", 1987, "france_travail", "rsa", "retained"),
    ("Bernard", "Sylvie", 1972, "france_travail", "seniors", "retained"),
    ("Haddad", "Nassim", 2004, "mission_locale", "youth", "retained"),
    ("Petit", "Jordan", 1995, "france_travail", "low_qualified", "retained"),
    ("Lopes", "Carla", 1990, "france_travail", "job_seekers", "retained"),
    ("Roussel", "Damien", 1983, "france_travail", "job_seekers", "not_retained"),
    ("Benoît", "Inès", 2001, "mission_locale", "youth", "candidate"),
]


def _recruit(operation: Operation, *, orgs: dict, people: dict) -> list:
    """The prescribers propose the candidates, the employers meet them at a job dating and
    give their opinions; the organisme retains and matches seven, who start their
    training (portal/demo/recruiting.py). France Travail proposes one more afterwards."""
    of_admin, carrier = people["of_admin"], orgs["of1"]
    rows = [
        (
            prescriber,
            {
                "last_name": last,
                "first_name": first,
                "email": f"{first}.{last}@exemple.fr".lower().replace("î", "i").replace("ï", "i"),
                "phone": "",
                "birth_year": year,
                "public_category": public,
            },
        )
        for last, first, year, prescriber, public, _ in CANDIDATES
    ]
    trainees = recruiting.propose(operation, rows, orgs=orgs)
    recruiting.job_dating(operation, trainees, "Roussel", orgs=orgs, people=people)
    promises = recruiting.counted_first(
        db.session.scalars(
            select(JobPromise)
            .where(JobPromise.operation_id == operation.id)
            .order_by(JobPromise.organisation_id != orgs["logistics"].id, JobPromise.id)
        ).all()
    )
    retained = []
    for trainee, (*_, outcome) in zip(trainees, CANDIDATES, strict=True):
        if outcome == "candidate":
            continue
        recruitment.change_status(trainee, TraineeStatus(outcome), by=of_admin, org=carrier)
        if outcome == "retained":
            retained.append(trainee)
    for trainee, promise in zip(retained, promises, strict=False):
        recruitment.match_trainee(trainee, promise, by=of_admin, org=carrier)
        recruitment.change_status(trainee, TraineeStatus.IN_TRAINING, by=of_admin, org=carrier)
    recruiting.late_proposal(operation, orgs=orgs)
    return retained


def _immersions(operation: Operation, *, orgs: dict, people: dict) -> None:
    """First period over (assessed, partly debriefed); the platform week in preparation."""
    of_admin, carrier = people["of_admin"], orgs["of1"]
    immersions.generate_from_rhythm(operation, by=of_admin, org=carrier)
    rows = db.session.scalars(
        select(Immersion)
        .where(Immersion.operation_id == operation.id)
        .order_by(Immersion.starts_on, Immersion.trainee_id)
    ).all()
    first_start = min(i.starts_on for i in rows)
    first = [i for i in rows if i.starts_on == first_start]
    second_start = min((i.starts_on for i in rows if i.starts_on > first_start), default=None)
    second = [i for i in rows if i.starts_on == second_start]
    # The host employers confirm the tutor the generation suggested, but for one immersion
    # of the platform week at Transports et Logistique (a suggestion awaiting confirmation).
    admins = {orgs["logistics"].id: people["employer"], orgs["bakery"].id: people["baker"]}
    unconfirmed = next(i for i in reversed(second) if i.employer_id == orgs["logistics"].id)
    for immersion in rows:
        if immersion is unconfirmed or immersion.suggested_tutor is None:
            continue
        tutoring.designate_tutor(
            immersion,
            immersion.suggested_tutor,
            by=admins[immersion.employer_id],
            org=immersion.employer,
        )
    checklist = {
        "objectives_agreed": True,
        "tutor_briefed": True,
        "safety_ppe": True,
        "practical_details": "Accueil 7 h 45 au poste de garde, chaussures de sécurité "
        "fournies, déjeuner au réfectoire.",
        "agreement_reference": "CS-2026-0412",
    }
    for immersion in first:
        if immersion.tutor_id is None:
            continue
        immersions.save_checklist(immersion, checklist, by=of_admin, org=carrier)
    for immersion in second[:3]:
        if immersion.tutor_id is None:
            continue
        immersions.save_checklist(
            immersion,
            {**checklist, "safety_ppe": False, "agreement_reference": ""},
            by=of_admin,
            org=carrier,
        )

    tutor = _person("tuteur")
    assessed = [i for i in first if i.tutor_id == tutor.id][:3]
    levels = [SkillLevel.ACQUIRED, SkillLevel.IN_PROGRESS, SkillLevel.IN_PROGRESS]
    for index, immersion in enumerate(assessed):
        assessments.record_assessment(
            immersion,
            {
                "presence": Presence.FULL if index != 1 else Presence.PARTIAL,
                "would_hire": WouldHire.YES if index == 0 else WouldHire.MAYBE,
                "feedback": [
                    "Très bonne intégration dans l'équipe, rigueur sur les bons de préparation.",
                    "Motivé ; deux retards la première semaine, à surveiller.",
                    "Prend confiance ; le rythme de préparation reste à améliorer.",
                ][index],
                "ratings": [
                    {"skill_id": skill_id, "level": levels[(index + n) % 3], "comment": ""}
                    for n, skill_id in enumerate(immersion.objectives[:3])
                ],
            },
            by=tutor,
            org=orgs["logistics"],
        )

    debriefed = [i for i in first if i.employer_id == orgs["logistics"].id][:4]
    if debriefed:
        debriefs.record_debrief(
            operation,
            {
                "kind": DebriefKind.COLLECTIVE,
                "held_on": max(i.ends_on for i in debriefed) + timedelta(days=3),
                "immersions": debriefed,
                "absent": [],
                "attendee_ids": [of_admin.id, tutor.id],
                "went_well": "Accueil soigné par l'équipe du quai ; les stagiaires ont "
                "préparé de vraies commandes dès le deuxième jour.",
                "difficulties": "Horaires de 5 h difficiles sans véhicule pour deux stagiaires.",
                "decisions": "Covoiturage organisé avec la Mission locale pour la semaine "
                "sur plateau technique.",
                "next_steps": "Préparer la semaine de conduite sur le quai ; point "
                "individuel avec Kevin Martin sur la ponctualité.",
                "skills": [],
            },
            by=of_admin,
            org=carrier,
        )


def _evaluations(operation: Operation, trainees: list, *, orgs: dict, people: dict) -> None:
    """The intermediate review (held, with the employer and the tutor) and the jury."""
    of_admin, carrier = people["of_admin"], orgs["of1"]
    employer, tutor, baker = people["employer"], _person("tuteur"), people["baker"]
    now = utcnow()
    review = evaluations.create_evaluation(
        operation,
        {
            "kind": EvaluationKind.INTERMEDIATE,
            "held_at": (now - timedelta(days=6)).replace(hour=13, minute=0, second=0),
            "place": "Forma'Centre Loiret, salle 2",
            "notes": "Bilan à mi-parcours avec les employeurs.",
            "invitee_ids": [employer.id, tutor.id, baker.id],
        },
        by=of_admin,
        org=carrier,
    )
    evaluations.record_attendance(review, [employer.id, tutor.id], by=of_admin, org=carrier)
    outcomes = [Outcome.PASSED, Outcome.TO_IMPROVE, Outcome.PASSED]
    evaluations.record_results(
        review,
        [
            {"trainee": trainee, "outcome": outcomes[n % 3], "blocks": "", "comment": ""}
            for n, trainee in enumerate(trainees)
        ],
        by=of_admin,
        org=carrier,
    )
    evaluations.create_evaluation(
        operation,
        {
            "kind": EvaluationKind.JURY,
            "held_at": (now + timedelta(days=100)).replace(hour=8, minute=0, second=0),
            "place": "Centre d'examen AFPA Olivet",
            "notes": "Jury du titre professionnel Préparateur de commandes en entrepôt.",
            "invitee_ids": [employer.id, tutor.id, baker.id],
        },
        by=of_admin,
        org=carrier,
    )


def recruiting_logistics_operation(
    title: str,
    start: date,
    approval: str,
    *,
    territories: dict,
    orgs: dict,
    people: dict,
    seasonal: bool = False,
) -> tuple[Operation, list]:
    """A logistics operation of Orléans taken to recruitment for real: design approved by
    the referent (``approval``), convention signed and validated. With ``seasonal``, two
    short contracts are promised too, one accepted by the Région. Returns it and the
    convention's (user, org) signers."""
    operation = build_logistics_operation(
        title, start, territories=territories, orgs=orgs, people=people
    )
    if seasonal:
        recruiting.add_seasonal_promises(operation, orgs=orgs, people=people)
    of_admin, carrier = people["of_admin"], orgs["of1"]
    design_services.approve_design(
        design_services.design_for(operation),
        by=people["referent_orleans"],
        org=orgs["region"],
        comment=approval,
    )
    lifecycle.advance(operation, Status.CONVENTION, by=of_admin, org=carrier)
    signers = _convention(operation, orgs=orgs, people=people)
    lifecycle.advance(operation, Status.RECRUITMENT, by=of_admin, org=carrier)
    return operation, signers


def load_demo_running_operation(*, territories: dict, orgs: dict, people: dict) -> Operation:
    """The running operation described in the module's docstring."""
    operation, signers = recruiting_logistics_operation(
        "Préparateur·rice de commandes — session de Saran",
        date.today() - timedelta(days=45),
        "Ingénierie conforme aux besoins des deux employeurs.",
        territories=territories,
        orgs=orgs,
        people=people,
        seasonal=True,
    )
    of_admin, carrier = people["of_admin"], orgs["of1"]
    trainees = _recruit(operation, orgs=orgs, people=people)
    lifecycle.advance(operation, Status.TRAINING, by=of_admin, org=carrier)
    _amendment(operation, signers, orgs=orgs, people=people)
    _immersions(operation, orgs=orgs, people=people)
    _evaluations(operation, trainees, orgs=orgs, people=people)
    return operation
