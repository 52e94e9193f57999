"""« Ce qu'il vous reste à faire »: every pending duty of the current organisation and user.

One service for the home page, the operation page, the header's count and the « À faire »
page. It reads the operations the user may see (``visible_operations``), still open, and
asks each area for what it expects over all of them at once: each rule runs a fixed number
of queries (grouped by operation), so the cost does not grow with the operations. The
rules themselves stay in their areas (signatures in ``conventions.state``, over-recruitment
in ``recruitment.rules``, immersions, committee and follow-up in their ``queries``); this
module only gathers them, links each to where it is done and sorts them by urgency.

Two rules read one operation at a time and only run on the operation page (``operation``
given): the organisme's next step (each transition has its own guard) and the follow-up
figures. The follow-up appears across operations through the user's own follow-ups
(``followup.queries.home_counts``, one query).
"""

import json
from dataclasses import dataclass

from flask import url_for
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased, joinedload, subqueryload

from portal.accounts.models import Membership, Organisation, OrgKind, User
from portal.conventions import state as convention_state
from portal.conventions.models import (
    Convention,
    ConventionVersion,
    DesignatedSigner,
    Signature,
    VersionStatus,
)
from portal.conventions.state import convention_for_page, pending_parties, signing_parties
from portal.core.french import de
from portal.design.comments import open_blocking_by_design
from portal.design.models import CommentMention, Design, DesignComment, DesignSection
from portal.design.services import design_problems
from portal.extensions import db
from portal.followup import queries as followup
from portal.followup.rules import Progress
from portal.immersions import queries as immersions
from portal.operations import dual_memberships, lifecycle
from portal.operations.access import can_view, visible_operations
from portal.operations.context import existing_analysis
from portal.operations.models import (
    DRAFTING_STEPS,
    EmployerNeed,
    Funding,
    NeedsAnalysis,
    Operation,
    Participant,
    ParticipantRole,
    Position,
    Status,
)
from portal.recruitment.queries import figures_by_operation
from portal.steering import queries as steering

# Lower first: what blocks others (a signature, a validation, a recruitment to correct),
# then the decisions others wait for, then the rest of the work.
BLOCKING, DECISION, WORK = 0, 1, 2
NEED_STEPS = (Status.NEED_REPORTED, Status.ANALYSIS)
RECRUITING_STEPS = (Status.RECRUITMENT, Status.TRAINING)
OPEN_VERSIONS = (VersionStatus.TO_SIGN, VersionStatus.PARTIALLY_SIGNED, VersionStatus.SIGNED)


@dataclass(frozen=True)
class Duty:
    """One thing expected of the current organisation or user, with where to do it.

    ``label`` and ``url`` are lazy (``_l``, ``_link``): they are built only when shown, so
    a count or a page of the list does not translate and route every duty (issue #16)."""

    label: str | LazyString
    url: str | LazyString
    operation: Operation | None
    kind: str
    urgency: int = WORK


@dataclass
class _Operations:
    """The operations of the scope, and those of them with an active employer participant
    and with ``org`` as an active participant (their participants are not read)."""

    operations: list[Operation]
    with_employer: set[int]
    taking_part: set[int]


@dataclass
class _Scope:
    user: User
    org: Organisation
    membership: Membership | None
    read: "_Operations"
    single: bool

    @property
    def operations(self) -> list[Operation]:
        return self.read.operations

    def within(self):
        """The operations of the scope as a ``select`` of ids (the visible open ones): what
        the grouped queries filter by, in one query whatever their number."""
        if self.single:
            return select(Operation.id).where(Operation.id == self.operations[0].id)
        return _open_visible(select(Operation.id))

    @property
    def region(self) -> bool:
        return self.org.kind == OrgKind.REGION

    def carried(self) -> list[Operation]:
        return [o for o in self.operations if o.provider_id == self.org.id]

    def steered(self) -> list[Operation]:
        return self.operations if self.region else self.carried()

    @property
    def is_admin(self) -> bool:
        return self.membership is not None and self.membership.is_admin


def _link(endpoint: str, anchor: str | None = None, **values) -> LazyString:
    """``url_for(endpoint, **values)`` (with ``#anchor``), built when first read."""
    return LazyString(_url, endpoint, anchor, values)


def _url(endpoint: str, anchor: str | None, values: dict) -> str:
    url = url_for(endpoint, **values)
    return f"{url}#{anchor}" if anchor else url


