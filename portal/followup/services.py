"""Business verbs of the employment follow-up: answer a milestone, record a contact attempt,
reconcile disagreeing answers. They check rules, write the audit log (ids only), notify,
flush and never commit.

The next steps of an operation (evaluation, prime, closing) build on this module: the
exits (``record_exit``, ``exit_problems``), the promise outcomes, ``m6_problems`` and
``indicators`` are all reachable from here.
"""

from datetime import date

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import Organisation, User
from portal.audit.services import record
from portal.core.employment import Situation
from portal.core.errors import RuleError
from portal.core.french import de
from portal.core.locking import lock
from portal.core.time import utcnow
from portal.extensions import db
from portal.followup import rules
from portal.followup.access import answering_party
from portal.followup.exits import (  # noqa: F401  (the services of the area, in one place)
    check_step,
    exit_problems,
    names,
    record_exit,
)
from portal.followup.indicators import indicators  # noqa: F401
from portal.followup.models import (
    Answer,
    Attempt,
    Channel,
    Milestone,
    MilestoneKind,
    MilestoneStatus,
    Party,
    RetainedAnswer,
    RetainedBasis,
    WorkingTime,
)
from portal.followup.outcomes import record_promise_outcome  # noqa: F401
from portal.notifications.services import notify, organisation_members
from portal.operations.events import log_event
from portal.operations.models import Operation
from portal.operations.needs import employer_participants
from portal.recruitment.models import Trainee

TEXT_MAX = 200
COMMENT_MAX = 2000


class StaleMilestone(RuleError):
    """Someone else changed the milestone (an answer, a reconciliation) since it was read."""

    def __init__(self):
        super().__init__(
            _(
                "Ce suivi vient d'être modifié par quelqu'un d'autre (nouvelle réponse ou "
                "rapprochement) : la page montre maintenant les réponses à jour ; vérifiez-les "
                "avant de trancher."
            )
        )


def _party(milestone: Milestone, by: User, org: Organisation) -> Party:
    party = answering_party(milestone.trainee, by, org)
    if party is None:
        raise RuleError(_("Vous ne pouvez pas renseigner le suivi de ce ou cette stagiaire."))
    check_step(milestone.operation)
    return party


def _employers(operation: Operation, trainee: Trainee) -> set[int]:
    """The employers an answer may pick: the operation's, and the trainee's promise's."""
    ids = {o.id for o in employer_participants(operation)}
    if trainee.promise is not None:
        ids.add(trainee.promise.organisation_id)
    return ids


def _text(data: dict, name: str, maximum: int = TEXT_MAX) -> str:
    value = (data.get(name) or "").strip()
    if len(value) > maximum:
        raise RuleError(_("%(n)d caractères au plus.", n=maximum), name)
    return value


def _contact_date(milestone: Milestone, day, name: str, today: date) -> date:
    if day is None:
        raise RuleError(_("Indiquez la date."), name)
    if day > today:
        raise RuleError(_("La date ne peut pas être dans le futur."), name)
    opening = rules.opens_on(milestone.due_on, rules.window_days())
    if day < opening:
        raise RuleError(
            _(
                "Le suivi « %(kind)s » se renseigne à partir du %(d)s.",
                kind=milestone.kind.title.lower(),
                d=format_date(opening, "long"),
            ),
            name,
        )
    return day


def checked_answer(milestone: Milestone, data: dict, today: date) -> dict:
    """The answer's columns from ``data``, or RuleError naming the field at fault.

    ``data``: situation, duration_months, employer_id, employer_name, job_title,
    working_time, contacted_on, channel, comment.
    """
    if not data.get("situation"):
        raise RuleError(_("Indiquez la situation."), "situation")
    situation = Situation(data["situation"])
    months = rules.contract_months(situation, data.get("duration_months"))
    employer_id = data.get("employer_id") or None
    employer_name = _text(data, "employer_name")
    if situation.is_salaried:
        if employer_id and employer_name:
            raise RuleError(
                _("Choisissez un employeur de l'opération ou nommez-en un autre, pas les deux."),
                "employer_name",
            )
        if not employer_id and not employer_name:
            raise RuleError(_("Indiquez l'employeur."), "employer_id")
        if employer_id and employer_id not in _employers(milestone.operation, milestone.trainee):
            raise RuleError(_("Cet employeur ne participe pas à l'opération."), "employer_id")
    else:
        employer_id = None
        if situation != Situation.BUSINESS_CREATION:
            employer_name = ""
    working_time = data.get("working_time") if situation.is_employment else None
    channel = data.get("channel")
    if not channel:
        raise RuleError(_("Indiquez comment la personne a été jointe."), "channel")
    return {
        "situation": situation,
        "duration_months": months,
        "employer_id": employer_id,
        "employer_name": employer_name,
        "job_title": _text(data, "job_title") if situation.is_employment else "",
        "working_time": WorkingTime(working_time) if working_time else None,
        "contacted_on": _contact_date(milestone, data.get("contacted_on"), "contacted_on", today),
        "channel": Channel(channel),
        "comment": _text(data, "comment", COMMENT_MAX),
    }


