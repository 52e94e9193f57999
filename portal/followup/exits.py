"""The end of training: each trainee's exit (date, reason, its explanation), the follow-up
milestones it schedules, the certification read from the jury, and the guard of the step
training → follow-up. Flushes, never commits."""

from datetime import date

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import Organisation, User
from portal.audit.services import record
from portal.core.errors import RuleError
from portal.core.locking import lock
from portal.extensions import db
from portal.followup import rules
from portal.followup.models import Milestone, MilestoneKind
from portal.immersions.models import Evaluation, EvaluationKind, EvaluationResult
from portal.operations.events import log_event
from portal.operations.models import Operation
from portal.recruitment import services as recruitment_services
from portal.recruitment.models import ExitReason, Trainee, TraineeStatus
from portal.recruitment.rules import KEEPS_PLACE_REASONS

S = TraineeStatus
# Who has an exit (or gets one): those who entered the training.
WITH_EXIT = (S.IN_TRAINING, S.EXITED, S.CERTIFIED)
# Listed on the « Fin de formation » page: besides them, those retained who never started.
LISTED = (S.RETAINED, *WITH_EXIT)
DETAIL_MAX = 1000
NAMES_SHOWN = 10


def check_carrier(operation: Operation, org: Organisation | None) -> None:
    """Raise unless ``org`` is the organisme porteur, who records the exits."""
    if org is None or operation.provider_id != org.id:
        raise RuleError(_("Seul l'organisme de formation porteur enregistre les sorties."))


def check_step(operation: Operation) -> None:
    """Raise unless exits, outcomes and follow-ups may be recorded at the operation's step."""
    if operation.status not in rules.RECORDING_STEPS:
        raise RuleError(
            _(
                "Sorties, promesses tenues et suivis s'enregistrent pendant la formation et "
                "le suivi dans l'emploi ; l'opération est à l'étape « %(step)s ».",
                step=operation.status.title,
            )
        )


def _check_exit(trainee: Trainee, exit_date, reason, detail: str, today: date) -> None:
    if exit_date is None:
        raise RuleError(_("Indiquez la date de sortie."), "exit_date")
    if exit_date > today:
        raise RuleError(_("La date de sortie ne peut pas être dans le futur."), "exit_date")
    start = trainee.operation.session_start
    if start is not None and exit_date < start:
        raise RuleError(
            _("La date de sortie précède le début de la session (%(d)s).", d=format_date(start)),
            "exit_date",
        )
    if reason is None:
        raise RuleError(_("Indiquez le motif de sortie."), "exit_reason")
    if reason in rules.DETAILED_REASONS and not detail:
        raise RuleError(
            _("Précisez le motif « %(r)s » en quelques mots.", r=reason.title), "exit_detail"
        )
    if len(detail) > DETAIL_MAX:
        raise RuleError(_("%(n)d caractères au plus.", n=DETAIL_MAX), "exit_detail")
    if trainee.status == S.CERTIFIED and reason not in KEEPS_PLACE_REASONS:
        raise RuleError(
            _("Un·e stagiaire certifié·e sort en fin de formation ou par une embauche anticipée."),
            "exit_reason",
        )
    previous = trainee.exit_reason
    keeps = reason in KEEPS_PLACE_REASONS
    if previous is not None and (previous in KEEPS_PLACE_REASONS) != keeps:
        raise RuleError(
            _(
                "La sortie est enregistrée pour « %(r)s » : un motif qui garde la promesse "
                "d'embauche (fin de formation, embauche anticipée) et un motif qui la libère "
                "ne s'échangent pas après coup.",
                r=previous.title,
            ),
            "exit_reason",
        )


