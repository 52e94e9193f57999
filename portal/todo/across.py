"""« À faire » across every operation the user may see, in SQL (issue #16).

The home page, the header's count and the « À faire » page ask for the duties over all the
visible open operations: at 10,000 operations a user may have thousands. Each kind of duty
is therefore a ``select`` whose first columns are the operation's id and title, restricted
to the visible open operations on the joined row itself (``_operations``), so that:

- the count (``count``) is one query of ``COUNT``s, one per kind, that builds no label,
  no link and reads no frozen convention text;
- a page (``page``) reads, of each kind, only the first rows in the order of the list
  (``order_key``: urgency, operation title, operation id, then kind) — the merge of each
  kind's first ``offset + limit`` holds the list's rows ``offset`` to ``offset + limit``
  exactly — and labels only those shown.

Two kinds need Python to decide (``Listed``): a co-design's conditions
(``design_problems``) and the dual memberships the Région decides, both the Région's and
both read through the visible operations' subquery. The rules are those of ``duties.py``
(which runs them on one operation, for its page): this module says them in SQL.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import aliased, contains_eager, subqueryload

from portal.accounts.models import Membership, Organisation, OrgKind, User
from portal.conventions.models import (
    Convention,
    ConventionVersion,
    DesignatedSigner,
    Signature,
    VersionStatus,
)
from portal.conventions.state import signing_party_sql
from portal.design.comments import open_blocking_by_design
from portal.design.models import CommentMention, Design, DesignComment, DesignSection
from portal.design.services import design_problems
from portal.extensions import db
from portal.followup import queries as followup
from portal.followup.rules import Progress
from portal.immersions import queries as immersions
from portal.operations import dual_memberships
from portal.operations.access import visible_operations
from portal.operations.models import (
    DRAFTING_STEPS,
    EmployerNeed,
    Funding,
    NeedsAnalysis,
    Operation,
    Participant,
    ParticipantRole,
    PendingChange,
    Position,
    Status,
)
from portal.recruitment.lasting import counts_sql
from portal.recruitment.models import JobPromise, Trainee
from portal.recruitment.rules import holds_place_sql
from portal.steering import queries as steering
from portal.todo.base import (
    BLOCKING,
    DECISION,
    NEED_STEPS,
    RECRUITING_STEPS,
    WORK,
    Duty,
    link,
    order_key,
    signature_label,
)


@dataclass(frozen=True)
class OperationRef:
    """What a duty shows of its operation until the page's operations are read."""

    id: int
    title: str


@dataclass(frozen=True)
class Rows:
    """One kind of duty as a ``select`` of ``(operation id, operation title, …)``, one row
    a duty, ``order`` ordering the rows of one operation; ``duty(row)`` builds the duty
    (its label and link lazy)."""

    query: Select
    duty: Callable
    order: tuple = ()


@dataclass(frozen=True)
class Listed:
    """One kind of duty decided in Python: every duty of the kind, in the list's order."""

    duties: Callable[[], list[Duty]]


@dataclass
class _Who:
    user: User
    org: Organisation
    membership: Membership | None

    @property
    def region(self) -> bool:
        return self.org.kind == OrgKind.REGION

    @property
    def is_admin(self) -> bool:
        return self.membership is not None and self.membership.is_admin


def _operations() -> Select:
    """``(operation id, title)`` of the visible operations still open: each kind joins its
    rows to it (the visibility rule applies to the joined row itself)."""
    return _open(select(Operation.id, Operation.title))


def _open(query: Select) -> Select:
    """``query`` (which selects from ``Operation``) on the visible operations still open."""
    return visible_operations(query).where(
        Operation.status.not_in((Status.CLOSED, Status.CANCELLED))
    )


def _has_participant(*where):
    return exists().where(
        Participant.operation_id == Operation.id, Participant.withdrawn_at.is_(None), *where
    )


def _simple(query, label, endpoint: str, kind: str, urgency: int = WORK, **values) -> Rows:
    """A kind with one fixed label, linked to ``endpoint`` of the operation."""

    def duty(row):
        url = link(endpoint, operation_id=row[0], **values)
        return Duty(label, url, OperationRef(row[0], row[1]), kind, urgency)

    return Rows(query, duty)


# --- The kinds, in the order of ``duties.RULES`` -------------------------------------------


def _region_decisions(who: _Who) -> list:
    if not who.region:
        return []
    show = "operations.show_operation"
    return [
        _simple(_operations().where(Operation.acknowledged_at.is_(None)),
                _l("Accuser réception du besoin signalé."), show, "acknowledge", DECISION),
        _simple(_operations().where(Operation.funding == Funding.PENDING),
                _l("Décider : consultation FREF ou refus motivé (besoin hors marché)."),
                show, "fref", DECISION),
    ]  # fmt: skip


