"""Demo: last year's session, evaluated and closed.

« Préparateur·rice de commandes — session de Fleury » ran a year and a half ago with the
same partners as the sessions of Saran and Ingré, built with the same service verbs. Its
eight trainees finished the training; the jury certified seven, one partially. Every
follow-up at exit, +3 and +6 months is answered by the organisme — Théo Vasseur could not
be reached at +6 months after three attempts (« sans nouvelles »). The organisme wrote the
evaluation, the Région accepted it and granted a prime DEFI for the training run on the
logistics company's technical platform, and the operation was closed.

Emma Guérin's data has been anonymised as ``flask retention apply`` does past the
retention period (portal/privacy/): her record reads « Stagiaire n° … », her statuses and
follow-ups still count. The demo's dates do not reach the period's end (the +6 months
follow-up plus ``RETENTION_TRAINEE_MONTHS``), so the demo applies to her alone what the
command will do to the whole session then.
"""

from datetime import date, timedelta

from portal.assessment import services as assessment
from portal.core.employment import Situation
from portal.demo.followup import answer, jury, milestone_of, recruit
from portal.demo.running import recruiting_logistics_operation
from portal.design import services as design_services
from portal.design.models import SectionKey
from portal.followup import services
from portal.followup.models import Channel, MilestoneKind
from portal.immersions.models import Outcome
from portal.operations import lifecycle
from portal.operations.models import Operation, Status
from portal.privacy.anonymise import anonymise_trainee
from portal.recruitment.models import ExitReason

TITLE = "Préparateur·rice de commandes — session de Fleury"
SESSION_DAYS_AGO = 560  # the training ended 420 days ago: the +6 months follow-up is long past
TRAINING_DAYS = 140

TRAINEES = [
    ("Vasseur", "Théo", 1998, "mission_locale", "youth"),
    ("Lebrun", "Sarah", 1990, "france_travail", "job_seekers"),
    ("Lambert", "Kevin", 1987, "france_travail", "low_qualified"),
    ("Garnier", "Inès", 1995, "france_travail", "rsa"),
    ("Faure", "Nathan", 2001, "mission_locale", "youth"),
    ("Roche", "Léa", 1992, "france_travail", "job_seekers"),
    ("Blanc", "Hugo", 1984, "france_travail", "job_seekers"),
    ("Guérin", "Emma", 1999, "mission_locale", "youth"),
]
JURY = {name: Outcome.FULL for _last, name, *_ in TRAINEES} | {"Nathan": Outcome.PARTIAL}

EVALUATION = {
    SectionKey.EVAL_WORKED: (
        "Les modules de préparation de commandes menés sur le plateau technique de "
        "l'entreprise de logistique : les stagiaires ont travaillé sur les outils qu'ils "
        "retrouvent à l'embauche.\nLes retours d'expérience collectifs après chaque immersion."
    ),
    SectionKey.EVAL_DIFFICULTIES: (
        "La mobilité : deux stagiaires sans permis pour rejoindre la zone d'activité en "
        "horaires décalés.\nTrois stagiaires injoignables au suivi à six mois, un resté "
        "« sans nouvelles »."
    ),
    SectionKey.EVAL_ADAPTATIONS: (
        "Un covoiturage organisé avec l'employeur ; un module de remise à niveau en calcul "
        "ajouté en début de parcours."
    ),
    SectionKey.EVAL_CERTIFICATION: (
        "Proposer à la branche un bloc de compétences « conduite de chariot en sécurité » "
        "intégré au titre professionnel, que les employeurs demandent à l'embauche."
    ),
}


def _followups(trainees: dict, *, of: tuple, logistics, bakery) -> None:
    """Every follow-up answered by the organisme; Théo « sans nouvelles » at +6 months."""
    employers = {name: (bakery if name in ("Léa", "Emma") else logistics) for name in trainees}
    for kind in MilestoneKind:
        for name, trainee in trainees.items():
            if name == "Théo" and kind == MilestoneKind.M6:
                continue
            answer(trainee, kind, of, Situation.CDI, employers[name])
    theo = milestone_of(trainees["Théo"], MilestoneKind.M6)
    for days in (1, 6, 12):
        services.record_attempt(
            theo,
            {"attempted_on": theo.due_on + timedelta(days=days), "channel": Channel.PHONE},
            by=of[0],
            org=of[1],
        )
    answer(
        trainees["Théo"], MilestoneKind.M6, of, Situation.NO_NEWS,
        contacted_on=theo.due_on + timedelta(days=12),
    )  # fmt: skip


def _evaluation(operation: Operation, *, orgs: dict, people: dict) -> None:
    of_admin, carrier = people["of_admin"], orgs["of1"]
    referent, region = people["referent_orleans"], orgs["region"]
    assessment.start_assessment(operation, by=of_admin, org=carrier)
    design = design_services.design_for(operation)
    for key, text in EVALUATION.items():
        section = design.section(key)
        design_services.save_section(
            section, {"text": text}, base_version=section.version,
            by=of_admin, org=carrier, steering=True,
        )  # fmt: skip
    assessment.submit_assessment(assessment.assessment_for(operation), by=of_admin, org=carrier)
    assessment.decide_assessment(
        assessment.assessment_for(operation),
        accept=True,
        comment="Bilan précis ; la proposition de bloc de compétences est transmise à la branche.",
        by=referent,
        org=region,
    )
    bonus = assessment.request_bonus(
        operation,
        "Formation cousue main : 140 heures sur le plateau technique de l'employeur, "
        "rythme d'alternance construit avec les deux employeurs, module de mobilité.",
        by=of_admin,
        org=carrier,
    )
    assessment.decide_bonus(bonus, grant=True, amount_euros=4000, by=referent, org=region)


def load_demo_closed_operation(*, territories: dict, orgs: dict, people: dict) -> Operation:
    """The closed session described in the module's docstring."""
    start = date.today() - timedelta(days=SESSION_DAYS_AGO)
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
    jury(operation, trainees, end - timedelta(days=5), JURY, orgs=orgs, people=people)
    for trainee in trainees.values():
        services.record_exit(
            trainee,
            exit_date=end,
            reason=ExitReason.END_OF_TRAINING,
            detail="",
            by=of_admin,
            org=carrier,
        )
    lifecycle.advance(operation, Status.FOLLOW_UP, by=of_admin, org=carrier)
    of = (of_admin, carrier)
    _followups(trainees, of=of, logistics=orgs["logistics"], bakery=orgs["bakery"])
    _evaluation(operation, orgs=orgs, people=people)
    lifecycle.advance(operation, Status.CLOSED, by=of_admin, org=carrier)
    anonymise_trainee(trainees["Emma"], basis="retention")
    return operation
