"""The rows of the operations and promises exports: one SELECT each, read in batches.

Each export is a single statement whose per-operation figures come from grouped
subqueries joined to the operations (never one query per operation), executed with
``yield_per`` so that rows are fetched (server-side cursor on PostgreSQL) and written a
batch at a time: memory stays flat however many operations the filters select.
"""

from collections.abc import Iterator

from flask_babel import gettext as _
from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import aliased

from portal.accounts.models import Organisation, Territory
from portal.core.employment import (
    SALARIED,
    contract_is_lasting,
    contract_label,
    contract_lasting_sql,
    employment_sql,
    lasting_sql,
)
from portal.extensions import db
from portal.followup.indicators import certified_columns
from portal.followup.models import Answer, Milestone, MilestoneKind, PromiseOutcome, RetainedAnswer
from portal.followup.rules import Progress, progress_sql
from portal.lots.models import MarketLot
from portal.operations.models import Operation
from portal.recruitment.models import ExitReason, JobPromise, Trainee, TraineeStatus
from portal.recruitment.rules import holds_place_sql
from portal.reporting.exports import Column

BATCH = 500


def stream(query) -> Iterator:
    """The rows of ``query``, fetched in batches as they are iterated.

    The statement is built by the caller while the request runs (it reads the current
    user); this generator executes it only when the response is written, after the view
    returned, in the session of the streaming context."""
    yield from db.session.execute(query)


def _title(value) -> str | None:
    return value.title if value is not None else None


def _promise_counts(scope: Select):
    lasting = contract_lasting_sql(JobPromise.contract_type, JobPromise.duration_months)
    return (
        select(
            JobPromise.operation_id.label("operation_id"),
            func.count(JobPromise.id).label("promises"),
            func.count(case((lasting, 1))).label("lasting"),
            func.count(case((PromiseOutcome.kept.is_(True), 1))).label("kept"),
            func.count(case((PromiseOutcome.kept.is_(False), 1))).label("not_kept"),
        )
        .outerjoin(PromiseOutcome, PromiseOutcome.promise_id == JobPromise.id)
        .where(JobPromise.operation_id.in_(scope))
        .group_by(JobPromise.operation_id)
        .subquery()
    )


def _trainee_counts(scope: Select):
    full, partial = certified_columns()
    return (
        select(
            Trainee.operation_id.label("operation_id"),
            func.count(case((holds_place_sql(), 1))).label("recruited"),
            func.count(case((Trainee.status == TraineeStatus.IN_TRAINING, 1))).label("training"),
            func.count(case((Trainee.exit_reason == ExitReason.END_OF_TRAINING, 1))).label(
                "completed"
            ),
            full.label("full"),
            partial.label("partial"),
        )
        .where(Trainee.operation_id.in_(scope))
        .group_by(Trainee.operation_id)
        .subquery()
    )


MEASURES = ("retained", "employed", "lasting", "promiser")


def _employment_counts(scope: Select, *, today, window):
    """Per operation: for each milestone, retained answers, in employment, lasting, with
    the promising employer; and the overdue follow-ups."""
    promiser = and_(
        Answer.situation.in_(sorted(SALARIED)), Answer.employer_id == JobPromise.organisation_id
    )
    conditions = {
        "retained": RetainedAnswer.id.is_not(None),
        "employed": employment_sql(Answer.situation),
        "lasting": lasting_sql(Answer.situation, Answer.duration_months),
        "promiser": promiser,
    }
    columns = [
        func.count(case((and_(Milestone.kind == kind, condition), 1))).label(f"{kind.value}_{name}")
        for kind in MilestoneKind
        for name, condition in conditions.items()
    ]
    overdue = progress_sql(Progress.OVERDUE, today=today, window=window)
    return (
        select(
            Milestone.operation_id.label("operation_id"),
            *columns,
            func.count(case((overdue, 1))).label("overdue"),
        )
        .join(Trainee, Trainee.id == Milestone.trainee_id)
        .outerjoin(JobPromise, JobPromise.id == Trainee.promise_id)
        .outerjoin(RetainedAnswer, RetainedAnswer.milestone_id == Milestone.id)
        .outerjoin(Answer, Answer.id == RetainedAnswer.answer_id)
        .where(Milestone.operation_id.in_(scope))
        .group_by(Milestone.operation_id)
        .subquery()
    )


