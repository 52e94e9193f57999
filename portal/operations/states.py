"""The lifecycle of an operation, declared as data: transitions and their guards.

A guard returns the list of unmet conditions, in French; an empty list lets the step
happen. Steps whose feature has not landed yet say so instead of passing silently.
"""

from collections.abc import Callable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.extensions import db
from portal.operations.models import (
    EmployerNeed,
    Funding,
    NeedsAnalysis,
    Operation,
    Position,
    Status,
)

FORWARD = [
    Status.NEED_REPORTED,
    Status.ANALYSIS,
    Status.CO_DESIGN,
    Status.CONVENTION,
    Status.RECRUITMENT,
    Status.TRAINING,
    Status.FOLLOW_UP,
    Status.CLOSED,
]

Guard = Callable[[Operation], list[str]]


def guard_to_analysis(operation: Operation) -> list[str]:
    """The Région acknowledged the need and the funding is settled."""
    unmet = []
    if operation.acknowledged_at is None:
        unmet.append(_("La Région n'a pas encore accusé réception du besoin."))
    if operation.funding == Funding.PENDING:
        unmet.append(
            _(
                "Le besoin est hors marché : la Région doit décider d'une consultation "
                "au titre du Fonds réactifs emploi formation."
            )
        )
    elif operation.funding == Funding.DECLINED:
        unmet.append(_("La Région n'a pas retenu ce besoin hors marché."))
    if operation.provider_id is None:
        unmet.append(_("Aucun organisme de formation porteur n'est désigné."))
    return unmet


def guard_to_co_design(operation: Operation) -> list[str]:
    """At least one employer need with positions, and the analysis answered by the Région."""
    unmet = []
    positions = db.session.scalar(
        select(func.count(Position.id))
        .join(EmployerNeed, EmployerNeed.id == Position.need_id)
        .where(EmployerNeed.operation_id == operation.id)
    )
    if not positions:
        unmet.append(_("Aucun employeur n'a encore indiqué de poste à pourvoir."))
    analysis = db.session.scalar(
        select(NeedsAnalysis).where(NeedsAnalysis.operation_id == operation.id)
    )
    if analysis is None or not analysis.target_publics:
        unmet.append(_("Les publics visés de l'analyse des besoins ne sont pas renseignés."))
    if analysis is None or analysis.sent_at is None:
        unmet.append(_("L'analyse des besoins n'a pas été transmise à la Région."))
    elif analysis.answered_at is None or analysis.answered_at < analysis.sent_at:
        unmet.append(_("La Région n'a pas encore répondu à l'analyse des besoins transmise."))
    return unmet


def guard_to_convention(operation: Operation) -> list[str]:
    """The co-design is complete, consistent, free of blocking comments and approved."""
    # Imported here: the design area is built on the operations area, not the reverse.
    from portal.design.services import design_for, design_problems

    return design_problems(design_for(operation))


def guard_to_recruitment(operation: Operation) -> list[str]:
    """The Région validated a version of the partnership convention."""
    from portal.conventions.services import recruitment_problems

    return recruitment_problems(operation)


def guard_to_training(operation: Operation) -> list[str]:
    """A trainee in training and the session started (or an explicit early-start decision)."""
    from portal.recruitment.services import training_start_problems

    return training_start_problems(operation)


def not_available_yet(step: str) -> Guard:
    """A guard for a step whose feature is not in the portal yet: it always explains why."""

    def guard(operation: Operation) -> list[str]:
        return [
            _("L'étape « %(step)s » n'est pas encore disponible dans le portail.", step=str(step))
        ]

    return guard


TRANSITIONS: dict[tuple[Status, Status], Guard] = {
    (Status.NEED_REPORTED, Status.ANALYSIS): guard_to_analysis,
    (Status.ANALYSIS, Status.CO_DESIGN): guard_to_co_design,
    (Status.CO_DESIGN, Status.CONVENTION): guard_to_convention,
    (Status.CONVENTION, Status.RECRUITMENT): guard_to_recruitment,
    (Status.RECRUITMENT, Status.TRAINING): guard_to_training,
    (Status.TRAINING, Status.FOLLOW_UP): not_available_yet(_l("Suivi dans l'emploi")),
    (Status.FOLLOW_UP, Status.CLOSED): not_available_yet(_l("Clôture")),
}


def next_status(operation: Operation) -> Status | None:
    """The step after the current one, if any."""
    for source, target in TRANSITIONS:
        if source == operation.status:
            return target
    return None


def unmet_conditions(operation: Operation, target: Status) -> list[str]:
    """Why ``operation`` cannot move to ``target`` now (empty when it can)."""
    guard = TRANSITIONS.get((operation.status, target))
    if guard is None:
        return [_("Cette étape ne suit pas l'étape actuelle de l'opération.")]
    return guard(operation)


def can_cancel(operation: Operation) -> bool:
    return operation.status not in (Status.CLOSED, Status.CANCELLED)
