"""Read-side queries of immersions, debriefs and evaluations: each page in a fixed number of
queries, whatever the number of trainees."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import url_for
from flask_babel import LazyString
from flask_babel import gettext as _
from sqlalchemy import Integer, and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import joinedload, selectinload

from portal.accounts.models import OrgKind
from portal.core.memo import Read, remember_read
from portal.core.pagination import PER_PAGE, Page, paginate, paginate_keys
from portal.core.time import utcnow
from portal.extensions import db
from portal.immersions import rules
from portal.immersions.models import (
    Debrief,
    DebriefTrainee,
    Evaluation,
    EvaluationInvitation,
    Immersion,
    TutorAssessment,
)
from portal.immersions.rules import tutored_by
from portal.operations.models import Operation, Status
from portal.recruitment.access import visible_trainees
from portal.recruitment.models import Trainee, TraineeStatus

# Trainees listed on the immersions page besides those who already have an immersion.
LISTED_STATUSES = (TraineeStatus.RETAINED, TraineeStatus.IN_TRAINING)
# The tutor's space shows immersions that ended up to this many days ago.
RECENT_DAYS = 90
# The tutor's agenda: the coming evaluations a page at a time, by its own query argument
# (the page's immersions are paged by ``page``).
AGENDA_PER_PAGE = 10
AGENDA_PAGE = "rendez_vous"


@dataclass
class ImmersionRow:
    """An immersion as a list shows it, with its state."""

    immersion: Immersion
    state: rules.ImmersionState


@dataclass
class TraineeRow:
    """A trainee of the immersions page with their immersions in date order."""

    trainee: Trainee
    immersions: list[ImmersionRow] = field(default_factory=list)


def visible_ids(operation: Operation):
    """A select of the ids of the trainees the current user may see."""
    return visible_trainees(operation, select(Trainee.id))


def debriefed_ids(immersion_ids) -> set[int]:
    """Those of ``immersion_ids`` that a debrief covers."""
    immersion_ids = list(immersion_ids)
    if not immersion_ids:
        return set()
    return set(
        db.session.scalars(
            select(DebriefTrainee.immersion_id).where(
                DebriefTrainee.immersion_id.in_(immersion_ids)
            )
        )
    )


def rows_for(immersions: list[Immersion], today: date) -> list[ImmersionRow]:
    """Immersions with their states (one query for the debriefs)."""
    done = debriefed_ids(i.id for i in immersions)
    return [
        ImmersionRow(i, rules.immersion_state(i, today=today, debriefed=i.id in done))
        for i in immersions
    ]


def immersions_page(operation: Operation, *, today: date) -> tuple[Page, list[TraineeRow]]:
    """A page of the visible trainees (retained, in training, or with an immersion) and
    their immersions: five queries whatever the number of trainees."""
    has_immersion = exists().where(Immersion.trainee_id == Trainee.id)
    query = visible_trainees(operation).where(
        or_(Trainee.status.in_(LISTED_STATUSES), has_immersion)
    )
    page = paginate(query.order_by(Trainee.last_name, Trainee.first_name, Trainee.id))
    by_trainee = {t.id: TraineeRow(t) for t in page.items}
    immersions = (
        db.session.scalars(
            select(Immersion)
            .where(Immersion.trainee_id.in_(list(by_trainee)))
            .options(
                joinedload(Immersion.employer),
                joinedload(Immersion.tutor),
                joinedload(Immersion.suggested_tutor),
                joinedload(Immersion.assessment),
            )
            .order_by(Immersion.starts_on, Immersion.id)
        ).all()
        if by_trainee
        else []
    )
    for row in rows_for(immersions, today):
        by_trainee[row.immersion.trainee_id].immersions.append(row)
    return page, list(by_trainee.values())


def load_immersion(operation_id: int, immersion_id: int) -> Immersion | None:
    """The immersion with what its pages show, if it belongs to the operation."""
    immersion = db.session.scalar(
        select(Immersion)
        .where(Immersion.id == immersion_id, Immersion.operation_id == operation_id)
        .options(
            selectinload(Immersion.trainee),
            selectinload(Immersion.employer),
            selectinload(Immersion.tutor),
            selectinload(Immersion.suggested_tutor),
            selectinload(Immersion.assessment).selectinload(TutorAssessment.ratings),
        )
    )
    return immersion


TUTOR_LOADS = (
    joinedload(Immersion.trainee),
    joinedload(Immersion.operation),
    joinedload(Immersion.employer),
    joinedload(Immersion.tutor),
    joinedload(Immersion.suggested_tutor),
    joinedload(Immersion.assessment),
)


def _tutor_scope(user_id: int, employer_id: int, *, hosts: bool, today: date):
    """Immersions of the employer ``employer_id`` (the current organisation) that the user
    is the designated tutor of — or, for an admin of that employer (``hosts``), every
    immersion it hosts — current, coming and recent. Acting for the employer means being
    one of its active members: a former member or a replaced tutor sees nothing more — nor
    does a designated tutor no longer an active tutor of the host (``tutored_by``)."""
    who = Immersion.employer_id == employer_id
    if not hosts:
        who = and_(who, tutored_by(user_id, employer_id))
    return and_(who, Immersion.ends_on >= today - timedelta(days=RECENT_DAYS))


def tutor_immersions(
    user_id: int, employer_id: int, *, hosts: bool, today: date
) -> list[Immersion]:
    """Every immersion of the tutor's space (``_tutor_scope``), latest first."""
    return list(
        db.session.scalars(
            select(Immersion)
            .where(_tutor_scope(user_id, employer_id, hosts=hosts, today=today))
            .options(*TUTOR_LOADS)
            .order_by(Immersion.starts_on.desc(), Immersion.id)
        )
    )


