"""« À faire » across every operation the user may see, in SQL (issue #16).

The home page, the header's count and the « À faire » page ask for the duties over all the
visible open operations: at 10,000 operations a user may have thousands. Each kind of duty
is therefore a ``select`` whose first columns are the operation's id and title, restricted
to the visible open operations on the joined row itself (``rows.operations``), so that:

- the count (``count``) is one query of ``COUNT``s, one per kind, that builds no label,
  no link and reads no frozen convention text;
- a page (``page``) reads, of each kind, only the first rows in the order of the list
  (``order_key``: urgency, operation title, operation id, then kind) — the merge of each
  kind's first ``offset + limit`` holds the list's rows ``offset`` to ``offset + limit``
  exactly — all kinds in one statement (``rows.read_rows``, a ``UNION ALL``), and labels
  only those shown.

One kind is decided in Python (``Listed``): the user's own follow-ups (one query). The
Région's co-designs to approve are found in SQL: the gate's verdict is kept at every write
(``design.gate``) and the blocking threads are read (``gate.approvable_sql``). The dual
memberships waiting for the Région are found in SQL
(``dual_memberships.pending_operation_ids``). The conventions' kinds are in
``signing.py``. The rules are those of ``duties.py`` (which runs them on one operation, for
its page): these modules say them in SQL.
"""

from dataclasses import replace

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import aliased

from portal.accounts.models import Membership, Organisation, OrgKind, User
from portal.design.gate import approvable_sql
from portal.design.models import CommentMention, Design, DesignComment, DesignSection
from portal.extensions import db
from portal.followup import queries as followup
from portal.followup.rules import Progress
from portal.immersions import queries as immersions
from portal.operations import dual_memberships
from portal.operations.models import (
    EmployerNeed,
    Funding,
    NeedsAnalysis,
    Operation,
    Participant,
    ParticipantRole,
    Position,
    Status,
)
from portal.recruitment.lasting import counts_sql
from portal.recruitment.models import JobPromise, Trainee
from portal.recruitment.rules import holds_place_sql
from portal.steering import queries as steering
from portal.steering.models import SteeringAction
from portal.todo import signing
from portal.todo.base import (
    BLOCKING,
    DECISION,
    NEED_STEPS,
    RECRUITING_STEPS,
    WORK,
    Duty,
    link,
    order_key,
)
from portal.todo.rows import (
    Listed,
    OperationRef,
    Rows,
    Who,
    has_participant,
    operations,
    read_rows,
    simple,
)

# --- The kinds, in the order of ``duties.RULES`` -------------------------------------------


def _region_decisions(who: Who) -> list:
    if not who.region:
        return []
    show = "operations.show_operation"
    return [
        simple(operations().where(Operation.acknowledged_at.is_(None)),
                _l("Accuser réception du besoin signalé."), show, "acknowledge", DECISION),
        simple(operations().where(Operation.funding == Funding.PENDING),
                _l("Décider : consultation FREF ou refus motivé (besoin hors marché)."),
                show, "fref", DECISION),
    ]  # fmt: skip


def _analysis(who: Who) -> list:
    if who.region:
        answer = operations().join(NeedsAnalysis, NeedsAnalysis.operation_id == Operation.id)
        answer = answer.where(
            NeedsAnalysis.sent_at.is_not(None),
            or_(NeedsAnalysis.answered_at.is_(None),
                NeedsAnalysis.answered_at < NeedsAnalysis.sent_at),
        )  # fmt: skip
        return [
            simple(answer, _l("Répondre à l'analyse des besoins transmise par l'organisme."),
                    "operations.show_analysis", "analysis", DECISION)
        ]  # fmt: skip
    sent = exists().where(
        NeedsAnalysis.operation_id == Operation.id, NeedsAnalysis.sent_at.is_not(None)
    )
    query = operations().where(
        Operation.provider_id == who.org.id, Operation.status == Status.ANALYSIS, ~sent
    )
    return [
        simple(query, _l("Compléter l'analyse des besoins et la transmettre à la Région."),
                "operations.show_analysis", "analysis")
    ]  # fmt: skip