def record_exit(
    trainee: Trainee,
    *,
    exit_date: date | None,
    reason: ExitReason | None,
    detail: str = "",
    by: User,
    org: Organisation,
    today: date | None = None,
) -> list[str]:
    """Record (or correct) a trainee's exit and schedule their three follow-ups.

    A trainee in training leaves through recruitment's status change (its rules, history
    and audit; an exit that frees the promise says so in the returned French notes). A
    trainee already certified by the jury keeps that status and gets the date and reason.
    """
    operation = trainee.operation
    check_carrier(operation, org)
    check_step(operation)
    if trainee.status not in WITH_EXIT:
        raise RuleError(
            _(
                "Seul·e un·e stagiaire entré·e en formation a une sortie (statut actuel : "
                "« %(s)s »).",
                s=trainee.status.title,
            )
        )
    detail = (detail or "").strip()
    lock(trainee)  # its status, exit and milestones are read, then written
    _check_exit(trainee, exit_date, reason, detail, today or rules.today())
    notes: list[str] = []
    if trainee.status == S.IN_TRAINING:
        notes = recruitment_services.change_status(
            trainee,
            S.EXITED,
            by=by,
            org=org,
            exit_date=exit_date,
            exit_reason=reason,
            comment=detail,
        )
        action = None  # recruitment audited the status change
    else:
        action = "trainee.exit_corrected" if trainee.exit_date else "trainee.exit_recorded"
        trainee.exit_date, trainee.exit_reason = exit_date, reason
    trainee.exit_detail = detail
    schedule_milestones(trainee)
    db.session.flush()
    if action:
        record(action, actor=by, organisation=org, obj=trainee, exit_reason=reason.value)
    log_event(operation, "exit_recorded", by=by, org=org, reason=reason.value)
    return notes


def schedule_milestones(trainee: Trainee) -> list[Milestone]:
    """The trainee's three follow-ups, due from their exit date; a corrected exit date moves
    them (and their reminders start again)."""
    existing = {
        m.kind: m
        for m in db.session.scalars(select(Milestone).where(Milestone.trainee_id == trainee.id))
    }
    milestones = []
    for kind in MilestoneKind:
        due = rules.due_on(trainee.exit_date, kind)
        milestone = existing.get(kind)
        if milestone is None:
            milestone = Milestone(
                operation_id=trainee.operation_id, trainee_id=trainee.id, kind=kind, due_on=due
            )
            db.session.add(milestone)
        elif milestone.due_on != due:
            milestone.due_on = due
            milestone.version = Milestone.version + 1
            milestone.reminded_at = milestone.overdue_reminded_at = milestone.escalated_at = None
        milestones.append(milestone)
    return milestones


def names(rows) -> str:
    """« Prénom Nom » of the first rows, and how many more."""
    shown = [f"{row.first_name} {row.last_name}" for row in rows[:NAMES_SHOWN]]
    text = ", ".join(shown)
    if len(rows) > NAMES_SHOWN:
        text += " " + _("et %(n)d autre(s)", n=len(rows) - NAMES_SHOWN)
    return text


def exit_problems(operation: Operation) -> list[str]:
    """The guard training → follow-up: every trainee who entered the training has an exit
    recorded, and nobody retained is left without an entry or a withdrawal."""
    rows = db.session.execute(
        select(Trainee.first_name, Trainee.last_name, Trainee.status, Trainee.exit_date)
        .where(
            Trainee.operation_id == operation.id,
            Trainee.status.in_((S.RETAINED, S.IN_TRAINING, S.CERTIFIED)),
        )
        .order_by(Trainee.last_name, Trainee.first_name, Trainee.id)
    ).all()
    missing = [r for r in rows if r.status != S.RETAINED and r.exit_date is None]
    not_started = [r for r in rows if r.status == S.RETAINED]
    problems = []
    if missing:
        problems.append(
            _(
                "Sortie de formation à enregistrer (page « Fin de formation ») pour : %(names)s.",
                names=names(missing),
            )
        )
    if not_started:
        problems.append(
            _(
                "Retenu·e(s) sans entrée en formation : %(names)s — enregistrez l'entrée en "
                "formation puis la sortie, ou le désistement.",
                names=names(not_started),
            )
        )
    return problems


def certification_results(trainee_ids) -> dict[int, EvaluationResult]:
    """Each trainee's latest certification jury result (one query)."""
    trainee_ids = list(trainee_ids)
    if not trainee_ids:
        return {}
    results = db.session.scalars(
        select(EvaluationResult)
        .join(Evaluation, Evaluation.id == EvaluationResult.evaluation_id)
        .where(
            Evaluation.kind == EvaluationKind.JURY,
            EvaluationResult.trainee_id.in_(trainee_ids),
        )
        .order_by(Evaluation.held_at, EvaluationResult.id)
    )
    return {result.trainee_id: result for result in results}