def operation_columns() -> list[Column]:
    milestone_headers = {
        "retained": _("%(suivi)s : suivis renseignés"),
        "employed": _("%(suivi)s : en emploi"),
        "lasting": _("%(suivi)s : en emploi durable"),
        "promiser": _("%(suivi)s : chez l'employeur de la promesse"),
    }
    return [
        Column(_("N°"), 7),
        Column(_("Opération"), 40),
        Column(_("Étape"), 20),
        Column(_("Catégorie"), 20),
        Column(_("Bassin"), 14),
        Column(_("Lot"), 10),
        Column(_("Organisme porteur"), 28),
        Column(_("Financement"), 18),
        Column(_("Début de session"), 12),
        Column(_("Fin de session"), 12),
        Column(_("Effectif ciblé"), 10),
        Column(_("Promesses d'embauche"), 11),
        Column(_("Promesses en emploi durable"), 11),
        Column(_("Promesses tenues"), 10),
        Column(_("Promesses non tenues"), 10),
        Column(_("Stagiaires recruté·es"), 11),
        Column(_("En formation"), 10),
        Column(_("Parcours complets"), 10),
        Column(_("Certifications complètes"), 12),
        Column(_("Certifications partielles"), 12),
        *(
            Column(header % {"suivi": kind.title}, 14)
            for kind in MilestoneKind
            for header in milestone_headers.values()
        ),
        Column(_("Suivis en retard"), 10),
    ]


def operation_rows(scope: Select, *, today, window) -> Iterator[tuple]:
    """One row per operation in scope, with its figures (one statement, in batches)."""
    promises = _promise_counts(scope)
    trainees = _trainee_counts(scope)
    employment = _employment_counts(scope, today=today, window=window)
    provider = aliased(Organisation)
    zero = lambda column: func.coalesce(column, 0)  # noqa: E731 - an operation without rows
    query = (
        select(
            Operation.id,
            Operation.title,
            Operation.status,
            Operation.category,
            Territory.name,
            MarketLot.number,
            provider.name,
            Operation.funding,
            Operation.session_start,
            Operation.session_end,
            Operation.target_headcount,
            zero(promises.c.promises),
            zero(promises.c.lasting),
            zero(promises.c.kept),
            zero(promises.c.not_kept),
            zero(trainees.c.recruited),
            zero(trainees.c.training),
            zero(trainees.c.completed),
            zero(trainees.c.full),
            zero(trainees.c.partial),
            *(
                zero(employment.c[f"{kind.value}_{name}"])
                for kind in MilestoneKind
                for name in MEASURES
            ),
            zero(employment.c.overdue),
        )
        .join(Territory, Territory.id == Operation.territory_id)
        .outerjoin(MarketLot, MarketLot.id == Operation.lot_id)
        .outerjoin(provider, provider.id == Operation.provider_id)
        .outerjoin(promises, promises.c.operation_id == Operation.id)
        .outerjoin(trainees, trainees.c.operation_id == Operation.id)
        .outerjoin(employment, employment.c.operation_id == Operation.id)
        .where(Operation.id.in_(scope))
        .order_by(Operation.id)
        .execution_options(yield_per=BATCH)
    )
    return map(_operation_row, stream(query))


def _operation_row(row) -> tuple:
    row = list(row)
    row[2], row[3], row[7] = _title(row[2]), _title(row[3]), _title(row[7])
    return tuple(row)


def promise_columns() -> list[Column]:
    return [
        Column(_("N° d'opération"), 9),
        Column(_("Opération"), 40),
        Column(_("Employeur"), 30),
        Column(_("Poste"), 30),
        Column(_("Contrat promis"), 20),
        Column(_("Emploi durable"), 10),
        Column(_("Embauche prévue le"), 12),
        Column(_("Stagiaire positionné·e"), 10),
        Column(_("Résultat"), 12),
        Column(_("Contrat signé"), 16),
        Column(_("Durée (mois)"), 8),
        Column(_("Début du contrat"), 12),
        Column(_("Motif (non tenue)"), 30),
    ]


def promise_rows(scope: Select) -> Iterator[tuple]:
    """One row per job promise of the operations in scope: no personal data (the trainee
    holding it is only said to exist)."""
    query = (
        select(
            Operation.id,
            Operation.title,
            Organisation.name,
            JobPromise.job_title,
            JobPromise.contract_type,
            JobPromise.duration_months,
            JobPromise.planned_start,
            Trainee.id,
            PromiseOutcome.kept,
            PromiseOutcome.contract,
            PromiseOutcome.duration_months,
            PromiseOutcome.start_date,
            PromiseOutcome.reason,
        )
        .join(Operation, Operation.id == JobPromise.operation_id)
        .join(Organisation, Organisation.id == JobPromise.organisation_id)
        .outerjoin(Trainee, Trainee.promise_id == JobPromise.id)
        .outerjoin(PromiseOutcome, PromiseOutcome.promise_id == JobPromise.id)
        .where(JobPromise.operation_id.in_(scope))
        .order_by(Operation.id, JobPromise.id)
        .execution_options(yield_per=BATCH)
    )
    return map(_promise_row, stream(query))


def _promise_row(row) -> tuple:
    (op_id, title, employer, job, contract, promised, start,
     trainee, kept, signed, months, began, reason) = row  # fmt: skip
    outcome = None if kept is None else (_("tenue") if kept else _("non tenue"))
    return (
        op_id,
        title,
        employer,
        job,
        contract_label(contract, promised),
        contract_is_lasting(contract, promised),
        start,
        trainee is not None,
        outcome,
        _title(signed),
        months,
        began,
        _title(reason),
    )
