"""Business verbs of the evaluation and of the prime DEFI, and the closing guard.

The organisme porteur (or the Région) starts the evaluation, which adds its written parts
to the operation's design; the organisme submits it once they are written; the Région
accepts it or sends it back with a comment. The organisme requests the prime DEFI with its
justification (and may withdraw it until the Région decides); the Région grants it with an
amount or refuses it with a reason, once. Everything happens during the employment
follow-up: a closed operation is read-only. The verbs lock the row they change, write the
audit log and the timeline, notify, flush and never commit.
"""

from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import Organisation, OrgKind, User
from portal.assessment.models import Assessment, AssessmentStatus, Bonus, BonusStatus
from portal.audit.services import record
from portal.core.errors import RuleError
from portal.core.locking import lock
from portal.core.time import utcnow
from portal.design.models import Design, SectionKey
from portal.design.services import design_for, empty_content, is_filled
from portal.design.start import add_prefilled_section
from portal.extensions import db
from portal.followup.services import m6_problems
from portal.notifications.services import notify, organisation_members
from portal.operations.events import log_event, referents_for
from portal.operations.models import Operation, Status

TEXT_MAX = 5000
AMOUNT_MAX = 1_000_000  # euros: far above any prime, below what an integer column holds


def assessment_for(operation: Operation) -> Assessment | None:
    return db.session.scalar(select(Assessment).where(Assessment.operation_id == operation.id))


def bonus_for(operation: Operation) -> Bonus | None:
    return db.session.scalar(select(Bonus).where(Bonus.operation_id == operation.id))


def check_follow_up(operation: Operation) -> None:
    """Raise unless the operation is in the employment follow-up (a closed one is read-only)."""
    if operation.status == Status.CLOSED:
        raise RuleError(_("L'opération est close : elle ne se modifie plus."))
    if operation.status != Status.FOLLOW_UP:
        raise RuleError(
            _(
                "L'évaluation et la prime DEFI se traitent pendant le suivi dans l'emploi ; "
                "l'opération est à l'étape « %(step)s ».",
                step=operation.status.title,
            )
        )


def _carrier(operation: Operation, org: Organisation | None, message: str) -> None:
    if org is None or operation.provider_id != org.id:
        raise RuleError(message)


def _region(org: Organisation | None, message: str) -> None:
    if org is None or org.kind != OrgKind.REGION:
        raise RuleError(message)


def _text(value: str | None, field: str, message: str) -> str:
    text = (value or "").strip()
    if not text:
        raise RuleError(message, field)
    if len(text) > TEXT_MAX:
        raise RuleError(_("%(n)d caractères au plus.", n=TEXT_MAX), field)
    return text


def _tell(users: list[User], operation: Operation, kind: str, message: str) -> None:
    notify(
        users,
        kind=kind,
        operation=operation,
        message=message,
        endpoint="assessment.show_assessment",
        operation_id=operation.id,
    )


def _tell_region(operation: Operation, kind: str, message: str) -> None:
    _tell(referents_for(operation.territory), operation, kind, message)


def _tell_carrier(operation: Operation, kind: str, message: str) -> None:
    _tell(organisation_members(operation.provider_id), operation, kind, message)


# --- The evaluation --------------------------------------------------------------------


def start_assessment(operation: Operation, *, by: User, org: Organisation) -> Assessment:
    """Open the evaluation: its state and its written parts, empty, in the design."""
    if org is None or (operation.provider_id != org.id and org.kind != OrgKind.REGION):
        raise RuleError(_("L'organisme porteur ou la Région ouvre l'évaluation."))
    check_follow_up(operation)
    if assessment_for(operation) is not None:
        raise RuleError(_("L'évaluation de cette opération est déjà ouverte."))
    design = design_for(operation)
    if design is None:  # an operation carried over from before the portal's co-design
        design = Design(operation=operation)
        db.session.add(design)
    for key in SectionKey.assessment_keys():
        add_prefilled_section(design, key, empty_content(key), by=by, org=org)
    assessment = Assessment(operation_id=operation.id, started_by_id=by.id)
    db.session.add(assessment)
    db.session.flush()
    # ``DesignSection.design`` back-populates ``Design.sections`` in memory: reload the lists.
    db.session.expire(design, ["sections", "clauses", "assessment_sections"])
    record("assessment.started", actor=by, organisation=org, obj=assessment)
    log_event(operation, "assessment_started", by=by, org=org)
    return assessment