def _operations(org: Organisation, operation: Operation | None) -> _Operations:
    if operation is not None:
        # The operation page's own, already read with its participants, and seen (``can_view``
        # is remembered for the request).
        if operation.status in (Status.CLOSED, Status.CANCELLED) or not can_view(operation):
            return _Operations([], set(), set())
        active = operation.active_participants()
        return _Operations(
            [operation],
            {operation.id} if any(p.role == ParticipantRole.EMPLOYER for p in active) else set(),
            {operation.id} if any(p.organisation_id == org.id for p in active) else set(),
        )
    # Their participants are not read: what the rules need of them comes as two columns.
    rows = db.session.execute(
        _open_visible(
            select(
                Operation,
                _has_participant(Participant.role == ParticipantRole.EMPLOYER),
                _has_participant(Participant.organisation_id == org.id),
            )
        ).order_by(Operation.id)
    ).all()
    return _Operations(
        [operation for operation, _employer, _own in rows],
        {operation.id for operation, employer, _own in rows if employer},
        {operation.id for operation, _employer, own in rows if own},
    )


def _has_participant(where):
    return exists().where(
        Participant.operation_id == Operation.id, Participant.withdrawn_at.is_(None), where
    )


def _open_visible(query):
    return visible_operations(query).where(
        Operation.status.not_in((Status.CLOSED, Status.CANCELLED))
    )


def duties_for(
    user: User,
    org: Organisation,
    *,
    membership: Membership | None = None,
    operation: Operation | None = None,
) -> list[Duty]:
    """Every pending duty of ``org`` and ``user`` over the operations the user may see
    (only ``operation``'s when given), the most urgent first."""
    operations = _operations(org, operation)
    scope = _Scope(user, org, membership, operations, single=operation is not None)
    found: list[Duty] = []
    if scope.operations:
        for rule in RULES:
            found.extend(rule(scope))
    if not scope.single:
        found.extend(_own_followups(scope))
    return sorted(found, key=order_key)


def order_key(duty: Duty) -> tuple:
    """The order of « À faire »: the most urgent first, then by operation (its title, then
    its id), then in the order the rules found them (``sorted`` is stable) — never by
    label, so that ordering does not need the labels."""
    operation = duty.operation
    if operation is None:
        return (duty.urgency, "", 0)
    return (duty.urgency, operation.title, operation.id)


def grouped(duties: list[Duty]) -> list[tuple[Operation | None, list[Duty]]]:
    """The duties by operation (in their order of first appearance), for the « À faire »
    page."""
    groups: dict[int | None, tuple[Operation | None, list[Duty]]] = {}
    for duty in duties:
        key = duty.operation.id if duty.operation is not None else None
        groups.setdefault(key, (duty.operation, []))[1].append(duty)
    return list(groups.values())


def _by_id(scope: _Scope) -> dict[int, Operation]:
    return {o.id: o for o in scope.operations}


def _from_area(scope: _Scope, tasks: list[tuple], urgency: int = WORK) -> list[Duty]:
    """Area tasks ``(operation id, kind, text, url)`` as duties."""
    operations = _by_id(scope)
    return [
        Duty(text, url, operations[operation_id], kind, urgency)
        for operation_id, kind, text, url in tasks
    ]


# --- The Région's decisions -------------------------------------------------------------


def _region_decisions(scope: _Scope) -> list[Duty]:
    if not scope.region:
        return []
    duties = []
    for operation in scope.operations:
        url = _link("operations.show_operation", operation_id=operation.id)
        if operation.acknowledged_at is None:
            duties.append(
                Duty(_l("Accuser réception du besoin signalé."), url, operation, "acknowledge",
                     DECISION)
            )  # fmt: skip
        if operation.funding == Funding.PENDING:
            duties.append(
                Duty(
                    _l("Décider : consultation FREF ou refus motivé (besoin hors marché)."),
                    url, operation, "fref", DECISION,
                )
            )  # fmt: skip
    return duties


def _analyses(scope: _Scope) -> dict:
    """When each analysis was sent and answered (its texts are not read), by operation."""
    ids = [o.id for o in scope.steered()]
    if not ids:
        return {}
    if scope.single:  # the operation page has read it for its summary
        analysis = existing_analysis(scope.operations[0])
        return {analysis.operation_id: analysis} if analysis is not None else {}
    return {
        row.operation_id: row
        for row in db.session.execute(
            select(
                NeedsAnalysis.operation_id, NeedsAnalysis.sent_at, NeedsAnalysis.answered_at
            ).where(NeedsAnalysis.operation_id.in_(ids))
        )
    }


