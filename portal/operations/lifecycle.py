"""The lifecycle of an operation, declared as data, and the verbs that move it.

This module sits above the areas: a transition starts what its step needs (the design,
the convention, the job promises), so it imports those areas normally, and no area
imports it. A guard returns the unmet conditions in French; an empty list lets the
step happen.
"""

from flask_babel import gettext as _

from portal.accounts.models import Organisation, User
from portal.assessment.services import closing_problems
from portal.conventions.services import (
    recruitment_problems,
    start_convention,
    void_for_cancellation,
)
from portal.core.errors import RuleError
from portal.core.locking import lock
from portal.design.services import design_for, design_problems
from portal.design.start import start_design
from portal.followup.services import exit_problems
from portal.operations.events import log_event, tell_region
from portal.operations.models import FORWARD_STEPS, Operation, Status
from portal.operations.states import (
    Guard,
    guard_to_analysis,
    guard_to_co_design,
)
from portal.recruitment.services import create_promises, training_start_problems

FORWARD = list(FORWARD_STEPS)


def guard_to_convention(operation: Operation) -> list[str]:
    """The co-design is complete, consistent, free of blocking comments and approved."""
    return design_problems(design_for(operation))


TRANSITIONS: dict[tuple[Status, Status], Guard] = {
    (Status.NEED_REPORTED, Status.ANALYSIS): guard_to_analysis,
    (Status.ANALYSIS, Status.CO_DESIGN): guard_to_co_design,
    (Status.CO_DESIGN, Status.CONVENTION): guard_to_convention,
    (Status.CONVENTION, Status.RECRUITMENT): recruitment_problems,
    (Status.RECRUITMENT, Status.TRAINING): training_start_problems,
    (Status.TRAINING, Status.FOLLOW_UP): exit_problems,
    (Status.FOLLOW_UP, Status.CLOSED): closing_problems,
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
    """Any step but the end ones can be cancelled."""
    return operation.status not in (Status.CLOSED, Status.CANCELLED)


def advance(operation: Operation, target: Status, *, by: User, org: Organisation) -> None:
    """Move the operation to ``target`` if the transition's guard is satisfied."""
    lock(operation)
    unmet = unmet_conditions(operation, target)
    if unmet:
        raise RuleError(" ".join(unmet))
    previous = operation.status
    operation.status = target
    log_event(operation, "advanced", by=by, org=org, source=previous.value, target=target.value)
    if target == Status.CO_DESIGN:
        start_design(operation, by=by, org=org)
    elif target == Status.CONVENTION:
        start_convention(operation, by=by, org=org)
    elif target == Status.RECRUITMENT:
        create_promises(operation)


def cancel(operation: Operation, *, reason: str, by: User, org: Organisation) -> None:
    """Cancel an operation that is not closed, with a reason."""
    lock(operation)
    if not can_cancel(operation):
        raise RuleError(_("Une opération close ou déjà annulée ne peut pas être annulée."))
    if not reason.strip():
        raise RuleError(_("Indiquez le motif de l'annulation."), "reason")
    previous = operation.status
    operation.status = Status.CANCELLED
    operation.cancel_reason = reason.strip()
    # Before the timeline event: its audit record takes the chain's lock, which a signer
    # holding the version's lock waits for (a deadlock on PostgreSQL the other way round).
    void_for_cancellation(operation, by=by, org=org)
    log_event(operation, "cancelled", by=by, org=org, source=previous.value, reason=reason.strip())
    tell_region(
        operation.territory,
        kind="cancelled",
        by=by,
        operation=operation,
        message=_(
            "%(org)s annule l'opération « %(title)s » (étape « %(step)s ») : %(reason)s",
            org=org.name,
            title=operation.title,
            step=previous.title,
            reason=reason.strip(),
        ),
        endpoint="operations.show_operation",
        operation_id=operation.id,
        email_subject=_("Opération DEFI annulée : %(title)s", title=operation.title),
    )
