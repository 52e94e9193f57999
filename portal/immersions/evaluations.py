"""Evaluations, reviews and certification juries: plan one and invite employers' people and
tutors, record who attended, record each trainee's result. Flushes, never commits."""

from datetime import datetime

from flask_babel import format_date, format_datetime
from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.models import Membership, Organisation, User
from portal.core.errors import RuleError
from portal.core.locking import lock
from portal.core.time import utcnow
from portal.extensions import db
from portal.immersions import rules
from portal.immersions.models import (
    Evaluation,
    EvaluationInvitation,
    EvaluationKind,
    EvaluationResult,
    Outcome,
)
from portal.immersions.services import signatory_employers
from portal.notifications.services import notify
from portal.operations.events import log_event
from portal.operations.models import Operation
from portal.recruitment import services as recruitment_services
from portal.recruitment.models import Trainee, TraineeStatus

# Who gets a result: trainees who followed the training.
EVALUATED_STATUSES = (TraineeStatus.IN_TRAINING, TraineeStatus.EXITED, TraineeStatus.CERTIFIED)


def invitable_people(operation: Operation) -> list[tuple[Organisation, list[tuple[User, bool]]]]:
    """Members of each signatory employer, tutors first: ``[(employer, [(user, is_tutor)])]``."""
    employers = signatory_employers(operation)
    if not employers:
        return []
    rows = db.session.execute(
        select(Membership.organisation_id, User, Membership.is_tutor)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.organisation_id.in_([e.id for e in employers]),
            Membership.active.is_(True),
            User.is_enabled.is_(True),
        )
        .order_by(Membership.is_tutor.desc(), User.last_name, User.first_name, User.id)
    ).all()
    people: dict[int, list] = {e.id: [] for e in employers}
    for organisation_id, user, is_tutor in rows:
        people[organisation_id].append((user, bool(is_tutor)))
    return [(e, people[e.id]) for e in employers]


def create_evaluation(
    operation: Operation, data: dict, *, by: User, org: Organisation
) -> Evaluation:
    """Plan an evaluation and invite the chosen employers' people and tutors (in the portal
    and by e-mail). ``data``: kind, held_at (naive UTC), place, notes, invitee_ids.

    One evaluation of a kind at a given time: the same one submitted again (a double
    click) answers the evaluation already planned, nobody is invited twice.
    """
    lock(operation)
    rules.check_carrier(operation, org)
    rules.check_running(operation)
    kind = EvaluationKind(data["kind"])
    place = (data.get("place") or "").strip()
    if not place:
        raise RuleError(_("Indiquez le lieu."), "place")
    planned = db.session.scalar(
        select(Evaluation).where(
            Evaluation.operation_id == operation.id,
            Evaluation.kind == kind,
            Evaluation.held_at == data["held_at"],
        )
    )
    if planned is not None:
        if planned.place == place[:200]:
            return planned
        raise RuleError(
            _("Une évaluation de ce type est déjà prévue à cette date et à cette heure."),
            "held_at",
        )
    people = {
        user.id: (user, employer)
        for employer, members in invitable_people(operation)
        for user, _tutor in members
    }
    invitee_ids = list(dict.fromkeys(data.get("invitee_ids", [])))
    if any(user_id not in people for user_id in invitee_ids):
        raise RuleError(
            _("Seuls les membres des entreprises signataires sont invité·es."), "invitee_ids"
        )
    evaluation = Evaluation(
        operation_id=operation.id,
        kind=kind,
        held_at=data["held_at"],
        place=place[:200],
        notes=(data.get("notes") or "").strip(),
        created_by_id=by.id,
    )
    db.session.add(evaluation)
    for user_id in invitee_ids:
        user, employer = people[user_id]
        evaluation.invitations.append(
            EvaluationInvitation(user_id=user.id, organisation_id=employer.id)
        )
    db.session.flush()
    log_event(
        operation,
        "evaluation_planned",
        by=by,
        org=org,
        evaluation_kind=kind.value,
        invited=len(invitee_ids),
        evaluation_id=evaluation.id,
    )
    when = format_datetime(evaluation.held_at, _("EEEE d MMMM y 'à' HH:mm"))
    notify(
        [people[user_id][0] for user_id in invitee_ids],
        kind="evaluation_invitation",
        message=_(
            "%(org)s vous invite : %(kind)s de la formation « %(title)s », le %(when)s, %(place)s.",
            org=org.name,
            kind=kind.title.lower(),
            title=operation.title,
            when=when,
            place=evaluation.place,
        ),
        endpoint="immersions.show_evaluation",
        operation=operation,
        email_subject=_(
            "Invitation : %(kind)s — %(title)s", kind=kind.title, title=operation.title
        ),
        operation_id=operation.id,
        evaluation_id=evaluation.id,
    )
    return evaluation