def _cumuls(who: Who) -> list:
    """The Région decides the dual memberships waiting for it: the operations with one, in
    SQL (``dual_memberships.pending_operation_ids``)."""
    if not who.region:
        return []
    query = operations().where(Operation.id.in_(dual_memberships.pending_operation_ids()))

    def duty(row):
        return Duty(_l("Décider des cumuls d'appartenance (une personne dans deux parties)."),
                    link("operations.list_dual_memberships"), OperationRef(row[0], row[1]),
                    "cumul", DECISION)  # fmt: skip

    return [Rows(query, duty)]


def _design_approval(who: Who) -> list:
    """The Région approves a co-design that meets every condition (``design_problems``),
    said by the database: the verdict kept at every write and no blocking thread open
    (``gate.approvable_sql``)."""
    if not who.region:
        return []
    query = (
        operations()
        .join(Design, Design.operation_id == Operation.id)
        .where(Operation.status == Status.CO_DESIGN, Design.approved_at.is_(None))
        .where(approvable_sql())
    )
    return [
        simple(query, _l("Approuver la co-conception : toutes les conditions sont réunies."),
                "design.show_design", "design_approval", DECISION)
    ]  # fmt: skip


def _needs(who: Who) -> list:
    """An employer taking part while needs are gathered says its positions."""
    if who.org.kind != OrgKind.EMPLOYER:
        return []
    org_id = who.org.id
    filled = exists().where(
        EmployerNeed.operation_id == Operation.id,
        EmployerNeed.organisation_id == org_id,
        exists().where(Position.need_id == EmployerNeed.id),
    )
    query = operations().where(
        Operation.status.in_(NEED_STEPS),
        has_participant(Participant.organisation_id == org_id),
        ~filled,
    )
    return [
        simple(query, _l("Indiquer vos postes à pourvoir et vos besoins de compétences."),
                "operations.edit_employer_need", "needs", org_id=org_id)
    ]  # fmt: skip


def _mentions(who: Who) -> list:
    """Open comment threads of the co-design that mention the user or the organisation."""
    thread = aliased(DesignComment)
    query = (
        operations()
        .add_columns(DesignSection.key, func.count(func.distinct(DesignComment.id)).label("n"))
        .join(Design, Design.operation_id == Operation.id)
        .join(DesignSection, DesignSection.design_id == Design.id)
        .join(DesignComment, DesignComment.section_id == DesignSection.id)
        .outerjoin(thread, thread.id == DesignComment.parent_id)
        .where(
            # the meetings' index is partial (meeting_id IS NOT NULL, migration
            # a7c2e4f19b3d): SQLite starts from the mentions, indexed by user and organisation
            DesignSection.meeting_id.is_(None),
            DesignComment.resolved_at.is_(None),
            or_(DesignComment.parent_id.is_(None), thread.resolved_at.is_(None)),
            DesignComment.author_id != who.user.id,
            DesignComment.id.in_(
                select(CommentMention.comment_id).where(
                    or_(CommentMention.user_id == who.user.id,
                        CommentMention.organisation_id == who.org.id)
                )
            ),
        )
        .group_by(Operation.id, Operation.title, DesignSection.key)
    )  # fmt: skip

    def duty(row):
        label = _l("Co-conception, « %(section)s » : %(n)d commentaire(s) vous mentionnent.",
                   section=row.key.title, n=row.n)  # fmt: skip
        url = link("design.show_design", f"section-{row.key.value}", operation_id=row[0])
        return Duty(label, url, OperationRef(row[0], row[1]), "mention")

    return [Rows(query, duty, (DesignSection.key,))]