def _analysis(who: _Who) -> list:
    if who.region:
        answer = _operations().join(NeedsAnalysis, NeedsAnalysis.operation_id == Operation.id)
        answer = answer.where(
            NeedsAnalysis.sent_at.is_not(None),
            or_(NeedsAnalysis.answered_at.is_(None),
                NeedsAnalysis.answered_at < NeedsAnalysis.sent_at),
        )  # fmt: skip
        return [
            _simple(answer, _l("Répondre à l'analyse des besoins transmise par l'organisme."),
                    "operations.show_analysis", "analysis", DECISION)
        ]  # fmt: skip
    sent = exists().where(
        NeedsAnalysis.operation_id == Operation.id, NeedsAnalysis.sent_at.is_not(None)
    )
    query = _operations().where(
        Operation.provider_id == who.org.id, Operation.status == Status.ANALYSIS, ~sent
    )
    return [
        _simple(query, _l("Compléter l'analyse des besoins et la transmettre à la Région."),
                "operations.show_analysis", "analysis")
    ]  # fmt: skip


def _cumuls(who: _Who) -> list:
    if not who.region:
        return []

    def duties():
        within = _operations().with_only_columns(Operation.id)
        return [
            Duty(_l("Décider des cumuls d'appartenance (une personne dans deux parties)."),
                 link("operations.list_dual_memberships"), operation, "cumul", DECISION)
            for operation, standings in dual_memberships.pending_by_operation(within)
            if any(s.pending for s in standings)
        ]  # fmt: skip

    return [Listed(lambda: sorted(duties(), key=order_key))]


def _design_approval(who: _Who) -> list:
    """The Région approves a co-design that meets every condition (``design_problems``)."""
    if not who.region:
        return []

    def duties():
        designs = db.session.scalars(
            _open(select(Design).join(Operation, Operation.id == Design.operation_id))
            .where(Operation.status == Status.CO_DESIGN, Design.approved_at.is_(None))
            # its operation read with it (``design_problems`` checks its hours);
            # subqueryload: one query whatever the number of designs (selectinload: one per 500)
            .options(contains_eager(Design.operation), subqueryload(Design.sections))
            .order_by(Operation.title, Operation.id)
        ).all()
        blocking = open_blocking_by_design([design.id for design in designs])
        return [
            Duty(_l("Approuver la co-conception : toutes les conditions sont réunies."),
                 link("design.show_design", operation_id=design.operation_id),
                 design.operation, "design_approval", DECISION)
            for design in designs
            if not design_problems(design, include_approval=False,
                                   blocking=blocking.get(design.id, 0))
        ]  # fmt: skip

    return [Listed(duties)]


def _signatures(who: _Who) -> list:
    """A version out for signature that ``org`` has not signed, ``org`` a signing party
    of its frozen text (read by the database); for the Région, a version signed by every
    party that waits for its validation."""
    versions = (
        _operations()
        .join(Convention, Convention.operation_id == Operation.id)
        .join(ConventionVersion, ConventionVersion.convention_id == Convention.id)
    )
    kinds = []
    if who.region:

        def validation(row):
            label = _l("Valider ou rejeter la version %(n)s de la convention, signée par "
                       "toutes les parties.", n=row.number)  # fmt: skip
            url = link("conventions.show_version", operation_id=row[0], number=row.number)
            return Duty(label, url, OperationRef(row[0], row[1]), "validation", BLOCKING)

        signed = versions.add_columns(ConventionVersion.number).where(
            ConventionVersion.status == VersionStatus.SIGNED
        )
        kinds.append(Rows(signed, validation, (ConventionVersion.id,)))
    org_id = who.org.id
    first = (
        select(DesignatedSigner.id)
        .where(
            DesignatedSigner.convention_id == Convention.id,
            DesignatedSigner.organisation_id == org_id,
        )
        .order_by(DesignatedSigner.id)
        .limit(1)
        .scalar_subquery()
    )
    designated, signer = aliased(DesignatedSigner), aliased(User)
    waiting = (
        versions.add_columns(
            ConventionVersion.number,
            designated.user_id.label("signer_id"),
            signer.first_name,
            signer.last_name,
        )
        .outerjoin(designated, designated.id == first)
        .outerjoin(signer, signer.id == designated.user_id)
        .where(
            ConventionVersion.status.in_((VersionStatus.TO_SIGN, VersionStatus.PARTIALLY_SIGNED)),
            ~exists().where(
                Signature.version_id == ConventionVersion.id,
                Signature.organisation_id == org_id,
                Signature.voided_at.is_(None),
            ),
            signing_party_sql(org_id),
        )
    )

    def signature(row):
        url = link("conventions.show_version", operation_id=row[0], number=row.number)
        name = f"{row.first_name} {row.last_name}"
        label = signature_label(who.user.id, row.signer_id, name, row.number)
        return Duty(label, url, OperationRef(row[0], row[1]), "signature", BLOCKING)

    kinds.append(Rows(waiting, signature, (ConventionVersion.id,)))
    return kinds + _signers(who)


