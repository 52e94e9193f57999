"""Rules of recruitment, declared as data: how a trainee's status may change, who holds a
place in the session, and the French warnings on promises, target and recruits.

The sheet's rule is « 1 stagiaire pour 1 promesse d'embauche, au plus près de l'effectif
ciblé »: the figures below say how close an operation stands to it.
"""

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_

from portal.operations.models import Status
from portal.recruitment.models import ExitReason, Trainee, TraineeStatus

S = TraineeStatus

# The birth years the database accepts (see the ``birth_year`` check of ``trainees``).
BIRTH_YEAR_MIN, BIRTH_YEAR_MAX = 1940, 2015

# (from, to) → the label of the action that makes this change.
TRANSITIONS: dict[tuple[TraineeStatus, TraineeStatus], object] = {
    (S.CANDIDATE, S.RETAINED): _l("Retenir la candidature"),
    (S.CANDIDATE, S.NOT_RETAINED): _l("Ne pas retenir la candidature"),
    (S.NOT_RETAINED, S.CANDIDATE): _l("Réexaminer la candidature"),
    (S.NOT_RETAINED, S.RETAINED): _l("Retenir finalement la candidature"),
    (S.RETAINED, S.IN_TRAINING): _l("Entrée en formation"),
    (S.RETAINED, S.NOT_RETAINED): _l("Désistement avant l'entrée en formation"),
    (S.IN_TRAINING, S.EXITED): _l("Sortie de formation (date et motif)"),
    (S.IN_TRAINING, S.CERTIFIED): _l("Certification obtenue"),
    (S.EXITED, S.CERTIFIED): _l("Certification obtenue après la sortie"),
}

# Why a change is refused, for the changes people are likely to try.
REFUSALS: dict[tuple[TraineeStatus, TraineeStatus], object] = {
    (S.CANDIDATE, S.IN_TRAINING): _l(
        "Une candidature doit d'abord être retenue avant l'entrée en formation."
    ),
    (S.NOT_RETAINED, S.IN_TRAINING): _l(
        "Une candidature non retenue doit d'abord être retenue avant l'entrée en formation."
    ),
    (S.CANDIDATE, S.EXITED): _l("Seul·e un·e stagiaire en formation peut en sortir."),
    (S.NOT_RETAINED, S.EXITED): _l("Seul·e un·e stagiaire en formation peut en sortir."),
    (S.RETAINED, S.EXITED): _l(
        "Seul·e un·e stagiaire en formation peut en sortir : avant l'entrée en formation, "
        "enregistrez un désistement."
    ),
    (S.RETAINED, S.CANDIDATE): _l(
        "Une candidature retenue ne redevient pas candidate : si la personne n'entre pas en "
        "formation, enregistrez un désistement."
    ),
    (S.CANDIDATE, S.CERTIFIED): _l("La certification suppose d'avoir suivi la formation."),
    (S.NOT_RETAINED, S.CERTIFIED): _l("La certification suppose d'avoir suivi la formation."),
    (S.RETAINED, S.CERTIFIED): _l("La certification suppose d'avoir suivi la formation."),
}
# Why nothing may follow a status, whatever the target.
FROM_REFUSALS: dict[TraineeStatus, object] = {
    S.IN_TRAINING: _l(
        "Un·e stagiaire en formation n'en ressort que par une sortie (avec sa date et son "
        "motif) ou par la certification."
    ),
    S.EXITED: _l("La sortie est définitive : seule une certification peut encore être notée."),
    S.CERTIFIED: _l("La certification est la dernière étape du parcours."),
}
# The operation's steps at which a change to a status may be recorded.
OPERATION_STEPS: dict[TraineeStatus, tuple[Status, ...]] = {
    S.CANDIDATE: (Status.RECRUITMENT, Status.TRAINING),
    S.NOT_RETAINED: (Status.RECRUITMENT, Status.TRAINING),
    S.RETAINED: (Status.RECRUITMENT, Status.TRAINING),
    S.IN_TRAINING: (Status.RECRUITMENT, Status.TRAINING),
    S.EXITED: (Status.RECRUITMENT, Status.TRAINING, Status.FOLLOW_UP),
    S.CERTIFIED: (Status.TRAINING, Status.FOLLOW_UP),
}
# Candidates are recorded, and trainees matched to promises, at these steps.
RECORDING_STEPS = (Status.RECRUITMENT, Status.TRAINING)

# A trainee holds a place in the session (and keeps a promise) when retained, in training or
# certified, or after leaving for one of these reasons; any other exit frees the promise.
PLACE_STATUSES = frozenset({S.RETAINED, S.IN_TRAINING, S.CERTIFIED})
KEEPS_PLACE_REASONS = frozenset({ExitReason.END_OF_TRAINING, ExitReason.EARLY_HIRE})
# Who may be matched to a promise (the sheet: each retained trainee).
MATCHABLE = frozenset({S.RETAINED, S.IN_TRAINING})


