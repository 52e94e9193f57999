"""Read-side queries of the employment follow-up: the lists (per operation and across
operations), the operation page's card and « À faire » — each in a fixed number of
queries, whatever the number of trainees."""

from dataclasses import dataclass, field
from datetime import date

from flask import has_request_context, request, url_for
from flask_babel import gettext as _
from sqlalchemy import and_, case, exists, func, insert, literal, or_, select
from sqlalchemy.orm import joinedload

from portal.accounts.access import acting_for_region, current_membership
from portal.accounts.models import Organisation, OrgKind, User
from portal.core.memo import Read, remember, remember_read
from portal.core.pagination import paginate
from portal.extensions import db
from portal.followup import rules
from portal.followup.access import follows_sql, visible_followups
from portal.followup.exits import WITH_EXIT
from portal.followup.models import (
    Answer,
    Milestone,
    MilestoneKind,
    PromiseOutcome,
    RetainedAnswer,
)
from portal.followup.rules import Progress
from portal.operations.access import is_carrier, visible_operations
from portal.operations.models import Operation, Status
from portal.recruitment.access import participant_visibility, visible_trainees
from portal.recruitment.models import JobPromise, Trainee, TraineeAccess


@dataclass
class Cell:
    """One milestone as a list shows it."""

    milestone: Milestone
    progress: Progress


@dataclass
class Row:
    """A trainee of a follow-up list with their three milestones."""

    trainee: Trainee
    cells: dict[MilestoneKind, Cell] = field(default_factory=dict)


def has_milestones():
    """SQL condition on ``Trainee``: the exit is recorded (the follow-ups exist)."""
    return exists().where(Milestone.trainee_id == Trainee.id)


def in_state(state: Progress | None, *, today: date, window: int):
    """SQL condition on ``Trainee``: one of their milestones is in ``state`` (any if None)."""
    if state is None:
        return has_milestones()
    return exists().where(
        Milestone.trainee_id == Trainee.id, rules.progress_sql(state, today=today, window=window)
    )


def rows_for(trainees: list[Trainee], *, today: date, window: int) -> list[Row]:
    """The trainees with their milestones, retained answers and employers (one query)."""
    rows = {t.id: Row(t) for t in trainees}
    if not rows:
        return []
    milestones = db.session.scalars(
        select(Milestone)
        .where(Milestone.trainee_id.in_(list(rows)))
        .options(
            joinedload(Milestone.retained)
            .joinedload(RetainedAnswer.answer)
            .joinedload(Answer.employer)
        )
    ).unique()
    for milestone in milestones:
        state = rules.progress(milestone.status, milestone.due_on, today=today, window=window)
        rows[milestone.trainee_id].cells[milestone.kind] = Cell(milestone, state)
    return list(rows.values())


def log_list_access(trainees: list[Trainee], user: User, org: Organisation | None) -> None:
    """One access log line per trainee whose follow-up a list shows (one statement)."""
    if not trainees:
        return
    ip = (request.remote_addr or "") if has_request_context() else ""
    db.session.execute(
        insert(TraineeAccess),
        [
            {
                "trainee_id": t.id,
                "user_id": user.id,
                "organisation_id": getattr(org, "id", None),
                "action": "followup_list",
                "ip": ip,
            }
            for t in trainees
        ],
    )


def operation_page(operation: Operation, state: Progress | None, *, today: date, window: int):
    """A page of the operation's follow-ups the user may see (``state``: one milestone in
    it), with their milestones: four queries whatever the number of trainees."""
    query = visible_followups(operation).where(in_state(state, today=today, window=window))
    page = paginate(query.order_by(Trainee.last_name, Trainee.first_name, Trainee.id))
    return page, rows_for(page.items, today=today, window=window)


def mine_query(org: Organisation, state: Progress | None, *, today: date, window: int):
    """``select(Trainee)`` of the follow-ups the user may see across operations: all of the
    visible operations for the Région, those of its operations for an organisme porteur,
    the trainees it prescribed, promised or hired for anyone else."""
    operations = visible_operations(select(Operation.id))
    query = (
        select(Trainee)
        .join(Operation, Operation.id == Trainee.operation_id)
        .where(Trainee.operation_id.in_(operations), in_state(state, today=today, window=window))
    )
    if not acting_for_region():
        share = participant_visibility(current_membership(), follows_sql)
        query = query.where(or_(Operation.provider_id == org.id, share))
    return query


def mine_page(org: Organisation, state: Progress | None, *, today: date, window: int):
    """A page of one's own follow-ups across operations, with their milestones."""
    query = mine_query(org, state, today=today, window=window).options(
        joinedload(Trainee.operation)
    )
    order = (Operation.title, Trainee.last_name, Trainee.first_name, Trainee.id)
    page = paginate(query.order_by(*order))
    return page, rows_for(page.items, today=today, window=window)


def state_counts(query, *, today: date, window: int) -> dict[Progress, int]:
    """How many milestones of the trainees of ``query`` (a ``select(Trainee)``) stand in each
    state (one query)."""
    counts = db.session.execute(_state_counts_select(query, today=today, window=window)).one()
    return dict(zip(Progress, counts, strict=True))


