"""Requests and decisions on one person in two parties of one operation (issue #11 M6):
the verbs, and the locks they take (the reads are in ``dual_memberships.py``).

Locks: a situation needs two memberships and two participations; two requests served at
once could each add one of them and neither see the situation. Creating a membership
locks the user and each organisation they belong to; adding a participant locks the
operation and the organisation: any two such requests completing one situation share a
locked row, so the second sees the first (``lock_memberships``, ``lock_parties``).
"""

from flask_babel import format_date
from flask_babel import gettext as _

from portal.accounts.models import Organisation, OrgKind, User
from portal.core.errors import RuleError
from portal.core.locking import lock
from portal.core.time import utcnow
from portal.extensions import db
from portal.notifications.services import notify, organisation_members
from portal.operations.dual_memberships import (
    Situation,
    Standing,
    paris_day,
    situations,
    standings,
)
from portal.operations.dual_models import DualDecision, DualMembershipApproval
from portal.operations.events import log_event, tell_region
from portal.operations.models import Operation

# ---- locks --------------------------------------------------------------------------------


def _lock_organisations(organisations) -> None:
    for organisation in sorted({o.id: o for o in organisations}.values(), key=lambda o: o.id):
        lock(organisation)


def lock_memberships(user: User, organisation: Organisation) -> None:
    """Before ``user`` joins ``organisation``: lock the user and each organisation they
    will belong to (see the module's docstring). Joining a first organisation makes no
    situation, so a new account takes no lock; the one race left, two memberships at once
    for an account that has none, is still blocked (``situations`` reads the data)."""
    if not any(m.active and m.organisation_id != organisation.id for m in user.memberships):
        return
    lock(user)
    _lock_organisations([*(m.organisation for m in user.memberships if m.active), organisation])


def lock_parties(operation: Operation | None, organisations) -> None:
    """Before ``organisations`` join ``operation`` (None: one being created): lock the
    operation, then them."""
    if operation is not None:
        lock(operation)
    _lock_organisations(organisations)


# ---- the verbs ----------------------------------------------------------------------------


def request_approvals(
    *,
    by: User | None,
    operation_id: int | None = None,
    user_id: int | None = None,
    organisation_id: int | None = None,
) -> list[DualMembershipApproval]:
    """Open a request for each situation that just arose (those of the operation, of the
    user, involving the organisation that joined, as given), unless one waits already or
    the Région approved it; tell the Région and the person. A refused situation that
    arises again (a membership or a participation renewed) is asked again."""
    found = standings(
        situations(operation_id=operation_id, user_id=user_id, organisation_id=organisation_id)
    )
    opened = []
    for standing in found:
        if standing.request is not None and not standing.refused:
            continue
        situation = standing.situation
        request = _new_request(situation, by)
        db.session.flush()
        _tell_of_request(request, standing, by=by)
        opened.append(request)
    return opened


def _new_request(situation: Situation, by: User | None) -> DualMembershipApproval:
    request = DualMembershipApproval(
        operation_id=situation.operation_id,
        user_id=situation.user_id,
        first_organisation_id=situation.first_id,
        second_organisation_id=situation.second_id,
        requested_by_id=getattr(by, "id", None),
    )
    db.session.add(request)
    return request


def _tell_of_request(request, standing: Standing, *, by) -> None:
    operation = request.operation
    log_event(
        operation,
        "dual_membership_requested",
        by=by,
        person=standing.user.full_name,
        organisations=standing.organisations,
    )
    tell_region(
        operation.territory,
        kind="dual_membership_requested",
        by=by,
        operation=operation,
        message=_(
            "%(name)s est membre %(of_orgs)s, deux parties de l'opération « %(title)s » : "
            "approuvez ou refusez ce cumul.",
            name=standing.user.full_name,
            of_orgs=standing.of_organisations,
            title=operation.title,
        ),
        endpoint="operations.list_dual_memberships",
        email_subject=_("Cumul d'appartenance à décider : %(title)s", title=operation.title),
    )
    notify(
        [standing.user],
        kind="dual_membership_requested",
        operation=operation,
        message=_(
            "Vous êtes membre %(of_orgs)s, deux parties de l'opération « %(title)s » : ce "
            "cumul attend l'approbation de la Région ; d'ici là, vous ne signez la convention "
            "pour aucune des deux.",
            of_orgs=standing.of_organisations,
            title=operation.title,
        ),
        endpoint="operations.show_operation",
        operation_id=operation.id,
    )


def decide(
    operation: Operation,
    situation: Situation,
    *,
    approve: bool,
    reason: str,
    by: User,
    org: Organisation,
) -> DualMembershipApproval:
    """The Région approves or refuses (with its reason) one situation, once.

    The operation is locked first: two decisions served at once happen one after the
    other, and the second finds the first.
    """
    if org is None or org.kind != OrgKind.REGION:
        raise RuleError(_("Seule la Région décide d'un cumul d'appartenance."))
    lock(operation)
    reason = (reason or "").strip()
    if not approve and not reason:
        raise RuleError(_("Indiquez le motif du refus."), "reason")
    if by.id == situation.user_id:
        raise RuleError(
            _("Un·e autre membre de la Région décide de votre propre cumul d'appartenance.")
        )
    if situation not in situations(operation_id=operation.id, user_id=situation.user_id):
        raise RuleError(
            _(
                "Cette personne n'est plus membre de ces deux parties de l'opération : il n'y "
                "a plus rien à décider."
            )
        )
    [standing] = standings([situation])
    request = standing.request
    if request is not None and not request.is_pending:
        raise RuleError(
            _(
                "La Région a déjà décidé de ce cumul le %(day)s (%(decision)s).",
                day=format_date(paris_day(request.decided_at), "d MMMM y"),
                decision=request.decision.title.lower(),
            )
        )
    if request is None:  # a situation from before the rule: asked and decided at once
        request = _new_request(situation, None)
    request.decision = DualDecision.APPROVED if approve else DualDecision.REFUSED
    request.decided_at = utcnow()
    request.decided_by_id = by.id
    request.reason = reason
    db.session.flush()
    _tell_of_decision(operation, standing, request, by=by, org=org)
    return request


def _tell_of_decision(operation, standing: Standing, request, *, by: User, org) -> None:
    detail = {"person": standing.user.full_name, "organisations": standing.organisations}
    if request.is_refused:
        detail["reason"] = request.reason
    log_event(operation, f"dual_membership_{request.decision.value}", by=by, org=org, **detail)
    if request.is_approved:
        message = _(
            "La Région approuve que %(name)s soit membre %(of_orgs)s dans l'opération "
            "« %(title)s » : la convention le mentionne.",
            name=standing.user.full_name,
            of_orgs=standing.of_organisations,
            title=operation.title,
        )
    else:
        message = _(
            "La Région refuse que %(name)s soit membre %(of_orgs)s dans l'opération "
            "« %(title)s » : %(reason)s",
            name=standing.user.full_name,
            of_orgs=standing.of_organisations,
            title=operation.title,
            reason=request.reason,
        )
    told = [standing.user]
    for organisation_id in {standing.first.id, standing.second.id, operation.provider_id}:
        if organisation_id is not None:
            told += organisation_members(organisation_id, admins_only=True)
    notify(
        [user for user in told if user.id != by.id],
        kind="dual_membership_decided",
        operation=operation,
        message=message,
        endpoint="operations.show_operation",
        operation_id=operation.id,
        email_subject=_("Cumul d'appartenance : décision de la Région"),
    )