def holds_place(status: TraineeStatus, exit_reason: ExitReason | None) -> bool:
    """True when a trainee with this status (and exit reason) counts as recruited."""
    return status in PLACE_STATUSES or (status == S.EXITED and exit_reason in KEEPS_PLACE_REASONS)


def holds_place_sql():
    """SQL condition on ``Trainee``: the same as ``holds_place``."""
    return or_(
        Trainee.status.in_(PLACE_STATUSES),
        and_(Trainee.status == S.EXITED, Trainee.exit_reason.in_(KEEPS_PLACE_REASONS)),
    )


def targets(status: TraineeStatus) -> list[tuple[TraineeStatus, str]]:
    """The statuses reachable from ``status``, with the label of each action."""
    return [
        (target, str(label)) for (source, target), label in TRANSITIONS.items() if source == status
    ]


def refusal(
    status: TraineeStatus,
    target: TraineeStatus,
    *,
    exit_reason: ExitReason | None = None,
    operation_status: Status | None = None,
) -> str | None:
    """Why a trainee at ``status`` may not move to ``target`` (None when they may)."""
    if status == target:
        return _("Le statut est déjà « %(s)s ».", s=status.title)
    if (status, target) not in TRANSITIONS:
        reason = REFUSALS.get((status, target)) or FROM_REFUSALS.get(status)
        if reason is not None:
            return str(reason)
        return _("Passage de « %(a)s » à « %(b)s » impossible.", a=status.title, b=target.title)
    if status == S.EXITED and exit_reason not in KEEPS_PLACE_REASONS:
        return _(
            "Après une sortie pour un autre motif que la fin de formation ou une embauche "
            "anticipée, la certification ne peut pas être notée."
        )
    if operation_status is not None and operation_status not in OPERATION_STEPS[target]:
        return _(
            "À l'étape « %(step)s » de l'opération, le statut « %(s)s » ne peut pas être "
            "enregistré.",
            step=operation_status.title,
            s=target.title,
        )
    return None


@dataclass(frozen=True)
class Figures:
    """How recruitment stands: promises, target headcount, recruits.

    ``promises`` and ``matched`` are those that count toward the rule (lasting, or
    accepted by the Région); ``apart``, the non-lasting promises the Région has not
    accepted, listed apart (``recruitment/lasting.py``)."""

    promises: int
    matched: int
    target: int | None
    recruited: int
    unmatched_recruits: int  # retained or in training, without a promise
    in_training: int = 0
    apart: int = 0

    @property
    def unmatched_promises(self) -> int:
        return self.promises - self.matched

    @property
    def over_recruited(self) -> bool:
        """More trainees hold a place than there are promises (the first warning)."""
        return self.recruited > self.promises


def warnings(figures: Figures) -> list[str]:
    """French warnings when recruitment strays from « 1 stagiaire pour 1 promesse, au plus
    près de l'effectif ciblé »."""
    found = []
    rule = _("La règle : 1 stagiaire pour 1 promesse, au plus près de l'effectif ciblé.")
    if figures.over_recruited:
        found.append(
            _(
                "Le recrutement dépasse les promesses d'embauche : %(r)d stagiaire(s) "
                "retenu·e(s) pour %(p)d promesse(s). %(rule)s",
                r=figures.recruited,
                p=figures.promises,
                rule=rule,
            )
        )
    if figures.target:
        if figures.recruited < figures.target:
            found.append(
                _(
                    "Le recrutement reste sous l'effectif ciblé : %(r)d stagiaire(s) "
                    "retenu·e(s) pour un effectif ciblé de %(t)d. %(rule)s",
                    r=figures.recruited,
                    t=figures.target,
                    rule=rule,
                )
            )
        elif figures.recruited > figures.target:
            found.append(
                _(
                    "Le recrutement dépasse l'effectif ciblé : %(r)d stagiaire(s) retenu·e(s) "
                    "pour un effectif ciblé de %(t)d. %(rule)s",
                    r=figures.recruited,
                    t=figures.target,
                    rule=rule,
                )
            )
        if figures.promises < figures.target:
            found.append(
                _(
                    "Les employeurs ont promis %(p)d emploi(s) pour un effectif ciblé de %(t)d : "
                    "chaque stagiaire au-delà restera sans promesse d'embauche.",
                    p=figures.promises,
                    t=figures.target,
                )
            )
    if figures.apart:
        found.append(
            _(
                "%(n)d promesse(s) d'emploi non durable(s), que la Région n'a pas acceptée(s), "
                "ne compte(nt) pas pour la règle : elles sont listées à part.",
                n=figures.apart,
            )
        )
    if figures.unmatched_recruits:
        found.append(
            _(
                "%(n)d stagiaire(s) retenu·e(s) sans promesse d'embauche : positionnez "
                "chacun·e sur une promesse.",
                n=figures.unmatched_recruits,
            )
        )
    return found