def _state_counts_select(query, *, today: date, window: int):
    trainee_ids = query.with_only_columns(Trainee.id).order_by(None)
    return select(
        *(
            func.count(case((rules.progress_sql(state, today=today, window=window), 1))).label(
                f"state_{state.value}"
            )
            for state in Progress
        )
    ).where(Milestone.trainee_id.in_(trainee_ids))


@dataclass(frozen=True)
class CardFigures:
    """What the operation page says of the end of training and the follow-up."""

    exits_to_record: int
    exits_recorded: int
    states: dict[Progress, int]
    outcomes_pending: int

    @property
    def to_do(self) -> int:
        """Follow-ups expected now: due, late, or waiting for a reconciliation."""
        return sum(self.states[s] for s in Progress if s.pending)

    @property
    def overdue(self) -> int:
        return self.states[Progress.OVERDUE]

    @property
    def to_reconcile(self) -> int:
        return self.states[Progress.TO_RECONCILE]

    @property
    def done(self) -> int:
        return self.states[Progress.DONE]


def _exits_select(operation: Operation):
    to_record = and_(Trainee.status.in_(WITH_EXIT), Trainee.exit_date.is_(None))
    return visible_trainees(
        operation,
        select(
            func.count(case((to_record, 1))).label("to_record"),
            func.count(case((Trainee.exit_date.is_not(None), 1))).label("recorded"),
        ),
    )


def _outcomes_pending_select(operation: Operation, org: Organisation | None = None):
    query = (
        select(func.count(JobPromise.id))
        .join(Trainee, Trainee.promise_id == JobPromise.id)
        .where(
            JobPromise.operation_id == operation.id,
            Trainee.exit_date.is_not(None),
            ~exists().where(PromiseOutcome.promise_id == JobPromise.id),
        )
    )
    if org is not None:
        query = query.where(JobPromise.organisation_id == org.id)
    return query


# The operation page shows the card from the training on.
CARD_STEPS = (Status.TRAINING, Status.FOLLOW_UP, Status.CLOSED)


def card_reads(operation: Operation) -> list[Read]:
    """The operation page card's read of ``operation`` (none where it shows no card)."""
    if operation.status not in CARD_STEPS:
        return []
    today, window = rules.today(), rules.window_days()
    return [card_read(operation, carrier=is_carrier(operation), today=today, window=window)]


def card_figures(operation: Operation, *, carrier: bool, today: date, window: int) -> CardFigures:
    """Exits, follow-up states and pending promise outcomes, in one statement, read once
    per request (the operation page's card and its « À faire »)."""
    return remember_read(card_read(operation, carrier=carrier, today=today, window=window))


def card_read(operation: Operation, *, carrier: bool, today: date, window: int) -> Read:
    """``card_figures``'s read (``memo.prefetch`` runs it with other cards')."""
    key = ("followup.card_figures", operation.id, carrier, today, window)

    def statement():
        exits = _exits_select(operation).subquery()
        states = _state_counts_select(visible_followups(operation), today=today, window=window)
        states = states.subquery()
        if carrier or acting_for_region():
            pending = _outcomes_pending_select(operation).scalar_subquery()
        else:
            pending = literal(0)
        return select(  # one statement: two one-row subqueries side by side
            exits.c.to_record, exits.c.recorded, *states.c, pending
        ).select_from(exits.join(states, literal(True)))

    return Read(key, statement, _card_figures)


def _card_figures(rows: list[tuple]) -> CardFigures:
    (row,) = rows
    counts = dict(zip(Progress, row[2:-1], strict=True))
    return CardFigures(row[0], row[1], counts, row[-1])


def _unanswered_by(org: Organisation, operation: Operation, *, today: date, window: int):
    """Follow-ups of trainees ``org`` follows, due or late, that ``org`` has not answered
    (their count, a statement)."""
    pending = or_(
        rules.progress_sql(Progress.DUE, today=today, window=window),
        rules.progress_sql(Progress.OVERDUE, today=today, window=window),
    )
    answered = exists().where(Answer.milestone_id == Milestone.id, Answer.organisation_id == org.id)
    return (
        select(func.count(Milestone.id))
        .join(Trainee, Trainee.id == Milestone.trainee_id)
        .where(Milestone.operation_id == operation.id, pending, ~answered, follows_sql(org.id))
    )


def _participant_read(operation: Operation, org: Organisation, *, today: date, window: int):
    """A participant's counts for its « À faire », in one statement: its follow-ups waiting
    for an answer and, for an employer, its promises whose outcome is not recorded."""
    waiting = _unanswered_by(org, operation, today=today, window=window).scalar_subquery()
    if org.kind == OrgKind.EMPLOYER:
        pending = _outcomes_pending_select(operation, org).scalar_subquery()
    else:
        pending = literal(0)
    key = ("followup.participant_todo", operation.id, org.id, today, window)
    return Read(key, select(waiting, pending), lambda rows: tuple(rows[0]))