@dataclass
class TutorSpace:
    """The tutor's home: the immersions a page at a time (latest first), the assessments
    due from the user (the oldest ``PER_PAGE``, and how many in all), for a host how many
    current or coming immersions await their tutor, and the coming evaluations the user is
    invited to, ``AGENDA_PER_PAGE`` at a time (soonest first)."""

    page: Page
    due: list[Immersion]
    due_total: int
    undesignated: int
    agenda: Page


def _with_tutor_loads(order):
    """The immersions whose ids a statement selects, with what the tutor space shows."""
    return lambda ids: (
        select(Immersion).where(Immersion.id.in_(ids)).options(*TUTOR_LOADS).order_by(*order)
    )


def tutor_space(
    user_id: int, employer_id: int, *, hosts: bool, today: date, now: datetime
) -> TutorSpace:
    """The tutor's home in a fixed number of queries (five), whatever the number of
    immersions: the three counts in one statement, then each list a page of ids first
    (``paginate_keys``), read with its joins."""
    scope = _tutor_scope(user_id, employer_id, hosts=hosts, today=today)
    due = and_(
        Immersion.tutor_id == user_id,
        Immersion.starts_on <= today,
        ~Immersion.assessment.has(),
    )
    undesignated = and_(Immersion.tutor_id.is_(None), Immersion.ends_on >= today)
    total, due_total, waiting = db.session.execute(
        select(
            func.count(),
            func.count(case((due, 1))),
            func.count(case((undesignated, 1))) if hosts else literal(0),
        )
        .select_from(Immersion)
        .where(scope)
    ).one()
    latest = (Immersion.starts_on.desc(), Immersion.id)
    oldest = (Immersion.starts_on, Immersion.id)
    page = paginate_keys(
        select(Immersion.id).where(scope).order_by(*latest),
        _with_tutor_loads(latest),
        total=total,
    )
    first_due = select(Immersion.id).where(scope, due).order_by(*oldest).limit(PER_PAGE)
    return TutorSpace(
        page=page,
        due=list(db.session.scalars(_with_tutor_loads(oldest)(first_due)).unique()),
        due_total=due_total,
        undesignated=waiting,
        agenda=paginate_keys(
            _agenda_ids(user_id, employer_id, now),
            _invitations,
            per_page=AGENDA_PER_PAGE,
            arg=AGENDA_PAGE,
        ),
    )