def unwritten_parts(operation: Operation) -> list[str]:
    """The titles of the evaluation's written parts still empty."""
    design = design_for(operation)
    if design is None:
        return [key.title for key in SectionKey.assessment_keys()]
    filled = {s.key for s in design.assessment_sections if is_filled(s)}
    return [key.title for key in SectionKey.assessment_keys() if key not in filled]


def submission_problems(assessment: Assessment) -> list[str]:
    """Why the evaluation cannot be submitted now (French; empty when it can)."""
    if not assessment.status.editable:
        return [_("L'évaluation est déjà soumise à la Région ou acceptée.")]
    missing = unwritten_parts(assessment.operation)
    if missing:
        return [_("Parties à rédiger avant la soumission : %(p)s.", p=", ".join(missing))]
    return []


def submit_assessment(assessment: Assessment, *, by: User, org: Organisation) -> None:
    """The organisme porteur submits the written evaluation to the Région."""
    operation = assessment.operation
    _carrier(operation, org, _("Seul l'organisme porteur soumet l'évaluation à la Région."))
    check_follow_up(operation)
    assessment = lock(assessment)
    problems = submission_problems(assessment)
    if problems:
        raise RuleError(" ".join(problems))
    assessment.status = AssessmentStatus.SUBMITTED
    assessment.submitted_at, assessment.submitted_by_id = utcnow(), by.id
    db.session.flush()
    record("assessment.submitted", actor=by, organisation=org, obj=assessment)
    log_event(operation, "assessment_submitted", by=by, org=org)
    _tell_region(
        operation,
        "assessment_submitted",
        _("L'évaluation de l'opération « %(t)s » vous est soumise.", t=operation.title),
    )


def decide_assessment(
    assessment: Assessment, *, accept: bool, comment: str, by: User, org: Organisation
) -> None:
    """The Région accepts the submitted evaluation, or sends it back with a comment (then
    the organisme edits it again)."""
    operation = assessment.operation
    _region(org, _("La Région accepte l'évaluation ou demande de la reprendre."))
    check_follow_up(operation)
    comment = (comment or "").strip()
    if not accept:
        comment = _text(comment, "comment", _("Dites ce qui est à reprendre."))
    elif len(comment) > TEXT_MAX:
        raise RuleError(_("%(n)d caractères au plus.", n=TEXT_MAX), "comment")
    assessment = lock(assessment)
    if assessment.status != AssessmentStatus.SUBMITTED:
        raise RuleError(_("L'évaluation n'est pas soumise à la Région."))
    assessment.status = AssessmentStatus.ACCEPTED if accept else AssessmentStatus.CHANGES_REQUESTED
    assessment.decided_at, assessment.decided_by_id = utcnow(), by.id
    assessment.decision_comment = comment
    db.session.flush()
    kind = "accepted" if accept else "changes_requested"
    record(f"assessment.{kind}", actor=by, organisation=org, obj=assessment)
    log_event(operation, f"assessment_{kind}", by=by, org=org)
    if accept:
        message = _("La Région a accepté l'évaluation de l'opération « %(t)s ».", t=operation.title)
    else:
        message = _(
            "La Région demande de reprendre l'évaluation de l'opération « %(t)s » : %(c)s",
            t=operation.title,
            c=comment,
        )
    _tell_carrier(operation, f"assessment_{kind}", message)


# --- The prime DEFI --------------------------------------------------------------------