def _signers(who: _Who) -> list:
    """Before a version goes out (the convention drafted, or in force while a party joins
    by an amendment), with no version open: ``org``'s admins name (or confirm) its signer;
    the organisme porteur names those still missing."""
    org_id = who.org.id
    open_version = exists().where(
        ConventionVersion.convention_id == Convention.id,
        ConventionVersion.status.in_((VersionStatus.TO_SIGN, VersionStatus.PARTIALLY_SIGNED,
                                      VersionStatus.SIGNED)),
    )  # fmt: skip
    joining = _has_participant(Participant.pending_change == PendingChange.ADD)
    drafted = (
        _operations()
        .join(Convention, Convention.operation_id == Operation.id)
        .where(~open_version, or_(Operation.status.in_(DRAFTING_STEPS), joining))
    )
    signing = (Participant.role != ParticipantRole.REGION,
               Participant.pending_change.is_distinct_from(PendingChange.WITHDRAW))  # fmt: skip
    url = "conventions.show_convention"
    kinds = []
    if who.is_admin:
        first = (
            select(DesignatedSigner)
            .where(
                DesignatedSigner.convention_id == Convention.id,
                DesignatedSigner.organisation_id == org_id,
            )
            .order_by(DesignatedSigner.id)
            .limit(1)
        )
        signer = first.with_only_columns(DesignatedSigner.id).scalar_subquery()
        confirmed = first.with_only_columns(DesignatedSigner.confirmed_at).scalar_subquery()
        party = drafted.add_columns(signer.label("signer")).where(
            _has_participant(Participant.organisation_id == org_id, *signing),
            or_(signer.is_(None), confirmed.is_(None)),
        )

        def own(row):
            label = (
                _l("Désigner la personne qui signera la convention pour votre organisation.")
                if row.signer is None
                else _l("Confirmer la personne proposée pour signer la convention au nom de "
                        "votre organisation.")
            )  # fmt: skip
            return Duty(label, link(url, operation_id=row[0]), OperationRef(row[0], row[1]),
                        "signer", DECISION)  # fmt: skip

        kinds.append(Rows(party, own))
    missing = (
        select(func.count(Participant.id))
        .where(
            Participant.operation_id == Operation.id,
            Participant.withdrawn_at.is_(None),
            Participant.organisation_id != org_id,
            *signing,
            ~exists().where(
                DesignatedSigner.convention_id == Convention.id,
                DesignatedSigner.organisation_id == Participant.organisation_id,
            ),
        )
        .scalar_subquery()
    )

    def carrier(row):
        label = _l("Faire désigner les signataires de la convention qui manquent "
                   "(%(n)d partie(s)).", n=row.missing)  # fmt: skip
        return Duty(label, link(url, operation_id=row[0]), OperationRef(row[0], row[1]),
                    "signer")  # fmt: skip

    carried = drafted.add_columns(missing.label("missing")).where(
        Operation.provider_id == org_id, missing > 0
    )
    return [*kinds, Rows(carried, carrier)]


def _needs(who: _Who) -> list:
    """An employer taking part while needs are gathered says its positions."""
    if who.org.kind != OrgKind.EMPLOYER:
        return []
    org_id = who.org.id
    filled = exists().where(
        EmployerNeed.operation_id == Operation.id,
        EmployerNeed.organisation_id == org_id,
        exists().where(Position.need_id == EmployerNeed.id),
    )
    query = _operations().where(
        Operation.status.in_(NEED_STEPS),
        _has_participant(Participant.organisation_id == org_id),
        ~filled,
    )
    return [
        _simple(query, _l("Indiquer vos postes à pourvoir et vos besoins de compétences."),
                "operations.edit_employer_need", "needs", org_id=org_id)
    ]  # fmt: skip