def _agenda_ids(user_id: int, employer_id: int, now: datetime):
    """The ids of the coming evaluations, reviews and juries the user is invited to for the
    employer (not those of a cancelled operation), soonest first."""
    return (
        select(EvaluationInvitation.id)
        .join(Evaluation, Evaluation.id == EvaluationInvitation.evaluation_id)
        .join(Operation, Operation.id == Evaluation.operation_id)
        .where(
            EvaluationInvitation.user_id == user_id,
            EvaluationInvitation.organisation_id == employer_id,
            Evaluation.held_at >= now,
            Operation.status != Status.CANCELLED,
        )
        .order_by(Evaluation.held_at, Evaluation.id)
    )


def _invitations(ids):
    """The invitations whose ids a statement selects, soonest first, with their evaluation
    and its operation."""
    return (
        select(EvaluationInvitation)
        .join(Evaluation, Evaluation.id == EvaluationInvitation.evaluation_id)
        .where(EvaluationInvitation.id.in_(ids))
        .options(joinedload(EvaluationInvitation.evaluation).joinedload(Evaluation.operation))
        .order_by(Evaluation.held_at, Evaluation.id)
    )


def tutor_agenda(user_id: int, employer_id: int, *, now: datetime) -> list[EvaluationInvitation]:
    """Every coming evaluation, review and jury the user is invited to for the employer,
    soonest first, with their operation (the tutor space shows them a page at a time)."""
    return list(db.session.scalars(_invitations(_agenda_ids(user_id, employer_id, now))))


def debriefs(operation: Operation, trainee_ids) -> list[Debrief]:
    """Debriefs about at least one visible trainee, newest first, with their people."""
    about_visible = exists().where(
        DebriefTrainee.debrief_id == Debrief.id, DebriefTrainee.trainee_id.in_(trainee_ids)
    )
    return list(
        db.session.scalars(
            select(Debrief)
            .where(Debrief.operation_id == operation.id, about_visible)
            .options(
                selectinload(Debrief.trainees).joinedload(DebriefTrainee.trainee),
                selectinload(Debrief.trainees).joinedload(DebriefTrainee.immersion),
                selectinload(Debrief.attendees),
                joinedload(Debrief.created_by),
            )
            .order_by(Debrief.held_on.desc(), Debrief.id.desc())
        )
    )


def evaluations(operation: Operation) -> list[Evaluation]:
    """The operation's evaluations, latest first, with invitations and results."""
    return list(
        db.session.scalars(
            select(Evaluation)
            .where(Evaluation.operation_id == operation.id)
            .options(
                selectinload(Evaluation.invitations).selectinload(EvaluationInvitation.user),
                selectinload(Evaluation.invitations).selectinload(
                    EvaluationInvitation.organisation
                ),
                selectinload(Evaluation.results),
            )
            .order_by(Evaluation.held_at.desc(), Evaluation.id.desc())
        )
    )


@dataclass(frozen=True)
class Figures:
    """What the operation page says of immersions, debriefs and evaluations."""

    immersions: int
    ready: int
    debriefs_due: int
    debriefs_overdue: int
    evaluations_held: int
    evaluations_attended: int  # held evaluations at least one employer's person attended
    people_attended: int


def card_reads(operation: Operation) -> list[Read]:
    """The operation page card's read of ``operation`` (none before the recruitment)."""
    return [figures_read(operation)] if operation.status in rules.RUNNING_STEPS else []


def figures(operation: Operation, *, now: datetime | None = None) -> Figures:
    """Counts for the operation page, in one statement (three one-row subqueries), read
    once per request."""
    return remember_read(figures_read(operation, now=now))