def request_bonus(operation: Operation, justification: str, *, by: User, org: Organisation):
    """The organisme porteur requests the prime DEFI, justifying its tailor-made, innovative
    engineering; a withdrawn request may be made again, a decided one may not."""
    _carrier(operation, org, _("Seul l'organisme porteur demande la prime DEFI."))
    check_follow_up(operation)
    justification = _text(
        justification,
        "justification",
        _("Justifiez la demande : en quoi l'ingénierie est-elle cousue main et innovante ?"),
    )
    bonus = bonus_for(operation)
    if bonus is not None:
        bonus = lock(bonus)
        if bonus.status != BonusStatus.WITHDRAWN:
            raise RuleError(_("La prime DEFI est déjà demandée pour cette opération."))
    else:
        bonus = Bonus(operation_id=operation.id)
        db.session.add(bonus)
    bonus.status, bonus.justification = BonusStatus.REQUESTED, justification
    bonus.requested_at, bonus.requested_by_id, bonus.requested_org_id = utcnow(), by.id, org.id
    db.session.flush()
    record("bonus.requested", actor=by, organisation=org, obj=bonus)
    log_event(operation, "bonus_requested", by=by, org=org)
    _tell_region(
        operation,
        "bonus_requested",
        _("La prime DEFI est demandée pour l'opération « %(t)s ».", t=operation.title),
    )
    return bonus


def withdraw_bonus(bonus: Bonus, *, by: User, org: Organisation) -> None:
    """The organisme porteur withdraws its request before the Région decides."""
    operation = bonus.operation
    _carrier(operation, org, _("Seul l'organisme porteur retire sa demande de prime DEFI."))
    check_follow_up(operation)
    bonus = lock(bonus)
    if bonus.status != BonusStatus.REQUESTED:
        raise RuleError(_("Seule une demande en attente de décision se retire."))
    bonus.status = BonusStatus.WITHDRAWN
    db.session.flush()
    record("bonus.withdrawn", actor=by, organisation=org, obj=bonus)
    log_event(operation, "bonus_withdrawn", by=by, org=org)


def decide_bonus(
    bonus: Bonus,
    *,
    grant: bool,
    amount_euros: int | None = None,
    reason: str = "",
    by: User,
    org: Organisation,
) -> None:
    """The Région grants the prime with an amount in euros (> 0) or refuses it with a
    reason; one decision, final."""
    operation = bonus.operation
    _region(org, _("La Région décide de la prime DEFI."))
    check_follow_up(operation)
    if grant:
        if amount_euros is None or amount_euros <= 0:
            raise RuleError(_("Indiquez un montant en euros supérieur à zéro."), "amount_euros")
        if amount_euros > AMOUNT_MAX:
            raise RuleError(_("Montant au plus de %(n)d euros.", n=AMOUNT_MAX), "amount_euros")
        reason = ""
    else:
        reason = _text(reason, "reason", _("Indiquez le motif du refus."))
        amount_euros = None
    bonus = lock(bonus)
    if bonus.status != BonusStatus.REQUESTED:
        raise RuleError(_("Aucune demande de prime DEFI n'attend de décision."))
    bonus.status = BonusStatus.GRANTED if grant else BonusStatus.REFUSED
    bonus.amount_euros, bonus.reason = amount_euros, reason
    bonus.decided_at, bonus.decided_by_id = utcnow(), by.id
    db.session.flush()
    kind = "granted" if grant else "refused"
    record(f"bonus.{kind}", actor=by, organisation=org, obj=bonus, amount=amount_euros)
    log_event(operation, f"bonus_{kind}", by=by, org=org)
    if grant:
        message = _(
            "La Région accorde une prime DEFI de %(a)d € à l'opération « %(t)s ».",
            a=amount_euros,
            t=operation.title,
        )
    else:
        message = _(
            "La Région refuse la prime DEFI de l'opération « %(t)s » : %(r)s",
            t=operation.title,
            r=reason,
        )
    _tell_carrier(operation, f"bonus_{kind}", message)


# --- Closing ---------------------------------------------------------------------------


def closing_problems(operation: Operation) -> list[str]:
    """What closing the operation waits for (French): every +6 months follow-up retained
    (« sans nouvelles » after the attempts counts), the evaluation accepted, the prime
    decided or not requested."""
    problems = list(m6_problems(operation))
    assessment = assessment_for(operation)
    if assessment is None:
        problems.append(_("L'évaluation de l'opération n'est pas commencée."))
    elif assessment.status != AssessmentStatus.ACCEPTED:
        problems.append(
            _(
                "L'évaluation de l'opération n'est pas acceptée par la Région (%(s)s).",
                s=assessment.status.title.lower(),
            )
        )
    bonus = bonus_for(operation)
    if bonus is not None and bonus.status == BonusStatus.REQUESTED:
        problems.append(_("La Région n'a pas encore décidé de la prime DEFI demandée."))
    return problems