def _carrier_steps(who: Who) -> list:
    """The organisme porteur associates employers."""
    query = operations().where(
        Operation.provider_id == who.org.id,
        ~has_participant(Participant.role == ParticipantRole.EMPLOYER),
    )
    return [
        simple(query, _l("Associer les employeurs qui promettent des emplois."),
                "operations.list_participants", "participants")
    ]  # fmt: skip


def _over_recruitment(who: Who) -> list:
    """More trainees retained than promises (« 1 stagiaire pour 1 promesse »)."""
    recruited = (
        select(func.count(Trainee.id))
        .where(Trainee.operation_id == Operation.id, holds_place_sql())
        .scalar_subquery()
    )
    promises = (
        select(func.count(JobPromise.id))
        .where(JobPromise.operation_id == Operation.id, counts_sql())
        .scalar_subquery()
    )
    query = (
        operations()
        .add_columns(recruited.label("recruited"), promises.label("promises"))
        .where(Operation.status.in_(RECRUITING_STEPS), recruited > promises)
    )
    if not who.region:
        query = query.where(Operation.provider_id == who.org.id)

    def duty(row):
        label = _l("Le recrutement dépasse les promesses d'embauche : %(r)d stagiaire(s) "
                   "retenu·e(s) pour %(p)d promesse(s). Revenez à 1 stagiaire pour 1 promesse.",
                   r=row.recruited, p=row.promises)  # fmt: skip
        url = link("recruitment.show_recruitment", operation_id=row[0])
        return Duty(label, url, OperationRef(row[0], row[1]), "over_recruitment", BLOCKING)

    return [Rows(query, duty)]


def _immersions(who: Who) -> list:
    kinds = list(immersions.CARRIER_KINDS)
    if who.org.kind == OrgKind.EMPLOYER:
        kinds += immersions.HOST_KINDS

    def rows(kind):
        def duty(row):
            label = LazyString(immersions.todo_text, kind, row.n, row[3])
            url = immersions.todo_link(kind, row[0])
            return Duty(label, url, OperationRef(row[0], row[1]), kind)

        return Rows(immersions.todo_counts(operations(), who.org, kind), duty)

    return [rows(kind) for kind in kinds]


def _steering(who: Who) -> list:
    def action(row):
        url = link("steering.show_committee", operation_id=row[0])
        # what ``action_line`` reads of the action, never added to the session
        item = SteeringAction(title=row.action_title, due_on=row.due_on, done_at=row.done_at)
        label = LazyString(steering.action_line, item)
        return Duty(label, url, OperationRef(row[0], row[1]), "action")

    def minutes(approve: bool):
        def duty(row):
            label = LazyString(steering.minutes_text, row.meeting_title, approve=approve)
            url = link("steering.show_committee", operation_id=row[0])
            return Duty(label, url, OperationRef(row[0], row[1]), "minutes")

        query = steering.todo_minutes(operations(), who.org, approve=approve)
        return Rows(query, duty, (steering.SteeringMeeting.starts_at, steering.SteeringMeeting.id))

    actions = Rows(
        steering.todo_actions(operations(), who.org),
        action,
        (steering.SteeringAction.due_on, steering.SteeringAction.id),
    )
    return [actions, minutes(False), minutes(True)]


def _own_followups(who: Who) -> list:
    """Across operations: the user's follow-ups due or late (one query)."""
    if who.region or (who.org.kind == OrgKind.EMPLOYER and not who.is_admin):
        return []  # the Région follows the late ones per operation; an employer's admins answer

    def duties():
        counts = followup.home_counts(who.org)
        if counts is None:
            return []
        due, late = counts[Progress.DUE], counts[Progress.OVERDUE]
        if not due + late:
            return []
        return [
            Duty(
                _l("Renseigner %(n)d suivi(s) dans l'emploi, dont %(late)d en retard.",
                   n=due + late, late=late)
                if late
                else _l("Renseigner %(n)d suivi(s) dans l'emploi.", n=due),
                link("employment.list_followups"),
                None,
                "followup",
                BLOCKING if late else WORK,
            )
        ]  # fmt: skip

    return [Listed(duties)]