def figures_read(operation: Operation, *, now: datetime | None = None) -> Read:
    """``figures``' read (``memo.prefetch`` runs it with other cards'); ``now`` given
    (tests) and the days it counts from are part of its key."""
    today = rules.today()
    late_before = today - timedelta(days=rules.overdue_days())
    key = ("immersions.figures", operation.id, now, today, late_before)
    given = now

    def statement():
        now = given or utcnow()
        not_debriefed = ~exists().where(DebriefTrainee.immersion_id == Immersion.id)
        ended = and_(Immersion.ends_on < today, not_debriefed)
        counts = (
            select(
                func.count(Immersion.id).label("immersions"),
                func.count(case((Immersion.prepared_at.is_not(None), 1))).label("ready"),
                func.count(case((ended, 1))).label("due"),
                func.count(case((and_(ended, Immersion.ends_on < late_before), 1))).label("late"),
            )
            .where(Immersion.operation_id == operation.id)
            .subquery()
        )
        held = (
            select(func.count(Evaluation.id))
            .where(Evaluation.operation_id == operation.id, Evaluation.held_at <= now)
            .scalar_subquery()
        )
        attended = (
            select(
                func.count(func.distinct(EvaluationInvitation.evaluation_id)).label("evaluations"),
                func.count(EvaluationInvitation.id).label("people"),
            )
            .join(Evaluation, Evaluation.id == EvaluationInvitation.evaluation_id)
            .where(Evaluation.operation_id == operation.id, EvaluationInvitation.attended.is_(True))
            .subquery()
        )
        return select(
            counts.c.immersions, counts.c.ready, counts.c.due, counts.c.late, held,
            attended.c.evaluations, attended.c.people,
        ).select_from(counts.join(attended, literal(True)))  # fmt: skip

    return Read(key, statement, _figures)


def _figures(rows: list[tuple]) -> Figures:
    ((immersions, ready, due, overdue, held, attended_evaluations, people),) = rows
    return Figures(
        immersions=immersions,
        ready=ready,
        debriefs_due=due,
        debriefs_overdue=overdue,
        evaluations_held=held,
        evaluations_attended=attended_evaluations,
        people_attended=people,
    )


def _todo_split(operations: list[Operation], org) -> tuple[list[int], list[int]]:
    """The running operations ``org`` carries, and those it may host immersions of."""
    running = [o for o in operations if o.status in rules.RUNNING_STEPS]
    carried = [o.id for o in running if o.provider_id == org.id]
    hosted = [o.id for o in running if o.provider_id != org.id]
    return carried, hosted if org.kind == OrgKind.EMPLOYER else []


def todo_reads(operations: list[Operation], *, org) -> list[Read]:
    """``todo``'s read (none where it reads nothing), for ``memo.prefetch``."""
    carried, hosted = _todo_split(operations, org)
    return [todo_read(operations, org=org)] if carried or hosted else []


def todo_read(operations: list[Operation], *, org) -> Read:
    """The counts behind ``todo``, in one statement: per operation, each condition's
    immersions (those of the carrier's counted on the operations ``org`` carries, the
    host's on the others — the unused counts are left aside)."""
    carried, hosted = _todo_split(operations, org)
    today = rules.today()
    soon, overdue = rules.reminder_days(), rules.overdue_days()
    conditions = _todo_conditions(org)  # the carrier's three first, then the host's two
    statement = (
        select(
            Immersion.operation_id,
            *(func.count(case((and_(*where), 1))) for where in conditions.values()),
        )
        .where(Immersion.operation_id.in_(carried + hosted))
        .group_by(Immersion.operation_id)
        .order_by(Immersion.operation_id)
    )

    def counts(rows: list[tuple]) -> dict[str, dict[int, int]]:
        found = {}
        for i, name in enumerate(conditions):
            scope = set(carried if i < 3 else hosted)
            found[name] = {row[0]: row[i + 1] for row in rows if row[0] in scope and row[i + 1]}
        return found

    key = ("immersions.todo", tuple(o.id for o in operations), org.id, today, soon, overdue)
    return Read(key, statement, counts)


