"""Who sees and records immersions, debriefs and evaluations.

Everyone taking part in the operation reaches its pages, and sees there only the trainees
whose record they may open (``recruitment/access.py``): the organisme porteur and the
Région all of them, a prescriber theirs, an employer those it hosts. Only the organisme
porteur records; the host employer's tutors assess their immersions (``services``).
"""

from flask import abort

from portal.accounts.access import require
from portal.extensions import db
from portal.immersions.models import Debrief, Evaluation
from portal.immersions.queries import load_immersion
from portal.operations.access import is_carrier
from portal.operations.models import Operation
from portal.recruitment.access import can_view_trainee


def require_carrier(operation: Operation) -> None:
    """403 unless the current organisation is the organisme porteur."""
    require(is_carrier(operation))


def immersion_or_404(operation: Operation, immersion_id: int):
    """The operation's immersion: 404 when unknown, 403 when its trainee is not visible."""
    immersion = load_immersion(operation.id, immersion_id)
    if immersion is None:
        abort(404)
    require(can_view_trainee(immersion.trainee))
    return immersion


def debrief_or_404(operation: Operation, debrief_id: int) -> Debrief:
    """The operation's debrief: 404 when unknown, 403 when none of its trainees is visible."""
    debrief = db.session.get(Debrief, debrief_id)
    if debrief is None or debrief.operation_id != operation.id:
        abort(404)
    require(any(can_view_trainee(line.trainee) for line in debrief.trainees))
    return debrief


def evaluation_or_404(operation: Operation, evaluation_id: int) -> Evaluation:
    """The operation's evaluation (every participant sees the event itself), or 404."""
    evaluation = db.session.get(Evaluation, evaluation_id)
    if evaluation is None or evaluation.operation_id != operation.id:
        abort(404)
    return evaluation
