"""Factories for recruitment tests (the immersions tests use them too).

``make_recruiting_operation`` builds, in the current app context, an operation of the
``Market`` (tests/operations/factories.py) at the recruitment step: carried by Organisme A,
two employers with positions (hence job promises), a prescriber partner, a target headcount.
"""

import itertools
from datetime import date, timedelta

from sqlalchemy import select

from portal.core.time import utcnow
from portal.extensions import db
from portal.operations.models import (
    ContractType,
    EmployerNeed,
    Operation,
    ParticipantRole,
    Position,
    Status,
)
from portal.operations.services import _add_participant
from portal.recruitment import services, sessions
from portal.recruitment.models import (
    ExitReason,
    JobPromise,
    RecruitmentSession,
    SessionKind,
    Trainee,
    TraineeStatus,
)
from tests.operations.factories import Market

_numbers = itertools.count(1)


def add_positions(
    operation: Operation,
    employer,
    job_title="Agent·e de propreté",
    count=2,
    contract_type=ContractType.CDI,
    planned_start=None,
    duration_months=None,
) -> Position:
    """A position of ``count`` jobs in ``employer``'s need (the need created if missing)."""
    need = db.session.scalar(
        select(EmployerNeed).where(
            EmployerNeed.operation_id == operation.id, EmployerNeed.organisation_id == employer.id
        )
    )
    if need is None:
        need = EmployerNeed(operation=operation, organisation=employer)
        db.session.add(need)
    position = Position(
        need=need,
        job_title=job_title,
        count=count,
        contract_type=contract_type,
        duration_months=duration_months,
        planned_start=planned_start,
    )
    db.session.add(position)
    db.session.flush()
    return position


def make_recruiting_operation(
    market: Market | None = None,
    *,
    target: int | None = 4,
    counts: tuple[int, int] = (2, 1),
    session_start: date | None = None,
    status: Status = Status.RECRUITMENT,
) -> Operation:
    """An operation at ``status`` with promises: ``counts`` jobs at Entreprise E and F.

    The partner (Partenaire P) takes part as orientation partner (a prescriber); the
    session starts in 30 days unless ``session_start`` says otherwise.
    """
    market = market or Market()
    operation = market.report(employers=[market.employer, market.employer2])
    _add_participant(operation, market.partner, ParticipantRole.PARTNER_ORIENTATION, by=None)
    add_positions(operation, market.employer, "Agent·e de propreté", counts[0])
    if counts[1]:
        add_positions(
            operation,
            market.employer2,
            "Laveur·se de vitres",
            counts[1],
            contract_type=ContractType.CDD,
            duration_months=12,
        )
    operation.target_headcount = target
    operation.session_start = session_start or date.today() + timedelta(days=30)
    operation.status = status
    db.session.flush()
    services.create_promises(operation)
    return operation


def make_trainee(
    operation: Operation,
    *,
    status: TraineeStatus = TraineeStatus.CANDIDATE,
    promise: JobPromise | None = None,
    prescriber=None,
    first_name: str = "Alex",
    last_name: str | None = None,
    **fields,
) -> Trainee:
    """A trainee written straight to the database (no rule checked), at ``status``."""
    if status == TraineeStatus.EXITED:
        fields.setdefault("exit_date", date.today())
        fields.setdefault("exit_reason", ExitReason.END_OF_TRAINING)
    trainee = Trainee(
        operation_id=operation.id,
        first_name=first_name,
        last_name=last_name or f"Durand-{next(_numbers)}",
        status=status,
        promise=promise,
        prescriber=prescriber,
        **fields,
    )
    db.session.add(trainee)
    db.session.flush()
    return trainee


def promises_of(operation: Operation, employer=None) -> list[JobPromise]:
    """The operation's promises (of ``employer`` if given), by id."""
    query = select(JobPromise).where(JobPromise.operation_id == operation.id)
    if employer is not None:
        query = query.where(JobPromise.organisation_id == employer.id)
    return list(db.session.scalars(query.order_by(JobPromise.id)))


# Accounts added by the recruitment world (tests/recruitment/conftest.py), besides the Market's.
EMPLOYER3 = "g.admin@example.fr"
TUTOR = "tuteur.e@example.fr"  # a tutor of Entreprise E
PARTNER2 = "q.admin@example.fr"  # Partenaire Q, a second prescriber (the job dating world)
EMPLOYER_MEMBER = "e.membre@example.fr"  # a member of Entreprise E who is not its admin


def make_session(
    operation: Operation,
    by,
    org,
    trainees=(),
    employers=(),
    *,
    starts_in: timedelta = timedelta(days=-1),
    kind: SessionKind = SessionKind.JOB_DATING,
) -> RecruitmentSession:
    """A session planned by the organisme porteur (yesterday unless ``starts_in`` says
    otherwise), with ``trainees`` and ``employers`` invited through the service."""
    session = sessions.plan_session(
        operation,
        {
            "kind": kind,
            "starts_at": utcnow() + starts_in,
            "place": "Centre de formation, salle 2",
            "video_link": "",
            "details": "",
        },
        by=by,
        org=org,
    )
    if trainees or employers:
        sessions.invite(
            session, [t.id for t in trainees], [e.id for e in employers], by=by, org=org
        )
    return session