def _check_held(evaluation: Evaluation, now: datetime | None) -> None:
    if evaluation.held_at > (now or utcnow()):
        raise RuleError(_("L'évaluation n'a pas encore eu lieu."))


def record_attendance(
    evaluation: Evaluation,
    attended_ids,
    *,
    by: User,
    org: Organisation,
    now: datetime | None = None,
) -> int:
    """After the event, note who among the invited attended; returns how many did. The
    evaluation is locked first: a second record served meanwhile starts from this one."""
    lock(evaluation)
    operation = evaluation.operation
    rules.check_carrier(operation, org)
    _check_held(evaluation, now)
    attended_ids = set(attended_ids)
    invited = {i.user_id for i in evaluation.invitations}
    if not attended_ids <= invited:
        raise RuleError(_("Seules les personnes invitées peuvent être notées présentes."))
    for invitation in evaluation.invitations:
        invitation.attended = invitation.user_id in attended_ids
    db.session.flush()
    log_event(
        operation,
        "evaluation_attendance",
        by=by,
        org=org,
        evaluation_kind=evaluation.kind.value,
        attended=len(attended_ids),
        evaluation_id=evaluation.id,
    )
    return len(attended_ids)


def evaluated_trainees(operation: Operation) -> list[Trainee]:
    """Trainees who get a result: those who followed the training, by name."""
    return list(
        db.session.scalars(
            select(Trainee)
            .where(Trainee.operation_id == operation.id, Trainee.status.in_(EVALUATED_STATUSES))
            .order_by(Trainee.last_name, Trainee.first_name, Trainee.id)
        )
    )


def _certify(trainee: Trainee, evaluation: Evaluation, *, by: User, org: Organisation) -> None:
    """A certification jury's full result moves the trainee to « certifié·e » (through
    recruitment's status change: its rules, history and audit)."""
    if trainee.status == TraineeStatus.CERTIFIED:
        return
    try:
        recruitment_services.change_status(
            trainee,
            TraineeStatus.CERTIFIED,
            by=by,
            org=org,
            comment=_(
                "Certification obtenue au jury du %(d)s.",
                d=format_date(evaluation.held_at, "d MMMM y"),
            ),
        )
    except RuleError as exc:
        raise RuleError(f"{trainee.full_name} : {exc.message}", f"outcome-{trainee.id}") from exc


def record_results(
    evaluation: Evaluation,
    rows: list[dict],
    *,
    by: User,
    org: Organisation,
    now: datetime | None = None,
) -> int:
    """Record each trainee's result after the event; returns how many are recorded.

    ``rows``: ``{"trainee": Trainee, "outcome": Outcome | None, "blocks", "comment"}``; None
    removes a result. A jury's « certification obtenue » makes the trainee « certifié·e ».
    A second submit at once waits for the first and updates its results.
    """
    lock(evaluation)
    operation = evaluation.operation
    rules.check_carrier(operation, org)
    _check_held(evaluation, now)
    allowed = rules.outcomes_for(evaluation.kind)
    existing = {r.trainee_id: r for r in evaluation.results}
    certified = []
    for row in rows:
        trainee, outcome = row["trainee"], row.get("outcome")
        if trainee.operation_id != operation.id:
            raise RuleError(_("Ce·tte stagiaire ne suit pas cette opération."))
        blocks = (row.get("blocks") or "").strip()
        if outcome is None:
            if trainee.id in existing:
                evaluation.results.remove(existing[trainee.id])
            continue
        outcome = Outcome(outcome)
        if outcome not in allowed:
            raise RuleError(
                _(
                    "Résultat « %(o)s » impossible pour : %(k)s.",
                    o=outcome.title,
                    k=evaluation.kind.title,
                ),
                f"outcome-{trainee.id}",
            )
        if outcome == Outcome.PARTIAL and not blocks:
            raise RuleError(
                _("Indiquez les blocs de compétences obtenus par %(t)s.", t=trainee.full_name),
                f"blocks-{trainee.id}",
            )
        result = existing.get(trainee.id)
        if result is None:
            result = EvaluationResult(trainee_id=trainee.id)
            evaluation.results.append(result)
        result.outcome = outcome
        result.blocks = blocks if outcome == Outcome.PARTIAL else ""
        result.comment = (row.get("comment") or "").strip()
        if evaluation.kind == EvaluationKind.JURY and outcome == Outcome.FULL:
            certified.append(trainee)
    for trainee in sorted(certified, key=lambda t: t.id):
        lock(trainee)  # all of them before the first audit record (see core.locking)
    for trainee in certified:
        _certify(trainee, evaluation, by=by, org=org)
    db.session.flush()
    recorded = len(evaluation.results)
    log_event(
        operation,
        "evaluation_results",
        by=by,
        org=org,
        evaluation_kind=evaluation.kind.value,
        count=recorded,
        evaluation_id=evaluation.id,
    )
    return recorded
