"""« Ce qu'il vous reste à faire »: every pending duty of the current organisation and user.

One service for the home page, the operation page, the header's count and the « À faire »
page. Across the operations the user may see (the home page, the count, the list), each
kind of duty is a ``select`` (``across.py``): counted in SQL, and only the page shown is
read and labelled, so the cost does not grow with the operations (issue #16). On the
operation page, the rules below run on that one operation, reading what its page has
already read (its participants, its convention, its figures). The rules themselves stay in
their areas (signatures in ``conventions.state``, over-recruitment in
``recruitment.rules``, immersions, committee and follow-up in their ``queries``); these
modules only gather them, link each to where it is done and sort them by urgency.

Two rules only run on the operation page: the organisme's next step (each transition has
its own guard) and the follow-up figures. The follow-up appears across operations through
the user's own follow-ups (``followup.queries.home_counts``, one query).
"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import aliased, subqueryload

from portal.accounts.models import Membership, Organisation, OrgKind, User
from portal.conventions import state as convention_state
from portal.conventions.models import (
    Convention,
    ConventionVersion,
    DesignatedSigner,
    VersionStatus,
)
from portal.conventions.state import convention_for_page, pending_parties
from portal.design.comments import open_blocking_by_design
from portal.design.models import CommentMention, Design, DesignComment, DesignSection
from portal.design.services import design_problems
from portal.extensions import db
from portal.followup import queries as followup
from portal.immersions import queries as immersions
from portal.operations import dual_memberships, lifecycle
from portal.operations.access import can_view
from portal.operations.context import existing_analysis
from portal.operations.models import (
    DRAFTING_STEPS,
    EmployerNeed,
    Funding,
    Operation,
    Participant,
    ParticipantRole,
    Position,
    Status,
)
from portal.recruitment.queries import figures_by_operation
from portal.steering import queries as steering
from portal.todo import across
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

OPEN_VERSIONS = (VersionStatus.TO_SIGN, VersionStatus.PARTIALLY_SIGNED, VersionStatus.SIGNED)


@dataclass
class _Scope:
    """The operation page's operation (in ``operations``, empty when closed or not
    visible), whether it has an active employer participant and ``org`` takes part."""

    user: User
    org: Organisation
    membership: Membership | None
    operations: list[Operation]
    with_employer: bool
    taking_part: bool

    def within(self):
        return select(Operation.id).where(Operation.id == self.operations[0].id)

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


def _scope(user, org, membership, operation: Operation) -> _Scope:
    # The operation page's own, already read with its participants, and seen (``can_view``
    # is remembered for the request).
    if operation.status in (Status.CLOSED, Status.CANCELLED) or not can_view(operation):
        return _Scope(user, org, membership, [], False, False)
    active = operation.active_participants()
    return _Scope(
        user, org, membership, [operation],
        any(p.role == ParticipantRole.EMPLOYER for p in active),
        any(p.organisation_id == org.id for p in active),
    )  # fmt: skip


def duties_for(
    user: User,
    org: Organisation,
    *,
    membership: Membership | None = None,
    operation: Operation | None = None,
) -> list[Duty]:
    """Every pending duty of ``org`` and ``user`` over the operations the user may see
    (only ``operation``'s when given), the most urgent first. Across operations, prefer
    ``across.count`` and ``across.page``: this reads them all."""
    if operation is None:
        return across.page(user, org, membership)
    scope = _scope(user, org, membership, operation)
    found: list[Duty] = []
    if scope.operations:
        for rule in RULES:
            found.extend(rule(scope))
    return sorted(found, key=order_key)


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
        url = link("operations.show_operation", operation_id=operation.id)
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
    """The operation's analysis by operation id (the operation page has read it for its
    summary)."""
    if not scope.steered():
        return {}
    analysis = existing_analysis(scope.operations[0])
    return {analysis.operation_id: analysis} if analysis is not None else {}


def _analysis(scope: _Scope) -> list[Duty]:
    """The Région answers an analysis sent (again); the organisme sends its analysis."""
    analyses = _analyses(scope)
    duties = []
    for operation in scope.steered():
        analysis = analyses.get(operation.id)
        url = link("operations.show_analysis", operation_id=operation.id)
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
    operations = _by_id(scope)
    return [
        Duty(
            _l("Décider des cumuls d'appartenance (une personne dans deux parties)."),
            link("operations.list_dual_memberships"),
            operations[operation.id],
            "cumul",
            DECISION,
        )
        for operation, standings in dual_memberships.pending_by_operation(scope.within())
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
            link("design.show_design", operation_id=design.operation_id),
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
    duties = []
    operations = _by_id(scope)
    for convention, versions in _conventions(scope):
        operation = operations[convention.operation_id]
        for version in versions:
            url = link("conventions.show_version", operation_id=operation.id, number=version.number)
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


def _signer_of(convention: Convention, organisation_id: int) -> DesignatedSigner | None:
    return next((s for s in convention.signers if s.organisation_id == organisation_id), None)


def _signature_duty(scope, signer, number, url, operation) -> Duty:
    label = signature_label(
        scope.user.id,
        signer and signer.user_id,
        signer.user.full_name if signer is not None else "",
        number,
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
    url = link("conventions.show_convention", operation_id=operation.id)
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
    waiting = [o for o in scope.operations if o.status in NEED_STEPS and scope.taking_part]
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
            link("operations.edit_employer_need", operation_id=o.id, org_id=scope.org.id),
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
            link("design.show_design", f"section-{key.value}", operation_id=operation_id),
            operations[operation_id],
            "mention",
        )
        for operation_id, key, n in rows
    ]  # fmt: skip


# --- Running the operation --------------------------------------------------------------


def _carrier_steps(scope: _Scope) -> list[Duty]:
    """The organisme porteur associates employers and moves on."""
    duties = []
    carried = scope.carried()
    if not carried:
        return []
    for operation in carried:
        url = link("operations.list_participants", operation_id=operation.id)
        if not scope.with_employer:
            duties.append(
                Duty(_l("Associer les employeurs qui promettent des emplois."), url, operation,
                     "participants")
            )  # fmt: skip
        target = lifecycle.next_status(operation)
        if target and not lifecycle.unmet_for_page(operation, target):
            duties.append(
                Duty(
                    _l("Passer à l'étape « %(step)s ».", step=target.title),
                    link("operations.show_operation", "step-title", operation_id=operation.id),
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
            link("recruitment.show_recruitment", operation_id=o.id),
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
    operation = scope.operations[0]
    return [
        Duty(text, url, operation, "followup")
        for text, url in followup.todo(
            operation, org=scope.org, carrier=operation.provider_id == scope.org.id
        )
    ]


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