def _analysis(scope: _Scope) -> list[Duty]:
    """The Région answers an analysis sent (again); the organisme sends its analysis."""
    analyses = _analyses(scope)
    duties = []
    for operation in scope.steered():
        analysis = analyses.get(operation.id)
        url = _link("operations.show_analysis", operation_id=operation.id)
        if scope.region:
            if (
                analysis is not None
                and analysis.sent_at
                and (analysis.answered_at is None or analysis.answered_at < analysis.sent_at)
            ):
                duties.append(
                    Duty(_l("Répondre à l'analyse des besoins transmise par l'organisme."), url,
                         operation, "analysis", DECISION)
                )  # fmt: skip
        elif operation.status == Status.ANALYSIS and (analysis is None or analysis.sent_at is None):
            duties.append(
                Duty(_l("Compléter l'analyse des besoins et la transmettre à la Région."), url,
                     operation, "analysis")
            )  # fmt: skip
    return duties


def _cumuls(scope: _Scope) -> list[Duty]:
    if not scope.region:
        return []
    within = select(Operation.id).where(Operation.id.in_([o.id for o in scope.operations]))
    operations = _by_id(scope)
    return [
        Duty(
            _l("Décider des cumuls d'appartenance (une personne dans deux parties)."),
            _link("operations.list_dual_memberships"),
            operations[operation.id],
            "cumul",
            DECISION,
        )
        for operation, standings in dual_memberships.pending_by_operation(within)
        if any(s.pending for s in standings)
    ]


def _design_approval(scope: _Scope) -> list[Duty]:
    """The Région approves a co-design that meets every condition (``design_problems``)."""
    ids = [o.id for o in scope.operations if o.status == Status.CO_DESIGN]
    if not scope.region or not ids:
        return []
    designs = db.session.scalars(
        select(Design)
        .where(Design.operation_id.in_(ids), Design.approved_at.is_(None))
        # subqueryload: one query whatever the number of designs (selectinload: one per 500)
        .options(subqueryload(Design.sections))
    ).all()
    blocking = open_blocking_by_design([d.id for d in designs])
    operations = _by_id(scope)
    return [
        Duty(
            _l("Approuver la co-conception : toutes les conditions sont réunies."),
            _link("design.show_design", operation_id=design.operation_id),
            operations[design.operation_id],
            "design_approval",
            DECISION,
        )
        for design in designs
        if not design_problems(design, include_approval=False, blocking=blocking.get(design.id, 0))
    ]


# --- Conventions ------------------------------------------------------------------------


def _conventions(scope: _Scope) -> list[tuple[Convention, list[ConventionVersion]]]:
    """The operation page's convention with its signers and only its open versions (its
    card's read, ``convention_for_page``)."""
    convention = convention_for_page(scope.operations[0])
    if convention is None:
        return []
    listed = convention_state.versions(convention)
    return [(convention, [v for v in listed if v.status in OPEN_VERSIONS])]


def _signatures(scope: _Scope) -> list[Duty]:
    """A version out for signature that ``org`` has not signed; for the Région, a version
    signed by every party that waits for its validation."""
    if not scope.single:
        return _signatures_many(scope)
    duties = []
    operations = _by_id(scope)
    for convention, versions in _conventions(scope):
        operation = operations[convention.operation_id]
        for version in versions:
            url = _link(
                "conventions.show_version", operation_id=operation.id, number=version.number
            )
            if scope.region and version.status == VersionStatus.SIGNED:
                duties.append(
                    Duty(
                        _l("Valider ou rejeter la version %(n)s de la convention, signée par "
                          "toutes les parties.", n=version.number),
                        url, operation, "validation", BLOCKING,
                    )
                )  # fmt: skip
            elif version.status != VersionStatus.SIGNED:
                waiting = {p["organisation_id"] for p in pending_parties(version)}
                if scope.org.id in waiting:
                    signer = _signer_of(convention, scope.org.id)
                    duties.append(_signature_duty(scope, signer, version.number, url, operation))
        if not versions:
            signers = _first_by(convention.signers)
            duties.extend(_signers_of(scope, operation, operation.active_participants(), signers))
    return duties


