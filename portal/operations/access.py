"""Who sees and changes which operation.

A user sees an operation when their current organisation takes part in it (active
participant), or acts for the Région: admins see every operation, other Région members
those of the bassins they are referent for.
"""

from flask import abort
from sqlalchemy import Select, exists, inspect, select
from sqlalchemy.orm import joinedload

from portal.accounts.access import acting_for_region, current_membership, current_org
from portal.accounts.models import Territory
from portal.core.memo import remember
from portal.extensions import db
from portal.operations.models import Operation, Participant


def _participates(org_id: int):
    return exists().where(
        Participant.operation_id == Operation.id,
        Participant.organisation_id == org_id,
        Participant.withdrawn_at.is_(None),
    )


def visible_operations(query: Select | None = None) -> Select:
    """Restrict ``select(Operation)`` to what the current user may see."""
    query = query if query is not None else select(Operation)
    membership = current_membership()
    if membership is None:
        return query.where(False)
    if acting_for_region():
        if membership.is_admin:
            return query
        referent_of = select(Territory.id).where(Territory.referent_id == membership.user_id)
        return query.where(Operation.territory_id.in_(referent_of))
    return query.where(_participates(membership.organisation_id))


def can_view(operation: Operation) -> bool:
    """True when the current user may see ``operation`` (read once per request).

    ``visible_operations``'s rule, answered from what is loaded when it is (a page's
    loader joins the participants and the bassin): no query."""
    membership = current_membership()
    if membership is None:
        return False
    loaded = inspect(operation).unloaded
    if acting_for_region():
        if membership.is_admin:
            return True
        if "territory" not in loaded:
            territory = operation.territory
            return territory is not None and territory.referent_id == membership.user_id
    elif "participants" not in loaded:
        return any(
            p.organisation_id == membership.organisation_id and p.withdrawn_at is None
            for p in operation.participants
        )
    query = visible_operations(select(Operation.id).where(Operation.id == operation.id))
    return remember(
        ("operations.can_view", membership and membership.id, operation.id),
        lambda: db.session.scalar(query) is not None,
    )


def is_region() -> bool:
    return acting_for_region()


def is_carrier(operation: Operation) -> bool:
    """The current organisation is the organisme porteur of the operation."""
    org = current_org()
    return org is not None and operation.provider_id == org.id


def can_steer(operation: Operation) -> bool:
    """The organisme porteur and the Région drive the operation (details, participants, steps)."""
    return is_carrier(operation) or is_region()


def with_access(*options):
    """A ``load_operation`` loader: the operation with what ``can_view`` answers from (its
    participants and its bassin) and with ``options``, in one query — instead of the
    operation, then a query to know whether the user may see it (issue #16)."""

    def load(operation_id: int) -> Operation | None:
        return (
            db.session.scalars(
                select(Operation)
                .where(Operation.id == operation_id)
                .options(
                    joinedload(Operation.participants), joinedload(Operation.territory), *options
                )
            )
            .unique()
            .one_or_none()
        )

    return load


def load_operation(operation_id: int, loader=None) -> Operation:
    """The operation, or 404 — also when the user may not see it (its existence stays hidden).

    ``loader`` fetches it with what a page needs (eager loads) instead of a plain get.
    """
    operation = loader(operation_id) if loader else db.session.get(Operation, operation_id)
    if operation is None or not can_view(operation):
        abort(404)
    return operation