def _todo_conditions(org) -> dict[str, tuple]:
    """The immersions each « À faire » of immersions counts, by kind (``late``: those of
    ``due`` past the overdue delay): the organisme porteur's first, then the host's."""
    today = rules.today()
    not_debriefed = ~exists().where(DebriefTrainee.immersion_id == Immersion.id)
    unassessed = ~exists().where(TutorAssessment.immersion_id == Immersion.id)
    here = Immersion.employer_id == org.id
    return {
        "debrief": (Immersion.ends_on < today, not_debriefed),
        "late": (Immersion.ends_on < today - timedelta(days=rules.overdue_days()), not_debriefed),
        "prepare": (
            Immersion.prepared_at.is_(None),
            Immersion.starts_on >= today,
            Immersion.starts_on <= today + timedelta(days=rules.reminder_days()),
        ),
        "assessment": (here, Immersion.starts_on <= today, unassessed),
        "tutor": (here, Immersion.tutor_id.is_(None), Immersion.ends_on >= today),
    }


CARRIER_KINDS = ("debrief", "prepare")
HOST_KINDS = ("assessment", "tutor")


def todo_text(kind: str, n: int, late: int = 0) -> str:
    """The French line of a kind of « À faire » of immersions, for ``n`` immersions."""
    if kind == "debrief":
        return _("Tenir %(n)d retour(s) d'expérience après immersion, dont %(late)d en retard.",
                 n=n, late=late)  # fmt: skip
    if kind == "prepare":
        return _("Préparer %(n)d immersion(s) qui commencent dans les %(d)d jours.",
                 n=n, d=rules.reminder_days())  # fmt: skip
    if kind == "assessment":
        return _("%(n)d immersion(s) de votre entreprise attendent l'évaluation du ou de la "
                 "tuteur·rice.", n=n)  # fmt: skip
    return _("Désigner le ou la tuteur·rice de %(n)d immersion(s) en cours ou à venir dans "
             "votre entreprise.", n=n)  # fmt: skip


def todo_link(kind: str, operation_id: int) -> LazyString:
    """Where a kind of « À faire » of immersions is done (built when read): the tutor's
    space is the employer's, across operations."""
    if kind in HOST_KINDS:
        return LazyString(url_for, "tutoring.tutor_home")
    endpoint = "immersions.list_debriefs" if kind == "debrief" else "immersions.list_immersions"
    return LazyString(url_for, endpoint, operation_id=operation_id)


def todo_counts(operations, org, kind: str):
    """The ``select`` of ``(operation id, operation title, n, late)`` of one kind of « À
    faire » of immersions over ``operations`` (a ``select`` of ``Operation`` columns, the
    visible open ones), one row per operation that has any: the running operations
    ``org`` carries (``CARRIER_KINDS``) or hosts (``HOST_KINDS``, an employer's).

    The kind's conditions filter the immersions before they are grouped (a host's are
    found by its employer index), and only the debriefs count their late ones: counting
    every condition of every immersion of every running operation cost tens of
    milliseconds a kind at 10,000 operations (issue #16)."""
    conditions = _todo_conditions(org)
    side = (
        (Operation.provider_id == org.id)
        if kind in CARRIER_KINDS
        else (Operation.provider_id != org.id)
    )
    late = (
        func.count(case((and_(*conditions["late"]), 1)))
        if kind == "debrief"
        else literal(0, Integer)
    )
    return (
        operations.add_columns(func.count(Immersion.id).label("n"), late)
        .join(Immersion, Immersion.operation_id == Operation.id)
        .where(Operation.status.in_(rules.RUNNING_STEPS), side, *conditions[kind])
        .group_by(Operation.id, Operation.title)
    )


def todo(operations: list[Operation], *, org) -> list[tuple]:
    """The « À faire » of immersions over ``operations`` as ``(operation id, kind, text,
    url)``, text and url built when read: debriefs due and immersions to prepare for the
    organisme porteur, assessments awaited and tutors to designate for a host employer —
    in at most one query whatever the number of operations (none on the operation page:
    ``todo_reads`` is prefetched; across the visible operations, ``todo_counts``)."""
    reads = todo_reads(operations, org=org)
    if not reads:
        return []
    counts = remember_read(reads[0])
    late = counts["late"]
    return [
        (operation_id, kind, LazyString(todo_text, kind, n, late.get(operation_id, 0)),
         todo_link(kind, operation_id))
        for kind in (*CARRIER_KINDS, *HOST_KINDS)
        for operation_id, n in counts[kind].items()
    ]  # fmt: skip