def _first_by(signers, attribute: str = "organisation_id") -> dict[int, DesignatedSigner]:
    """The first of ``signers`` by ``attribute`` (as ``_signer_of`` finds it)."""
    found: dict[int, DesignatedSigner] = {}
    for signer in signers:
        found.setdefault(getattr(signer, attribute), signer)
    return found


def _signatures_many(scope: _Scope) -> list[Duty]:
    """``_signatures`` over the visible operations without reading their conventions: the
    open versions as rows (the frozen text only of those ``org`` has not signed, to know
    whether it is a signing party), then the signers of the few conventions concerned — a
    fixed number of queries whatever the number of operations."""
    org_id = scope.org.id
    unsigned = and_(
        ConventionVersion.status != VersionStatus.SIGNED,
        ~exists().where(
            Signature.version_id == ConventionVersion.id,
            Signature.organisation_id == org_id,
            Signature.voided_at.is_(None),
        ),
    )
    rows = db.session.execute(
        select(
            Convention.id,
            Convention.operation_id,
            ConventionVersion.number,
            ConventionVersion.status,
            case((unsigned, ConventionVersion.canonical), else_=None),
        )
        .join(ConventionVersion, ConventionVersion.convention_id == Convention.id)
        .where(
            Convention.operation_id.in_(scope.within()),
            ConventionVersion.status.in_(OPEN_VERSIONS),
        )
        .order_by(Convention.id, ConventionVersion.id)
    ).all()
    operations = _by_id(scope)

    def expected(status: VersionStatus, canonical: str | None) -> bool:
        if status == VersionStatus.SIGNED:
            return scope.region  # to validate
        return canonical is not None and any(  # a signing party that has not signed
            p["organisation_id"] == org_id for p in signing_parties(json.loads(canonical))
        )

    found = [  # (convention id, operation, number, status)
        (convention_id, operations[operation_id], number, status)
        for convention_id, operation_id, number, status, canonical in rows
        if expected(status, canonical)
    ]
    waiting = {c for c, _o, _n, status in found if status != VersionStatus.SIGNED}
    signers = {}
    if waiting:
        signers = _first_by(
            db.session.scalars(
                select(DesignatedSigner)
                .where(
                    DesignatedSigner.convention_id.in_(waiting),
                    DesignatedSigner.organisation_id == org_id,
                )
                .options(joinedload(DesignatedSigner.user))
                .order_by(DesignatedSigner.id)
            ),
            "convention_id",
        )
    duties = []
    for convention_id, operation, number, status in found:
        url = _link("conventions.show_version", operation_id=operation.id, number=number)
        if status == VersionStatus.SIGNED:
            duties.append(
                Duty(
                    _l("Valider ou rejeter la version %(n)s de la convention, signée par "
                      "toutes les parties.", n=number),
                    url, operation, "validation", BLOCKING,
                )
            )  # fmt: skip
        else:
            duties.append(
                _signature_duty(scope, signers.get(convention_id), number, url, operation)
            )
    return duties + _signers_many(scope)


def _signers_many(scope: _Scope) -> list[Duty]:
    """``_signers`` for the conventions of the visible operations with no open version,
    reading only the operations where ``org`` may have something to do (it carries them,
    or its admin acts for a party): their active participants and their signers, one
    query each."""
    org_id = scope.org.id
    open_version = exists().where(
        ConventionVersion.convention_id == Convention.id,
        ConventionVersion.status.in_(OPEN_VERSIONS),
    )
    concerned = Operation.provider_id == org_id
    if scope.is_admin:
        concerned = or_(
            concerned,
            exists().where(
                Participant.operation_id == Operation.id,
                Participant.organisation_id == org_id,
                Participant.withdrawn_at.is_(None),
            ),
        )
    conventions = (
        select(Convention.id)
        .join(Operation, Operation.id == Convention.operation_id)
        .where(Convention.operation_id.in_(scope.within()), ~open_version, concerned)
    )
    by_convention = dict(
        db.session.execute(
            select(Convention.id, Convention.operation_id)
            .where(Convention.id.in_(conventions))
            .order_by(Convention.id)
        ).all()
    )
    if not by_convention:
        return []
    participants: dict[int, list[Participant]] = {}
    for participant in db.session.scalars(
        select(Participant)
        .where(
            Participant.operation_id.in_(
                select(Convention.operation_id).where(Convention.id.in_(conventions))
            ),
            Participant.withdrawn_at.is_(None),
        )
        .order_by(Participant.id)
    ):
        participants.setdefault(participant.operation_id, []).append(participant)
    signers: dict[int, list[DesignatedSigner]] = {}
    for signer in db.session.scalars(
        select(DesignatedSigner)
        .where(DesignatedSigner.convention_id.in_(conventions))
        .order_by(DesignatedSigner.id)
    ):
        signers.setdefault(signer.convention_id, []).append(signer)
    operations = _by_id(scope)
    duties = []
    for convention_id, operation_id in by_convention.items():
        duties.extend(
            _signers_of(
                scope,
                operations[operation_id],
                participants.get(operation_id, []),
                _first_by(signers.get(convention_id, [])),
            )
        )
    return duties


