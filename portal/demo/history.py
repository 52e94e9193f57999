"""Demo: three earlier operations, closed before the portal opened, taken over as history.

The piloting dashboard needs more than the Orléans logistics sessions to mean something:
other bassins (Tours, Blois, Chartres), the other categories of the Parcours Métiers
(« Prépa Métiers », « Chantier formation ») and two earlier years. These operations were
run and closed before the portal: the Région took over their figures — promises,
trainees, exits, jury results, follow-ups at exit, +3 and +6 months — without their
documents (no design, no signed convention in the portal). They are written directly as
rows, which is cheap (a few hundred inserts, no Argon2, no document), and every figure
they hold follows the portal's rules: one trainee per promise, one retained answer per
follow-up, « emploi durable » derived from the contract and its duration
(``core/employment.py``). The régie des jardins of Blois promised CDD of four months, not
lasting: the Région never accepted them, so they are listed apart from « 1 stagiaire pour
1 promesse » (``recruitment/lasting.py``).

Their employers are companies of the bassins without an account in the demo; the
organismes porteurs are the demo's: Touraine Compétences Formation (Tours, Blois) and
Forma'Centre Loiret (Chartres).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from portal.accounts.models import Organisation, OrgKind
from portal.core.employment import ContractType, Situation
from portal.extensions import db
from portal.followup.models import (
    Answer,
    Channel,
    Milestone,
    MilestoneKind,
    MilestoneStatus,
    NotKeptReason,
    Party,
    PromiseOutcome,
    RetainedAnswer,
    RetainedBasis,
    WorkingTime,
)
from portal.followup.rules import due_on
from portal.immersions.models import Evaluation, EvaluationKind, EvaluationResult, Outcome
from portal.lots.models import Category, MarketLot
from portal.operations.models import (
    DiagnosisFigure,
    EmployerNeed,
    Funding,
    NeedsAnalysis,
    Operation,
    Participant,
    ParticipantRole,
    Position,
    Status,
)
from portal.recruitment.models import ExitReason, JobPromise, Trainee, TraineeStatus

# What became of each trainee: (exit reason, jury outcome, promise kept, situation at exit,
# +3 and +6 months as (situation, months or None, with the promising employer?)).
CDI = (Situation.CDI, None, True)
CDD12 = (Situation.CDD, 12, True)
CDD3 = (Situation.CDD, 3, False)
INTERIM = (Situation.INTERIM, 2, False)
SEEKING = (Situation.JOB_SEEKING, None, False)
TRAINING = (Situation.TRAINING, None, False)
END = ExitReason.END_OF_TRAINING


@dataclass(frozen=True)
class Path:
    first_name: str
    last_name: str
    exit: ExitReason
    jury: Outcome | None
    kept: bool | None
    situations: tuple  # at exit, +3, +6 months


@dataclass(frozen=True)
class Past:
    title: str
    category: Category
    territory: str
    lot: str
    provider: str
    rome_code: str
    trades: str
    days_ago: int  # session start
    training_days: int
    target: int
    employers: tuple  # (name, job title, contract, its months or None, count)
    paths: tuple
    diagnosis: str = ""
    offers: int = 0  # job offers on the bassin, the diagnosis' key figure


PAST = (
    Past(
        "Prépa Métiers — découverte des métiers du bâtiment, session de Joué-lès-Tours",
        Category.PREPA_METIERS,
        "TRS",
        "2024-37-20",
        "of2",
        "F1703",
        "Maçonnerie, plâtrerie, peinture : découverte et remise à niveau",
        900,
        120,
        8,
        (
            ("Bâtiment Touraine Rénovation", "Aide-maçon·ne", ContractType.CDI, None, 3),
            ("Peintures du Cher et de l'Indre", "Peintre en bâtiment", ContractType.CDD, 12, 3),
        ),
        (
            Path("Bilal", "Amrani", END, Outcome.FULL, True, (CDI, CDI, CDI)),
            Path("Céline", "Brunet", END, Outcome.FULL, True, (CDI, CDI, CDI)),
            Path("Dylan", "Caron", END, Outcome.PARTIAL, False, (INTERIM, CDD3, CDD12)),
            Path("Fatou", "Sy", END, Outcome.FULL, True, (CDD12, CDD12, CDD12)),
            Path("Jordan", "Lemoine", ExitReason.DROPOUT, None, None, (SEEKING, SEEKING, TRAINING)),
            Path("Maëlle", "Poirier", END, Outcome.FULL, True, (CDD12, CDD12, SEEKING)),
        ),
        "Le second œuvre du bâtiment peine à recruter au sud de l'agglomération tourangelle ; "
        "les candidats manquent des prérequis pour entrer directement en qualification.",
        148,
    ),
    Past(
        "Chantier formation — aménagement des espaces verts, session de Blois",
        Category.CHANTIER_FORMATION,
        "BLO",
        "2024-41-04",
        "of2",
        "A1203",
        "Entretien des espaces verts, petits aménagements paysagers",
        600,
        150,
        8,
        (
            ("Paysages du Loir-et-Cher", "Ouvrier·ère paysagiste", ContractType.CDI, None, 4),
            ("Ville de Blois — régie des jardins", "Jardinier·ère", ContractType.CDD, 4, 3),
        ),
        (
            Path("Antoine", "Giraud", END, Outcome.FULL, True, (CDI, CDI, CDI)),
            Path("Inès", "Bouvier", END, Outcome.FULL, True, (CDI, CDI, CDI)),
            Path("Karim", "Haddou", END, Outcome.FULL, True, (CDI, CDI, CDI)),
            Path("Laura", "Meunier", END, Outcome.PARTIAL, False, (SEEKING, INTERIM, CDD12)),
            Path("Nicolas", "Perret", END, Outcome.FULL, True, (CDD3, CDD3, SEEKING)),
            Path("Sonia", "Vidal", ExitReason.EARLY_HIRE, None, True, (CDI, CDI, CDI)),
            Path("Tom", "Leclerc", END, Outcome.NOT_OBTAINED, False, (SEEKING, SEEKING, INTERIM)),
        ),
        "Les entreprises du paysage du Blaisois recrutent chaque printemps ; le chantier "
        "formation met les stagiaires en situation réelle sur les espaces de la ville.",
        96,
    ),
    Past(
        "Prépa Métiers — industrie et logistique, session de Chartres",
        Category.PREPA_METIERS,
        "CHR",
        "2024-28-02",
        "of1",
        "H2903",
        "Découverte des métiers de l'industrie et de la logistique, remise à niveau",
        460,
        110,
        10,
        (
            ("Plasturgie de Beauce", "Opérateur·rice de production", ContractType.CDI, None, 3),
            ("Entrepôts du Perche", "Préparateur·rice de commandes", ContractType.CDD, 12, 3),
        ),
        (
            Path("Aurélien", "Marty", END, Outcome.FULL, True, (CDI, CDI, CDI)),
            Path("Chaïma", "Bensaïd", END, Outcome.FULL, True, (CDI, CDI, CDI)),
            Path("Grégory", "Texier", END, Outcome.FULL, False, (INTERIM, INTERIM, CDD12)),
            Path("Justine", "Collet", END, Outcome.FULL, True, (CDD12, CDD12, CDD12)),
            Path("Mamadou", "Keita", END, Outcome.PARTIAL, True, (CDD12, CDD12, CDI)),
            Path("Pauline", "Rey", ExitReason.HEALTH, None, None, (SEEKING, SEEKING, SEEKING)),
        ),
        "Plasturgie et logistique représentent un emploi industriel sur trois du bassin "
        "chartrain ; la Prépa Métiers prépare l'entrée en qualification ou l'embauche.",
        231,
    ),
)


def _at(day: date) -> datetime:
    return datetime.combine(day, time(9, 0))


def _operation(
    past: Past, *, territories, orgs, people, siret
) -> tuple[Operation, list[JobPromise]]:
    start = date.today() - timedelta(days=past.days_ago)
    end = start + timedelta(days=past.training_days)
    provider = orgs[past.provider]
    author = people["of_admin" if past.provider == "of1" else "of2_admin"]
    lot = db.session.scalar(select(MarketLot).where(MarketLot.number == past.lot))
    operation = Operation(
        title=past.title,
        category=past.category,
        territory=territories[past.territory],
        rome_code=past.rome_code,
        trades=past.trades,
        status=Status.CLOSED,
        funding=Funding.LOT,
        lot=lot,
        provider=provider,
        positions_estimate=sum(count for *_rest, count in past.employers),
        context="Opération menée avant l'ouverture du portail : chiffres repris par la Région.",
        reported_by=author,
        reported_by_org=provider,
        reported_at=_at(start - timedelta(days=150)),
        acknowledged_at=_at(start - timedelta(days=148)),
        session_start=start,
        session_end=end,
        target_headcount=past.target,
        hours_centre=past.training_days * 3,
        hours_company=past.training_days,
    )
    db.session.add(operation)
    analysis = NeedsAnalysis(
        operation=operation,
        target_publics=["job_seekers", "youth"],
        barriers=["mobility"],
        diagnosis=past.diagnosis,
        sent_at=_at(start - timedelta(days=100)),
    )
    db.session.add(analysis)
    db.session.add(
        DiagnosisFigure(
            analysis=analysis,
            label="Offres d'emploi du métier sur le bassin (12 mois)",
            value=str(past.offers),
            source="France Travail",
        )
    )
    for org, role in (
        (orgs["region"], ParticipantRole.REGION),
        (provider, ParticipantRole.PROVIDER),
    ):
        db.session.add(Participant(operation=operation, organisation=org, role=role, by_right=True))
    promises = []
    for name, job, contract, months, count in past.employers:
        employer = Organisation(
            kind=OrgKind.EMPLOYER, name=name, territory=operation.territory, siret=siret()
        )
        need = EmployerNeed(operation=operation, organisation=employer)
        position = Position(
            need=need, job_title=job, count=count, contract_type=contract, duration_months=months
        )
        db.session.add_all([employer, need, position])
        db.session.add(
            Participant(operation=operation, organisation=employer, role=ParticipantRole.EMPLOYER)
        )
        for rank in range(1, count + 1):
            promise = JobPromise(
                operation=operation,
                organisation=employer,
                position=position,
                rank=rank,
                job_title=job,
                contract_type=contract,
                duration_months=months,
                planned_start=end + timedelta(days=7),
            )
            promises.append(promise)
    db.session.add_all(promises)
    db.session.flush()
    return operation, promises


def _answer(milestone: Milestone, situation: tuple, promise, *, provider, author) -> None:
    kind, months, with_promiser = situation
    employer = None
    if kind.is_salaried:
        employer = promise.organisation if with_promiser and promise else None
    answer = Answer(
        milestone=milestone,
        party=Party.PROVIDER,
        organisation_id=provider.id,
        user_id=author.id,
        situation=kind,
        duration_months=months,
        employer_id=getattr(employer, "id", None),
        employer_name="" if employer or not kind.is_salaried else "Employeur hors opération",
        working_time=WorkingTime.FULL_TIME if kind.is_salaried else None,
        contacted_on=milestone.due_on + timedelta(days=3),
        channel=Channel.PHONE,
    )
    db.session.add(answer)
    db.session.flush()
    db.session.add(RetainedAnswer(milestone=milestone, answer=answer, basis=RetainedBasis.SINGLE))
    milestone.status = MilestoneStatus.RETAINED


def _trainees(operation: Operation, past: Past, promises, *, provider, author) -> None:
    end = operation.session_end
    jury = Evaluation(
        operation=operation,
        kind=EvaluationKind.JURY,
        held_at=_at(end - timedelta(days=3)),
        place="Centre d'examen",
        notes="Jury du titre visé (résultats repris).",
    )
    db.session.add(jury)
    for path, promise in zip(past.paths, promises, strict=False):
        exit_date = end if path.exit == END else end - timedelta(days=40)
        keeps = path.exit in (END, ExitReason.EARLY_HIRE)
        trainee = Trainee(
            operation=operation,
            first_name=path.first_name,
            last_name=path.last_name,
            status=TraineeStatus.CERTIFIED if path.jury == Outcome.FULL else TraineeStatus.EXITED,
            exit_date=exit_date,
            exit_reason=path.exit,
            promise=promise if keeps else None,
        )
        db.session.add(trainee)
        if path.jury is not None:
            db.session.add(EvaluationResult(evaluation=jury, trainee=trainee, outcome=path.jury))
        if keeps and path.kept is not None:
            db.session.add(_outcome(promise, path.kept, exit_date))
        db.session.flush()
        for kind, situation in zip(MilestoneKind, path.situations, strict=True):
            milestone = Milestone(
                operation=operation, trainee=trainee, kind=kind, due_on=due_on(exit_date, kind)
            )
            db.session.add(milestone)
            db.session.flush()
            _answer(
                milestone, situation, promise if keeps else None, provider=provider, author=author
            )


def _outcome(promise: JobPromise, kept: bool, exit_date: date) -> PromiseOutcome:
    if kept:
        # The contract signed is the one promised, for the months promised.
        return PromiseOutcome(
            promise=promise,
            kept=True,
            contract=promise.contract_type.situation,
            duration_months=promise.duration_months,
            start_date=exit_date + timedelta(days=7),
            weekly_hours=35.0,
        )
    return PromiseOutcome(
        promise=promise,
        kept=False,
        reason=NotKeptReason.CANDIDATE_REJECTED,
        comment="Poste pourvu autrement (repris de l'historique).",
    )


def load_demo_history(*, territories: dict, orgs: dict, people: dict, siret) -> None:
    """The three closed operations described in the module's docstring; ``siret()`` gives
    each new employer a fictitious SIRET."""
    for past in PAST:
        operation, promises = _operation(
            past, territories=territories, orgs=orgs, people=people, siret=siret
        )
        author = people["of_admin" if past.provider == "of1" else "of2_admin"]
        _trainees(operation, past, promises, provider=orgs[past.provider], author=author)
