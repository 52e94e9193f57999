"""The lifecycle of an operation, declared as data, and the verbs that move it.

This module sits above the areas: a transition starts what its step needs (the design,
the convention, the job promises), so it imports those areas normally, and no area
imports it. A guard returns the unmet conditions in French; an empty list lets the
step happen.
"""

from datetime import date

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from portal.accounts.models import Organisation, OrgKind, User
from portal.assessment.services import closing_problems
from portal.conventions.services import (
    recruitment_problems,
    start_convention,
    void_for_cancellation,
)
from portal.conventions.state import convention_for, open_version
from portal.core.errors import RuleError
from portal.core.locking import lock
from portal.core.memo import remember
from portal.design.services import design_for, design_problems
from portal.design.start import start_design
from portal.extensions import db
from portal.followup.services import exit_problems
from portal.immersions.models import Immersion
from portal.notifications.services import notify, organisation_members
from portal.operations.events import log_event, referents_for, tell_region
from portal.operations.models import FORWARD_STEPS, Operation, Status
from portal.operations.states import (
    Guard,
    guard_to_analysis,
    guard_to_co_design,
)
from portal.recruitment.models import Trainee, TraineeStatus
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


def unmet_for_page(operation: Operation, target: Status) -> list[str]:
    """``unmet_conditions`` for a page, read once per request (the step card and « À
    faire » both ask). ``advance`` reads the guard itself, under its lock."""
    return remember(
        ("lifecycle.unmet", operation.id, operation.status, target),
        lambda: unmet_conditions(operation, target),
    )


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


def may_cancel(operation: Operation, *, by: User, org: Organisation | None) -> bool:
    """Cancelling is irreversible: an admin of the carrier OF or the Région decides it."""
    if org is None:
        return False
    if org.kind == OrgKind.REGION:
        return True
    if org.id != operation.provider_id:
        return False
    # ``by.memberships``: loaded with the user on every request (no query for the viewer).
    return any(m.organisation_id == org.id and m.is_admin for m in by.active_memberships())


def cancellation_impact(operation: Operation) -> list[str]:
    """What cancelling ``operation`` stops, in French, for the confirmation step."""
    impact = []
    convention = convention_for(operation)
    current = open_version(convention) if convention else None
    if current is not None:
        impact.append(
            _(
                "La version %(n)s de la convention, en cours, sera annulée avec ses signatures.",
                n=current.number,
            )
        )
    trainees = dict(
        db.session.execute(
            select(Trainee.status, func.count(Trainee.id))
            .where(Trainee.operation_id == operation.id)
            .group_by(Trainee.status)
        ).all()
    )
    in_training = trainees.get(TraineeStatus.IN_TRAINING, 0)
    if in_training:
        impact.append(
            ngettext(
                "%(num)d stagiaire en formation verra sa formation arrêtée.",
                "%(num)d stagiaires en formation verront leur formation arrêtée.",
                in_training,
            )
        )
    waiting = trainees.get(TraineeStatus.CANDIDATE, 0) + trainees.get(TraineeStatus.RETAINED, 0)
    if waiting:
        impact.append(
            ngettext(
                "%(num)d candidat·e ou stagiaire retenu·e ne pourra pas entrer en formation.",
                "%(num)d candidat·es ou stagiaires retenu·es ne pourront pas entrer en formation.",
                waiting,
            )
        )
    planned = db.session.scalar(
        select(func.count(Immersion.id)).where(
            Immersion.operation_id == operation.id, Immersion.ends_on >= date.today()
        )
    )
    if planned:
        impact.append(
            ngettext(
                "%(num)d période d'immersion prévue ou en cours n'aura pas lieu.",
                "%(num)d périodes d'immersion prévues ou en cours n'auront pas lieu.",
                planned,
            )
        )
    return impact


def _notify_cancellation(operation: Operation, reason: str, *, by: User, org: Organisation):
    """Every participant's members hear of it at once (the bassin's referent is told by
    ``tell_region``, once)."""
    referents = {user.id for user in referents_for(operation.territory)}
    users = {
        user.id: user
        for participant in operation.active_participants()
        for user in organisation_members(participant.organisation_id)
        if user.id != by.id and user.id not in referents
    }
    notify(
        list(users.values()),
        kind="operation_cancelled",
        operation=operation,
        message=_(
            "%(org)s a annulé l'opération « %(title)s ». Motif : %(reason)s",
            org=org.name,
            title=operation.title,
            reason=reason,
        ),
        endpoint="operations.show_operation",
        operation_id=operation.id,
        email_subject=_("Opération DEFI annulée : %(title)s", title=operation.title),
    )


def cancel(operation: Operation, *, reason: str, by: User, org: Organisation) -> None:
    """Cancel an operation that is not closed, with a reason; everyone taking part is told."""
    lock(operation)
    if not may_cancel(operation, by=by, org=org):
        raise RuleError(
            _("Seuls un·e administrateur·rice de l'organisme porteur et la Région annulent.")
        )
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
    _notify_cancellation(operation, reason.strip(), by=by, org=org)