def attempts_by(milestone: Milestone, org: Organisation) -> int:
    """Contact attempts ``org`` recorded for ``milestone``."""
    return db.session.scalar(
        select(func.count(Attempt.id)).where(
            Attempt.milestone_id == milestone.id, Attempt.organisation_id == org.id
        )
    )


def _refresh(milestone: Milestone) -> None:
    """Apply the rules to the milestone's answers: its status, its automatic retained
    answer, and a new version (a reconciliation made on the page seen before is refused)."""
    answers = list(
        db.session.scalars(
            select(Answer).where(Answer.milestone_id == milestone.id).order_by(Answer.id)
        )
    )
    retained = db.session.scalar(
        select(RetainedAnswer).where(RetainedAnswer.milestone_id == milestone.id)
    )
    decision = rules.decide(answers, retained)
    if decision.answer is not None:
        if retained is None:
            retained = RetainedAnswer(milestone_id=milestone.id)
            db.session.add(retained)
        retained.answer_id, retained.basis, retained.note = decision.answer.id, decision.basis, ""
        retained.decided_by_id = retained.decided_by_org_id = None
        retained.decided_at = utcnow()
    elif retained is not None and not retained.basis.reconciled:
        db.session.delete(retained)  # the answers no longer agree
    milestone.status = decision.status
    milestone.version = Milestone.version + 1
    db.session.flush()


def record_answer(
    milestone: Milestone, data: dict, *, by: User, org: Organisation, today: date | None = None
) -> Answer:
    """Record what ``org`` knows of the person's situation at ``milestone`` (a new row, even
    when the same organisation answered before). « Sans nouvelles » needs the configured
    number of contact attempts by the same organisation."""
    party = _party(milestone, by, org)
    values = checked_answer(milestone, data, today or rules.today())
    if values["situation"] == Situation.NO_NEWS:
        needed, done = rules.attempts_before_no_news(), attempts_by(milestone, org)
        if done < needed:
            raise RuleError(
                _(
                    "« Sans nouvelles » s'enregistre après %(n)d tentatives de contact : "
                    "%(done)d enregistrée(s) pour %(org)s.",
                    n=needed,
                    done=done,
                    org=org.name,
                ),
                "situation",
            )
    lock(milestone)  # its status and retained answer follow from every answer, in turn
    before = milestone.status
    answer = Answer(
        milestone_id=milestone.id, party=party, organisation_id=org.id, user_id=by.id, **values
    )
    db.session.add(answer)
    db.session.flush()
    _refresh(milestone)
    record(
        "followup.answered",
        actor=by,
        organisation=org,
        obj=answer,
        milestone=milestone.id,
        party=party.value,
    )
    operation = milestone.operation
    kind = milestone.kind.value
    log_event(operation, "followup_answered", by=by, org=org, milestone=kind, party=org.name)
    if milestone.status == MilestoneStatus.TO_RECONCILE and before != milestone.status:
        notify(
            [u for u in organisation_members(operation.provider_id) if u.id != by.id],
            kind="followup_to_reconcile",
            operation=operation,
            message=_(
                "Les réponses au suivi « %(kind)s » %(of_trainee)s (opération « %(title)s ») "
                "divergent : rapprochez-les.",
                kind=milestone.kind.title.lower(),
                of_trainee=de(milestone.trainee.full_name),
                title=operation.title,
            ),
            endpoint="followup.show_milestone",
            operation_id=operation.id,
            milestone_id=milestone.id,
        )
    return answer


def record_attempt(
    milestone: Milestone, data: dict, *, by: User, org: Organisation, today: date | None = None
) -> Attempt:
    """Note a try to reach the person (date, channel, note)."""
    _party(milestone, by, org)
    day = _contact_date(milestone, data.get("attempted_on"), "attempted_on", today or rules.today())
    if not data.get("channel"):
        raise RuleError(_("Indiquez le moyen de contact essayé."), "channel")
    attempt = Attempt(
        milestone_id=milestone.id,
        organisation_id=org.id,
        user_id=by.id,
        attempted_on=day,
        channel=Channel(data["channel"]),
        note=_text(data, "note", COMMENT_MAX),
    )
    db.session.add(attempt)
    db.session.flush()
    record("followup.attempted", actor=by, organisation=org, obj=attempt, milestone=milestone.id)
    return attempt


