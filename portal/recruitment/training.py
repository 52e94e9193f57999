"""The start of the training: the guard recruitment → training and the explicit decision
to start before the session's date (kept in the operation's timeline)."""

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.accounts.models import Organisation, OrgKind, User
from portal.core.errors import RuleError
from portal.core.locking import lock
from portal.core.time import paris_today
from portal.extensions import db
from portal.notifications.services import notify, organisation_members
from portal.operations.events import log_event, referents_for
from portal.operations.models import Operation, Status
from portal.recruitment import queries
from portal.recruitment.models import Trainee, TraineeStatus


def decide_early_start(operation: Operation, reason: str, *, by: User, org: Organisation):
    """The Région or the organisme porteur decides that the training may start before the
    session's start date; the other side is told. The operation is locked first: a
    cancellation or a step forward served at the same time is seen, not overtaken."""
    lock(operation)
    region = org is not None and org.kind == OrgKind.REGION
    if not region and (org is None or operation.provider_id != org.id):
        raise RuleError(_("Seuls la Région et l'organisme porteur décident du démarrage."))
    if operation.status != Status.RECRUITMENT:
        raise RuleError(_("Le démarrage se décide pendant l'étape de recrutement."))
    reason = (reason or "").strip()
    if not reason:
        raise RuleError(_("Indiquez le motif de la décision."), "reason")
    event = log_event(operation, queries.EARLY_START, by=by, org=org, reason=reason)
    if region:
        told = organisation_members(operation.provider_id) if operation.provider_id else []
    else:
        told = referents_for(operation.territory)
    notify(
        told,
        kind=queries.EARLY_START,
        operation=operation,
        message=_(
            "%(org)s décide que la formation « %(title)s » peut démarrer avant la date de "
            "session : %(reason)s",
            org=org.name,
            title=operation.title,
            reason=reason,
        ),
        endpoint="recruitment.show_recruitment",
        operation_id=operation.id,
    )
    return event


def training_start_problems(operation: Operation) -> list[str]:
    """The guard recruitment → training: a trainee in training, and the session's start
    date reached or an explicit decision to start earlier."""
    problems = []
    in_training = db.session.scalar(
        select(func.count(Trainee.id)).where(
            Trainee.operation_id == operation.id, Trainee.status == TraineeStatus.IN_TRAINING
        )
    )
    if not in_training:
        problems.append(_("Aucun·e stagiaire n'est encore entré·e en formation."))
    started = operation.session_start is not None and operation.session_start <= paris_today()
    if not started and not queries.has_early_start_decision(operation):
        if operation.session_start is None:
            problems.append(
                _(
                    "La date de début de session n'est pas fixée, et aucune décision de "
                    "démarrage anticipé n'est enregistrée."
                )
            )
        else:
            problems.append(
                _(
                    "La session commence le %(d)s : attendez cette date, ou que la Région ou "
                    "l'organisme porteur enregistre une décision de démarrage anticipé.",
                    d=format_date(operation.session_start, "long"),
                )
            )
    return problems