def _carrier_todo(operation: Operation, *, today: date, window: int) -> list[tuple]:
    figures = card_figures(operation, carrier=True, today=today, window=window)
    ended = operation.session_end is not None and operation.session_end <= today
    states = figures.states
    due, late = states[Progress.DUE], states[Progress.OVERDUE]
    first = Progress.OVERDUE if late else Progress.DUE
    return [
        (
            figures.exits_to_record and (ended or operation.status == Status.FOLLOW_UP),
            "followup.list_exits",
            {},
            _("Enregistrer la sortie de formation de %(n)d stagiaire(s).",
              n=figures.exits_to_record),
        ),
        (
            due or late,
            "followup.list_followups",
            {"etat": first.value},
            _("Renseigner %(n)d suivi(s) dans l'emploi, dont %(late)d en retard.",
              n=due + late, late=late),
        ),
        (
            states[Progress.TO_RECONCILE],
            "followup.list_followups",
            {"etat": Progress.TO_RECONCILE.value},
            _("Rapprocher %(n)d suivi(s) aux réponses divergentes.",
              n=states[Progress.TO_RECONCILE]),
        ),
        (
            figures.outcomes_pending,
            "followup.list_promise_outcomes",
            {},
            _("Indiquer si %(n)d promesse(s) d'embauche ont été tenues.",
              n=figures.outcomes_pending),
        ),
    ]  # fmt: skip


def _participant_todo(operation: Operation, org: Organisation, *, today: date, window: int):
    employer = org.kind == OrgKind.EMPLOYER
    if employer and not current_membership().is_admin:
        return []  # an employer's admins answer its follow-ups and promises
    waiting, pending = remember_read(_participant_read(operation, org, today=today, window=window))
    tasks = [
        (
            waiting,
            "employment.list_followups",
            None,
            _("Renseigner %(n)d suivi(s) dans l'emploi de vos recrutés.", n=waiting)
            if employer
            else _("Renseigner %(n)d suivi(s) dans l'emploi des stagiaires que vous avez "
                   "orienté·es.", n=waiting),
        ),
    ]  # fmt: skip
    if employer:
        tasks.append(
            (
                pending,
                "followup.list_promise_outcomes",
                {},
                _("Indiquer si vos %(n)d promesse(s) d'embauche ont été tenues.", n=pending),
            )
        )
    return tasks


def _region_todo(operation: Operation, *, today: date, window: int) -> list[tuple]:
    # The card's read (the Région sees every follow-up of the operation, as the card counts)
    figures = card_figures(operation, carrier=False, today=today, window=window)
    late = figures.states[Progress.OVERDUE]
    return [
        (
            late,
            "followup.list_followups",
            {"etat": Progress.OVERDUE.value},
            _("%(n)d suivi(s) dans l'emploi en retard : l'organisme de formation est relancé.",
              n=late),
        )
    ]  # fmt: skip


def todo_reads(operation: Operation, *, org: Organisation) -> list[Read]:
    """The read ``todo`` makes for ``org`` on ``operation`` beyond the card's (for
    ``memo.prefetch``): a participant's counts."""
    if operation.status not in rules.RECORDING_STEPS or operation.provider_id == org.id:
        return []
    if org.kind == OrgKind.PARTNER or (
        org.kind == OrgKind.EMPLOYER and current_membership().is_admin
    ):
        today, window = rules.today(), rules.window_days()
        return [_participant_read(operation, org, today=today, window=window)]
    return []


def todo(operation: Operation, *, org: Organisation, carrier: bool) -> list[tuple[str, str]]:
    """The « À faire » for the end of training and the follow-up on one operation, each
    item ``(text, url)`` of where it is done."""
    if operation.status not in rules.RECORDING_STEPS:
        return []
    today, window = rules.today(), rules.window_days()
    if carrier:
        tasks = _carrier_todo(operation, today=today, window=window)
    elif org.kind in (OrgKind.EMPLOYER, OrgKind.PARTNER):
        tasks = _participant_todo(operation, org, today=today, window=window)
    elif org.kind == OrgKind.REGION:
        tasks = _region_todo(operation, today=today, window=window)
    else:
        tasks = []
    links = []
    for wanted, endpoint, values, text in tasks:
        if not wanted:
            continue
        # ``None``: a page of one's own, outside the operation.
        url = (
            url_for(endpoint)
            if values is None
            else url_for(endpoint, operation_id=operation.id, **values)
        )
        links.append((text, url))
    return links


def home_counts(org: Organisation) -> dict[Progress, int] | None:
    """The current user's follow-ups across operations by state (None when there are none):
    the home page's card. Read once per request: the home page's « À faire » asks too."""
    membership = current_membership()
    key = ("followup.home_counts", org.id, membership and membership.id)
    return remember(key, lambda: _home_counts(org))


def _home_counts(org: Organisation) -> dict[Progress, int] | None:
    today, window = rules.today(), rules.window_days()
    query = mine_query(org, None, today=today, window=window)
    counts = state_counts(query, today=today, window=window)
    return counts if any(counts.values()) else None