KINDS = (
    _region_decisions,
    _analysis,
    _cumuls,
    _design_approval,
    signing.signatures,
    _needs,
    _mentions,
    _carrier_steps,
    _over_recruitment,
    _immersions,
    _steering,
    _own_followups,
)


def _kinds(user: User, org: Organisation, membership: Membership | None) -> list:
    who = Who(user, org, membership)
    return [kind for rule in KINDS for kind in rule(who)]


def count(user: User, org: Organisation, membership: Membership | None = None) -> int:
    """How many duties ``org`` and ``user`` have over the visible operations: one query of
    ``COUNT``s for the kinds said in SQL, plus the few decided in Python."""
    return _count(_kinds(user, org, membership))


def page(
    user: User,
    org: Organisation,
    membership: Membership | None = None,
    *,
    limit: int | None = None,
    offset: int = 0,
    operations: bool = True,
) -> list[Duty]:
    """The duties ``offset`` to ``offset + limit`` of the list (every one when ``limit`` is
    None), in the list's order: each kind reads only its first ``offset + limit`` rows,
    all in one statement, and the operations of the duties kept are read in one query —
    or, without ``operations``, each duty names its own (``OperationRef``: its id and
    title, all the pages show of it)."""
    kept = _page(_kinds(user, org, membership), limit, offset)
    return _with_operations(kept) if operations else kept


def count_and_page(
    user: User,
    org: Organisation,
    membership: Membership | None = None,
    *,
    limit: int,
    offset: int = 0,
) -> tuple[int, list[Duty]]:
    """``count`` and ``page`` together in one read of each kind: its first rows carry the
    number of its rows (``COUNT(*) OVER ()``), and the kinds decided in Python are read
    once. Each duty names its operation (``OperationRef``: what the home card and the
    « À faire » page show of it), unread."""
    return _page(_kinds(user, org, membership), limit, offset, counted=True)


def _count(kinds: list) -> int:
    counts = [
        select(func.count()).select_from(k.query.order_by(None).subquery()).scalar_subquery()
        for k in kinds
        if isinstance(k, Rows)
    ]
    total = sum(db.session.execute(select(*counts)).one()) if counts else 0
    return total + sum(len(k.duties()) for k in kinds if isinstance(k, Listed))


def _page(kinds: list, limit: int | None, offset: int, counted: bool = False):
    """The page of the duties of ``kinds`` (with ``counted``: the number of them all, and
    the page): the kinds said in SQL read in one statement (``read_rows``)."""
    found, total = [], 0
    listed = [k for k in kinds if isinstance(k, Rows)]
    for kind, rows in zip(listed, read_rows(listed, _first(limit, offset), counted), strict=True):
        total += rows[0].kind_total if counted and rows else 0
        found.extend(kind.duty(row) for row in rows)
    for kind in kinds:
        if isinstance(kind, Listed):
            total += len(kind.duties())
            found.extend(kind.duties()[: _first(limit, offset)])
    # stable: the kinds' order within an operation (the duties of no operation, the
    # follow-ups', are of one kind)
    found.sort(key=order_key)
    kept = found[offset:] if limit is None else found[offset : offset + limit]
    return (total, kept) if counted else kept


def _first(limit: int | None, offset: int) -> int | None:
    return None if limit is None else offset + limit


def _with_operations(duties: list[Duty]) -> list[Duty]:
    """``duties`` with their operations read (one query), as the pages show them."""
    ids = {d.operation.id for d in duties if isinstance(d.operation, OperationRef)}
    if not ids:
        return duties
    read = {o.id: o for o in db.session.scalars(select(Operation).where(Operation.id.in_(ids)))}
    return [
        replace(d, operation=read[d.operation.id]) if isinstance(d.operation, OperationRef) else d
        for d in duties
    ]
