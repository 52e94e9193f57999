"""Changes to the parties and the promises once a convention version is in force.

The convention says any change goes through an amendment (avenant). From the Région's
first validation (``Operation.convention_in_force_since``), adding or withdrawing a party,
promising positions or withdrawing them is recorded at once but marked pending
(``PendingChange``): the draft of the convention (``conventions/snapshot.py``) shows it,
what runs (promises, immersions, the convention in force) does not. The Région validating
an amendment applies the changes it carries (``apply_changes``, called by
``conventions/amendments.py``); one made after that amendment was submitted waits for the
next. Before a first validation the same verbs change the parties and positions directly.

A party joining with the amendment already takes part in the operation (it must read the
convention and sign it); a party leaving stays one until the amendment is validated.
"""

from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import Organisation, User
from portal.core.errors import RuleError
from portal.core.french import de
from portal.core.locking import lock
from portal.core.time import utcnow
from portal.extensions import db
from portal.operations.events import log_event
from portal.operations.models import (
    EmployerNeed,
    Operation,
    Participant,
    PendingChange,
    Position,
)


def amending(operation: Operation) -> bool:
    """A convention version is in force: parties and promises change through an amendment."""
    return operation.convention_in_force_since is not None


def mark(row: Participant | Position, change: PendingChange, *, by: User | None) -> None:
    """Record ``change`` as waiting for the amendment (a participant also keeps who)."""
    row.pending_change = change
    row.pending_at = utcnow()
    if isinstance(row, Participant):
        row.pending_by_id = getattr(by, "id", None)


def _clear(row: Participant | Position) -> None:
    row.pending_change = None
    row.pending_at = None
    if isinstance(row, Participant):
        row.pending_by_id = None


def request_withdrawal(
    participant: Participant, reason: str, *, by: User, org: Organisation
) -> None:
    """A party of the convention in force leaves with the next amendment (the caller,
    ``services.withdraw_participant``, locked the operation, checked it may leave, and
    tells the Région now)."""
    if participant.is_leaving:
        raise RuleError(
            _(
                "Le retrait %(of_org)s attend déjà la validation de l'avenant.",
                of_org=de(participant.organisation.name),
            )
        )
    operation = participant.operation
    mark(participant, PendingChange.WITHDRAW, by=by)
    participant.withdrawal_reason = reason.strip()
    log_event(
        operation,
        "participant_withdrawal_requested",
        by=by,
        org=org,
        participant=participant.organisation.name,
        reason=reason.strip(),
    )


def keep_participant(participant: Participant, *, by: User, org: Organisation) -> None:
    """Cancel a withdrawal waiting for the amendment: the party stays."""
    lock(participant.operation)
    if not participant.is_leaving or participant.withdrawn_at is not None:
        raise RuleError(_("Aucun retrait de cette organisation n'attend l'avenant."))
    _clear(participant)
    participant.withdrawal_reason = ""
    log_event(
        participant.operation,
        "participant_withdrawal_cancelled",
        by=by,
        org=org,
        participant=participant.organisation.name,
    )


def withdraw_position(position: Position, *, by: User, org: Organisation) -> None:
    """A line of positions of the convention in force is withdrawn with the next amendment."""
    if position.is_leaving:
        raise RuleError(_("Le retrait de ces postes attend déjà la validation de l'avenant."))
    need = position.need
    mark(position, PendingChange.WITHDRAW, by=by)
    log_event(
        need.operation,
        "position_withdrawal_requested",
        by=by,
        org=org,
        employer=need.organisation.name,
        job_title=position.job_title,
        count=position.count,
    )


def keep_position(position: Position, *, by: User, org: Organisation) -> None:
    """Cancel the withdrawal of a line of positions waiting for the amendment."""
    if not position.is_leaving:
        raise RuleError(_("Aucun retrait de ces postes n'attend l'avenant."))
    need = position.need
    _clear(position)
    log_event(
        need.operation,
        "position_withdrawal_cancelled",
        by=by,
        org=org,
        employer=need.organisation.name,
        job_title=position.job_title,
    )


def apply_changes(
    operation: Operation,
    *,
    parties: set[int],
    positions: set[int],
    by: User | None,
    org: Organisation | None,
) -> dict[str, list[str]]:
    """Apply what a validated amendment carries: ``parties`` (organisation ids) and
    ``positions`` (position ids) are those its frozen text names.

    A party joining that the text names joins; a party leaving that it no longer names
    leaves; likewise for positions (a withdrawn line is deleted: the frozen versions keep
    it). A change the text does not carry (made after submission) stays pending. The
    caller holds the operation's lock. Returns the French names of what changed.
    """
    now = utcnow()
    done: dict[str, list[str]] = {"joined": [], "left": [], "promised": [], "withdrawn": []}
    for participant in operation.participants:
        if participant.withdrawn_at is not None:
            continue
        if participant.is_joining and participant.organisation_id in parties:
            _clear(participant)
            done["joined"].append(participant.organisation.name)
        elif participant.is_leaving and participant.organisation_id not in parties:
            participant.withdrawn_at = now
            participant.withdrawn_by_id = participant.pending_by_id
            _clear(participant)
            done["left"].append(participant.organisation.name)
    rows = db.session.scalars(
        select(Position)
        .join(EmployerNeed, EmployerNeed.id == Position.need_id)
        .where(EmployerNeed.operation_id == operation.id, Position.pending_change.is_not(None))
        .order_by(Position.id)
    ).all()
    for position in rows:
        label = f"{position.need.organisation.name} — {position.job_title} ({position.count})"
        if position.is_joining and position.id in positions:
            _clear(position)
            done["promised"].append(label)
        elif position.is_leaving and position.id not in positions:
            db.session.delete(position)
            done["withdrawn"].append(label)
    db.session.flush()
    if any(done.values()):
        log_event(operation, "amendment_applied", by=by, org=org, **done)
    return done