def reconcile(
    milestone: Milestone,
    *,
    seen_version: int,
    note: str,
    answer_id: int | None = None,
    written: dict | None = None,
    by: User,
    org: Organisation,
    today: date | None = None,
) -> RetainedAnswer:
    """The organisme porteur settles disagreeing answers: it retains one of them
    (``answer_id``) or writes the retained answer (``written``), with a note.

    ``seen_version`` is the milestone's version on the page the decision was made from:
    if an answer arrived or someone else reconciled since, ``StaleMilestone`` is raised and
    nothing changes — of two concurrent reconciliations, one wins. The row lock
    (``core.locking``) makes the second wait and read the first one's version; the
    conditional UPDATE (``WHERE version = :seen``) would refuse it even without the lock.
    """
    operation = milestone.operation
    if org is None or operation.provider_id != org.id:
        raise RuleError(_("Seul l'organisme de formation porteur rapproche les réponses."))
    check_step(operation)
    note = (note or "").strip()
    if not note:
        raise RuleError(_("Expliquez votre choix dans la note."), "note")
    if len(note) > COMMENT_MAX:
        raise RuleError(_("%(n)d caractères au plus.", n=COMMENT_MAX), "note")
    values = checked_answer(milestone, written, today or rules.today()) if written else None
    lock(milestone)
    if milestone.version != seen_version:
        raise StaleMilestone()
    if milestone.status != MilestoneStatus.TO_RECONCILE:
        raise RuleError(_("Les réponses de ce suivi concordent : il n'y a rien à rapprocher."))
    if values is not None:
        answer = Answer(
            milestone_id=milestone.id,
            party=Party.PROVIDER,
            organisation_id=org.id,
            user_id=by.id,
            reconciliation=True,
            **values,
        )
        db.session.add(answer)
        basis = RetainedBasis.WRITTEN
    else:
        answer = db.session.get(Answer, answer_id) if answer_id else None
        if answer is None or answer.milestone_id != milestone.id:
            raise RuleError(_("Choisissez la réponse à retenir."), "choice")
        basis = RetainedBasis.CHOSEN
    won = db.session.execute(
        update(Milestone)
        .where(Milestone.id == milestone.id, Milestone.version == seen_version)
        .values(version=seen_version + 1, status=MilestoneStatus.RETAINED)
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:
        raise StaleMilestone()
    db.session.expire(milestone, ["version", "status"])
    retained = db.session.scalar(
        select(RetainedAnswer).where(RetainedAnswer.milestone_id == milestone.id)
    )
    decision = {
        "answer": answer,
        "basis": basis,
        "note": note,
        "decided_by": by,
        "decided_by_org": org,
        "decided_at": utcnow(),
    }
    if retained is None:
        retained = RetainedAnswer(milestone_id=milestone.id, **decision)
        db.session.add(retained)
    else:
        for name, value in decision.items():
            setattr(retained, name, value)
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise StaleMilestone() from exc
    record(
        "followup.reconciled",
        actor=by,
        organisation=org,
        obj=milestone,
        answer=answer.id,
        basis=basis.value,
    )
    log_event(operation, "followup_reconciled", by=by, org=org, milestone=milestone.kind.value)
    return retained


def m6_problems(operation: Operation) -> list[str]:
    """Which +6 months follow-ups are not retained yet (French, naming the trainees): what
    the closing of the operation waits for."""
    rows = db.session.execute(
        select(Trainee.first_name, Trainee.last_name, Milestone.status)
        .join(Milestone, Milestone.trainee_id == Trainee.id)
        .where(
            Milestone.operation_id == operation.id,
            Milestone.kind == MilestoneKind.M6,
            Milestone.status != MilestoneStatus.RETAINED,
        )
        .order_by(Trainee.last_name, Trainee.first_name, Trainee.id)
    ).all()
    awaiting = [r for r in rows if r.status == MilestoneStatus.AWAITING]
    disputed = [r for r in rows if r.status == MilestoneStatus.TO_RECONCILE]
    problems = []
    if awaiting:
        problems.append(_("Suivi à 6 mois non renseigné pour : %(names)s.", names=names(awaiting)))
    if disputed:
        problems.append(
            _(
                "Suivi à 6 mois aux réponses divergentes, à rapprocher, pour : %(names)s.",
                names=names(disputed),
            )
        )
    return problems