def _signer_of(convention: Convention, organisation_id: int) -> DesignatedSigner | None:
    return next((s for s in convention.signers if s.organisation_id == organisation_id), None)


def _signature_duty(scope, signer, number, url, operation) -> Duty:
    if signer is not None and signer.user_id == scope.user.id:
        label = _l("Signer la version %(n)s de la convention.", n=number)
    elif signer is not None:
        label = _l(
            "La version %(n)s de la convention attend la signature %(of_name)s pour votre "
            "organisation.",
            n=number,
            of_name=de(signer.user.full_name),
        )
    else:
        label = _l(
            "La version %(n)s de la convention attend la signature de votre organisation : "
            "désignez son ou sa signataire.",
            n=number,
        )
    return Duty(label, url, operation, "signature", BLOCKING)


def _signers_of(
    scope: _Scope,
    operation: Operation,
    active: list[Participant],
    signers: dict[int, DesignatedSigner],
) -> list[Duty]:
    """Before a version goes out: ``org``'s admins name (or confirm) its signer; the
    organisme porteur names those still missing — while the convention is drafted, or
    once in force while a party joins by an amendment. ``active``: the operation's active
    participants; ``signers``: the convention's designated signers by organisation."""
    joining = any(p.is_joining for p in active)
    if operation.status not in DRAFTING_STEPS and not joining:
        return []
    url = _link("conventions.show_convention", operation_id=operation.id)
    signing = [p for p in active if p.role != ParticipantRole.REGION and not p.is_leaving]
    duties = []
    own = next((p for p in signing if p.organisation_id == scope.org.id), None)
    if own is not None and scope.is_admin:
        signer = signers.get(scope.org.id)
        if signer is None:
            duties.append(
                Duty(_l("Désigner la personne qui signera la convention pour votre "
                       "organisation."), url, operation, "signer", DECISION)
            )  # fmt: skip
        elif not signer.is_confirmed:
            duties.append(
                Duty(_l("Confirmer la personne proposée pour signer la convention au nom de "
                       "votre organisation."), url, operation, "signer", DECISION)
            )  # fmt: skip
    if operation.provider_id == scope.org.id:
        missing = [
            p
            for p in signing
            if p.organisation_id != scope.org.id and p.organisation_id not in signers
        ]
        if missing:
            duties.append(
                Duty(_l("Faire désigner les signataires de la convention qui manquent "
                       "(%(n)d partie(s)).", n=len(missing)), url, operation, "signer")
            )  # fmt: skip
    return duties


# --- Needs, co-design -------------------------------------------------------------------


def _needs(scope: _Scope) -> list[Duty]:
    """An employer taking part while needs are gathered says its positions."""
    if scope.org.kind != OrgKind.EMPLOYER:
        return []
    waiting = [
        o for o in scope.operations if o.status in NEED_STEPS and o.id in scope.read.taking_part
    ]
    if not waiting:
        return []
    filled = set(
        db.session.scalars(
            select(EmployerNeed.operation_id).where(
                EmployerNeed.operation_id.in_([o.id for o in waiting]),
                EmployerNeed.organisation_id == scope.org.id,
                exists().where(Position.need_id == EmployerNeed.id),
            )
        )
    )
    return [
        Duty(
            _l("Indiquer vos postes à pourvoir et vos besoins de compétences."),
            _link("operations.edit_employer_need", operation_id=o.id, org_id=scope.org.id),
            o,
            "needs",
        )
        for o in waiting
        if o.id not in filled
    ]


