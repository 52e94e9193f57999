"""Rules of immersions, debriefs and evaluations, declared as data: when they may be
recorded, how an immersion's state reads, which results each kind of evaluation takes."""

from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists

from portal.accounts.models import Membership
from portal.core.enums import TitledEnum, titled
from portal.core.errors import RuleError
from portal.core.time import paris_today
from portal.immersions.models import EvaluationKind, Immersion, Outcome
from portal.operations.models import Operation, Status

# Immersions, debriefs and evaluations are recorded once the convention is validated
# (recruitment), during training, and until the employment follow-up is over.
RUNNING_STEPS = (Status.RECRUITMENT, Status.TRAINING, Status.FOLLOW_UP)

# The rhythm's periods that are immersions in a company (design/rhythm.py PERIOD_KINDS).
IMMERSION_PERIOD_KIND = "immersion"

JURY_OUTCOMES = (Outcome.FULL, Outcome.PARTIAL, Outcome.NOT_OBTAINED)
REVIEW_OUTCOMES = (Outcome.PASSED, Outcome.TO_IMPROVE, Outcome.FAILED)


@titled(
    {
        "to_prepare": _l("À préparer"),
        "ready": _l("Prête"),
        "ongoing": _l("En cours"),
        "to_debrief": _l("Terminée — à débriefer"),
        "debriefed": _l("Débriefée"),
    }
)
class ImmersionState(TitledEnum):
    """Where an immersion stands, computed from its dates, checklist and debrief."""

    TO_PREPARE = "to_prepare"
    READY = "ready"
    ONGOING = "ongoing"
    TO_DEBRIEF = "to_debrief"
    DEBRIEFED = "debriefed"

    @property
    def preparable(self) -> bool:
        """Not over yet: its preparation may still change."""
        return self in (ImmersionState.TO_PREPARE, ImmersionState.READY, ImmersionState.ONGOING)

    @property
    def awaits_debrief(self) -> bool:
        return self == ImmersionState.TO_DEBRIEF


def today() -> date:
    """Today on the French calendar: immersion dates are Paris days."""
    return paris_today()


def immersion_state(immersion: Immersion, *, today: date, debriefed: bool) -> ImmersionState:
    """The state of ``immersion`` on ``today``; ``debriefed``: a debrief covers it."""
    if debriefed:
        return ImmersionState.DEBRIEFED
    if immersion.ends_on < today:
        return ImmersionState.TO_DEBRIEF
    if immersion.starts_on <= today:
        return ImmersionState.ONGOING
    return ImmersionState.READY if immersion.is_ready else ImmersionState.TO_PREPARE


def check_running(operation: Operation) -> None:
    """Raise unless the operation is at a step where immersions are recorded."""
    if operation.status not in RUNNING_STEPS:
        raise RuleError(
            _(
                "Les immersions, retours d'expérience et évaluations s'enregistrent une fois la "
                "convention validée, pendant le recrutement, la formation et le suivi."
            )
        )


def check_carrier(operation: Operation, org) -> None:
    """Raise unless ``org`` is the operation's organisme porteur, who records all of this."""
    if org is None or operation.provider_id != org.id:
        raise RuleError(_("Seul l'organisme de formation porteur enregistre ces informations."))


def outcomes_for(kind: EvaluationKind) -> tuple[Outcome, ...]:
    """The results a trainee may get at an evaluation of ``kind``."""
    return JURY_OUTCOMES if kind == EvaluationKind.JURY else REVIEW_OUTCOMES


def reminder_days() -> int:
    """How many days before an unprepared immersion starts its reminder goes out."""
    return int(current_app.config.get("IMMERSION_REMINDER_DAYS", 5))


def overdue_days() -> int:
    """How many days after an immersion ends its missing debrief becomes overdue."""
    return int(current_app.config.get("DEBRIEF_OVERDUE_DAYS", 7))


def debrief_overdue_on(immersion: Immersion) -> date:
    """The first day the debrief of ``immersion`` is late."""
    return immersion.ends_on + timedelta(days=overdue_days() + 1)


def tutored_by(user_id: int, employer_id: int | None = None):
    """SQL condition on ``Immersion``: the user tutors the immersion *and* is still an
    active tutor of its host employer — a tutor who left the company, or whose role ended,
    no longer sees its trainees (issue #11). The one definition of « tutors it », for the
    tutor's space and for the trainee's record (``recruitment/access.py``).

    ``employer_id``: the caller keeps only that employer's immersions; the membership is
    then asked once, not once per immersion (issue #16: a correlated test ran for each of
    the tutor's immersions)."""
    host = Immersion.employer_id if employer_id is None else employer_id
    return and_(
        Immersion.tutor_id == user_id,
        exists().where(
            Membership.user_id == user_id,
            Membership.organisation_id == host,
            Membership.active.is_(True),
            Membership.is_tutor.is_(True),
        ),
    )