def _mentions(who: _Who) -> list:
    """Open comment threads of the co-design that mention the user or the organisation."""
    thread = aliased(DesignComment)
    query = (
        _operations()
        .add_columns(DesignSection.key, func.count(func.distinct(DesignComment.id)).label("n"))
        .join(Design, Design.operation_id == Operation.id)
        .join(DesignSection, DesignSection.design_id == Design.id)
        .join(DesignComment, DesignComment.section_id == DesignSection.id)
        .join(CommentMention, CommentMention.comment_id == DesignComment.id)
        .outerjoin(thread, thread.id == DesignComment.parent_id)
        .where(
            DesignSection.meeting_id.is_(None),
            DesignComment.resolved_at.is_(None),
            or_(DesignComment.parent_id.is_(None), thread.resolved_at.is_(None)),
            DesignComment.author_id != who.user.id,
            or_(CommentMention.user_id == who.user.id,
                CommentMention.organisation_id == who.org.id),
        )
        .group_by(Operation.id, Operation.title, DesignSection.key)
    )  # fmt: skip

    def duty(row):
        label = _l("Co-conception, « %(section)s » : %(n)d commentaire(s) vous mentionnent.",
                   section=row.key.title, n=row.n)  # fmt: skip
        url = link("design.show_design", f"section-{row.key.value}", operation_id=row[0])
        return Duty(label, url, OperationRef(row[0], row[1]), "mention")

    return [Rows(query, duty, (DesignSection.key,))]


def _carrier_steps(who: _Who) -> list:
    """The organisme porteur associates employers."""
    query = _operations().where(
        Operation.provider_id == who.org.id,
        ~_has_participant(Participant.role == ParticipantRole.EMPLOYER),
    )
    return [
        _simple(query, _l("Associer les employeurs qui promettent des emplois."),
                "operations.list_participants", "participants")
    ]  # fmt: skip


def _over_recruitment(who: _Who) -> list:
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
        _operations()
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


def _immersions(who: _Who) -> list:
    kinds = list(immersions.CARRIER_KINDS)
    if who.org.kind == OrgKind.EMPLOYER:
        kinds += immersions.HOST_KINDS

    def rows(kind):
        def duty(row):
            label = LazyString(immersions.todo_text, kind, row.n, row[3])
            url = immersions.todo_link(kind, row[0])
            return Duty(label, url, OperationRef(row[0], row[1]), kind)

        return Rows(immersions.todo_counts(_operations(), who.org, kind), duty)

    return [rows(kind) for kind in kinds]


def _steering(who: _Who) -> list:
    def action(row):
        url = link("steering.show_committee", operation_id=row[0])
        label = LazyString(steering.action_line, row.SteeringAction)
        return Duty(label, url, OperationRef(row[0], row[1]), "action")

    def minutes(approve: bool):
        def duty(row):
            label = LazyString(steering.minutes_text, row.meeting_title, approve=approve)
            url = link("steering.show_committee", operation_id=row[0])
            return Duty(label, url, OperationRef(row[0], row[1]), "minutes")

        query = steering.todo_minutes(_operations(), who.org, approve=approve)
        return Rows(query, duty, (steering.SteeringMeeting.starts_at, steering.SteeringMeeting.id))

    actions = Rows(
        steering.todo_actions(_operations(), who.org),
        action,
        (steering.SteeringAction.due_on, steering.SteeringAction.id),
    )
    return [actions, minutes(False), minutes(True)]


def _own_followups(who: _Who) -> list:
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
    _signatures,
    _needs,
    _mentions,
    _carrier_steps,
    _over_recruitment,
    _immersions,
    _steering,
    _own_followups,
)


def _kinds(user: User, org: Organisation, membership: Membership | None) -> list:
    who = _Who(user, org, membership)
    return [kind for rule in KINDS for kind in rule(who)]


def count(user: User, org: Organisation, membership: Membership | None = None) -> int:
    """How many duties ``org`` and ``user`` have over the visible operations: one query of
    ``COUNT``s for the kinds said in SQL, plus the few decided in Python."""
    kinds = _kinds(user, org, membership)
    counts = [
        select(func.count()).select_from(k.query.order_by(None).subquery()).scalar_subquery()
        for k in kinds
        if isinstance(k, Rows)
    ]
    total = sum(db.session.execute(select(*counts)).one()) if counts else 0
    return total + sum(len(k.duties()) for k in kinds if isinstance(k, Listed))


def page(
    user: User,
    org: Organisation,
    membership: Membership | None = None,
    *,
    limit: int | None = None,
    offset: int = 0,
) -> list[Duty]:
    """The duties ``offset`` to ``offset + limit`` of the list (every one when ``limit`` is
    None), in the list's order: each kind reads only its first ``offset + limit`` rows,
    and the operations of the duties kept are read in one query."""
    found = []
    for kind in _kinds(user, org, membership):
        if isinstance(kind, Listed):
            found.extend(kind.duties()[: None if limit is None else offset + limit])
            continue
        query = kind.query.order_by(Operation.title, Operation.id, *kind.order)
        if limit is not None:
            query = query.limit(offset + limit)
        found.extend(kind.duty(row) for row in db.session.execute(query))
    found.sort(key=order_key)  # stable: the kinds' order within an operation
    kept = found[offset:] if limit is None else found[offset : offset + limit]
    return _with_operations(kept)


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