def _mentions(scope: _Scope) -> list[Duty]:
    """Open comment threads of the co-design that mention the user or the organisation."""
    thread = aliased(DesignComment)
    rows = db.session.execute(
        select(Design.operation_id, DesignSection.key, func.count(func.distinct(DesignComment.id)))
        .select_from(DesignComment)
        .join(CommentMention, CommentMention.comment_id == DesignComment.id)
        .join(DesignSection, DesignSection.id == DesignComment.section_id)
        .join(Design, Design.id == DesignSection.design_id)
        .outerjoin(thread, thread.id == DesignComment.parent_id)
        .where(
            Design.operation_id.in_([o.id for o in scope.operations]),
            DesignSection.meeting_id.is_(None),
            DesignComment.resolved_at.is_(None),
            or_(DesignComment.parent_id.is_(None), thread.resolved_at.is_(None)),
            DesignComment.author_id != scope.user.id,
            or_(
                CommentMention.user_id == scope.user.id,
                CommentMention.organisation_id == scope.org.id,
            ),
        )
        .group_by(Design.operation_id, DesignSection.key)
    ).all()
    operations = _by_id(scope)
    return [
        Duty(
            _l("Co-conception, « %(section)s » : %(n)d commentaire(s) vous mentionnent.",
              section=key.title, n=n),
            _link("design.show_design", f"section-{key.value}", operation_id=operation_id),
            operations[operation_id],
            "mention",
        )
        for operation_id, key, n in rows
    ]  # fmt: skip


# --- Running the operation --------------------------------------------------------------


def _carrier_steps(scope: _Scope) -> list[Duty]:
    """The organisme porteur associates employers and, on its operation page, moves on."""
    duties = []
    carried = scope.carried()
    if not carried:
        return []
    with_employer = scope.read.with_employer
    for operation in carried:
        url = _link("operations.list_participants", operation_id=operation.id)
        if operation.id not in with_employer:
            duties.append(
                Duty(_l("Associer les employeurs qui promettent des emplois."), url, operation,
                     "participants")
            )  # fmt: skip
        if scope.single:
            target = lifecycle.next_status(operation)
            if target and not lifecycle.unmet_for_page(operation, target):
                duties.append(
                    Duty(
                        _l("Passer à l'étape « %(step)s ».", step=target.title),
                        _link("operations.show_operation", "step-title", operation_id=operation.id),
                        operation,
                        "advance",
                    )
                )
    return duties


def _over_recruitment(scope: _Scope) -> list[Duty]:
    """More trainees retained than promises (« 1 stagiaire pour 1 promesse »)."""
    recruiting = [o for o in scope.steered() if o.status in RECRUITING_STEPS]
    if not recruiting:
        return []
    figures = figures_by_operation(recruiting)
    return [
        Duty(
            _l("Le recrutement dépasse les promesses d'embauche : %(r)d stagiaire(s) "
              "retenu·e(s) pour %(p)d promesse(s). Revenez à 1 stagiaire pour 1 promesse.",
              r=figures[o.id].recruited, p=figures[o.id].promises),
            _link("recruitment.show_recruitment", operation_id=o.id),
            o,
            "over_recruitment",
            BLOCKING,
        )
        for o in recruiting
        if figures[o.id].over_recruited
    ]  # fmt: skip


def _immersions(scope: _Scope) -> list[Duty]:
    return _from_area(scope, immersions.todo(scope.operations, org=scope.org))


def _steering(scope: _Scope) -> list[Duty]:
    return _from_area(scope, steering.todo_many(scope.operations, org=scope.org))


def _followups(scope: _Scope) -> list[Duty]:
    """On the operation page: exits, follow-ups and promise outcomes of the operation."""
    if not scope.single:
        return []
    operation = scope.operations[0]
    return [
        Duty(text, url, operation, "followup")
        for text, url in followup.todo(
            operation, org=scope.org, carrier=operation.provider_id == scope.org.id
        )
    ]


def _own_followups(scope: _Scope) -> list[Duty]:
    """Across operations: the user's follow-ups due or late (one query)."""
    if scope.region or (scope.org.kind == OrgKind.EMPLOYER and not scope.is_admin):
        return []  # the Région follows the late ones per operation; an employer's admins answer
    counts = followup.home_counts(scope.org)
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
            _link("employment.list_followups"),
            None,
            "followup",
            BLOCKING if late else WORK,
        )
    ]  # fmt: skip


RULES = (
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
    _followups,
)
