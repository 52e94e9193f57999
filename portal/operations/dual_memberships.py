"""One person in two parties of one operation needs the Région's approval (issue #11 M6).

A member of two organisations taking part in the same open operation could speak, and
sign, for both. Where the situation arises — someone joins an organisation (accepting an
invitation: ``accounts.services.add_membership``), an organisation joins an operation
(the need's report, ``add_participant``, a prescriber enlisted, the organisme retained
after a FREF consultation) — a request is opened, the Région's referent (else its admins)
is told and so is the person. Meanwhile the situation stays blocked: that person is not
designated signer for either party nor signs, the convention is neither submitted nor
validated. The Région approves (the convention then carries the mention « X est membre de
A et de B ; cumul approuvé par la Région le … ») or refuses with a reason (blocked until
the person leaves one of them or one of them leaves the operation).

What is blocked is read from the data as it is (``situations``: active memberships ×
active participants of open operations, one query), never from the requests alone: a
situation without a request (from before the rule) is blocked too, and the Région decides
it the same way. The requests are the record of who asked and who decided.

This module reads; the requests, the decisions and their locks are in ``dual_approvals.py``.
"""

from dataclasses import dataclass

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import and_, exists, or_, select, tuple_
from sqlalchemy.orm import aliased, selectinload

from portal.accounts.models import Membership, Organisation, User
from portal.core.french import de
from portal.core.memo import remember
from portal.core.time import paris_day
from portal.extensions import db
from portal.operations.dual_models import DualMembershipApproval
from portal.operations.models import Operation, Participant, Status

FINISHED = (Status.CLOSED, Status.CANCELLED)


@dataclass(frozen=True)
class Situation:
    """A user who is an active member of two organisations (in id order) taking part in
    the same open operation."""

    operation_id: int
    user_id: int
    first_id: int
    second_id: int

    @property
    def key(self) -> tuple[int, int, int, int]:
        return (self.operation_id, self.user_id, self.first_id, self.second_id)


def _situations_query(*, pending: bool = False):
    """The ``select`` of the situations (operation id, user id, first and second
    organisation ids, in ``Situation``'s order); with ``pending``, only those waiting for
    the Région: no request made, or the latest one not decided (``Standing.pending``)."""
    first, second = aliased(Membership), aliased(Membership)
    taking_part, also = aliased(Participant), aliased(Participant)
    query = (
        select(
            taking_part.operation_id, first.user_id, first.organisation_id, second.organisation_id
        )
        .select_from(first)
        .join(
            second,
            and_(
                second.user_id == first.user_id,
                second.organisation_id > first.organisation_id,
                second.active.is_(True),
            ),
        )
        .join(
            taking_part,
            and_(
                taking_part.organisation_id == first.organisation_id,
                taking_part.withdrawn_at.is_(None),
            ),
        )
        .join(
            also,
            and_(
                also.operation_id == taking_part.operation_id,
                also.organisation_id == second.organisation_id,
                also.withdrawn_at.is_(None),
            ),
        )
        .join(Operation, Operation.id == taking_part.operation_id)
        .where(first.active.is_(True), Operation.status.not_in(FINISHED))
    )
    if pending:
        request, later = aliased(DualMembershipApproval), aliased(DualMembershipApproval)

        def same(r):
            return and_(
                r.operation_id == taking_part.operation_id,
                r.user_id == first.user_id,
                r.first_organisation_id == first.organisation_id,
                r.second_organisation_id == second.organisation_id,
            )

        # decided: its latest request has a decision (approved or refused). The later one
        # is compared with ``request``, the query just around it: compared with the
        # situation's columns, two levels out, it was not correlated and read any
        # situation's later request (and every participant and membership to find it).
        decided = exists().where(
            same(request),
            request.decision.is_not(None),
            ~exists().where(
                later.operation_id == request.operation_id,
                later.user_id == request.user_id,
                later.first_organisation_id == request.first_organisation_id,
                later.second_organisation_id == request.second_organisation_id,
                later.id > request.id,
            ),
        )
        query = query.where(~decided)
    return query, (taking_part, first, second)


def situations(
    *,
    operation_id: int | None = None,
    user_id: int | None = None,
    organisation_id: int | None = None,
    within=None,
) -> list[Situation]:
    """The situations as the data stand (one query), of an operation, a user, involving an
    organisation, or of the operations ``within`` selects (a ``select`` of ids), as asked."""
    query, (taking_part, first, second) = _situations_query()
    query = query.order_by(
        taking_part.operation_id, first.user_id, first.organisation_id, second.organisation_id
    )
    if operation_id is not None:
        query = query.where(taking_part.operation_id == operation_id)
    if within is not None:
        query = query.where(taking_part.operation_id.in_(within))
    if user_id is not None:
        query = query.where(first.user_id == user_id)
    if organisation_id is not None:
        query = query.where(
            or_(first.organisation_id == organisation_id, second.organisation_id == organisation_id)
        )
    return [Situation(*row) for row in db.session.execute(query)]


def pending_operation_ids():
    """A ``select`` of the ids of the open operations with a situation waiting for the
    Région (``Standing.pending``), for the Région's « À faire »: decided in SQL, so nothing
    is read when nothing waits (issue #16)."""
    query, (taking_part, _first, _second) = _situations_query(pending=True)
    return query.with_only_columns(taking_part.operation_id)


def latest_requests(found: list[Situation]) -> dict[tuple, DualMembershipApproval]:
    """The latest request of each situation (one query; none for a situation never asked)."""
    if not found:
        return {}
    rows = db.session.scalars(
        select(DualMembershipApproval)
        .where(
            tuple_(
                DualMembershipApproval.operation_id,
                DualMembershipApproval.user_id,
                DualMembershipApproval.first_organisation_id,
                DualMembershipApproval.second_organisation_id,
            ).in_([s.key for s in found])
        )
        .order_by(DualMembershipApproval.id)
        .options(selectinload(DualMembershipApproval.decided_by))
    )
    latest = {}
    for row in rows:
        latest[(row.operation_id, row.user_id, row.first_organisation_id,
                row.second_organisation_id)] = row  # fmt: skip
    return latest


@dataclass
class Standing:
    """A situation with its latest request and the people and organisations it names."""

    situation: Situation
    request: DualMembershipApproval | None
    user: User
    first: Organisation
    second: Organisation

    @property
    def approved(self) -> bool:
        return self.request is not None and self.request.is_approved

    @property
    def refused(self) -> bool:
        return self.request is not None and self.request.is_refused

    @property
    def pending(self) -> bool:
        """Waiting for the Région (a request, or a situation no request was made for)."""
        return self.request is None or self.request.is_pending

    @property
    def organisations(self) -> str:
        return _("%(a)s et %(b)s", a=self.first.name, b=self.second.name)

    @property
    def of_organisations(self) -> str:
        """« d'Entreprise E et de Partenaire P », after « membre »."""
        return _("%(of_a)s et %(of_b)s", of_a=de(self.first.name), of_b=de(self.second.name))

    def involves(self, organisation_id: int) -> bool:
        return organisation_id in (self.situation.first_id, self.situation.second_id)

    @property
    def sentence(self) -> str:
        """What the convention page says of it: the mention once approved."""
        name, a, b = self.user.full_name, self.first.name, self.second.name
        if self.approved:
            return mention(name, a, b, paris_day(self.request.decided_at))
        if self.refused:
            return _(
                "%(name)s est membre %(of_a)s et %(of_b)s : cumul refusé par la Région le "
                "%(day)s (%(reason)s).",
                name=name,
                of_a=de(a),
                of_b=de(b),
                day=format_date(paris_day(self.request.decided_at), "d MMMM y"),
                reason=self.request.reason,
            )
        return _(
            "%(name)s est membre %(of_a)s et %(of_b)s : ce cumul attend la décision de la Région.",
            name=name,
            of_a=de(a),
            of_b=de(b),
        )


def standings(found: list[Situation]) -> list[Standing]:
    """``found`` with their requests, users and organisations (three more queries)."""
    if not found:
        return []
    latest = latest_requests(found)
    users = {
        u.id: u
        for u in db.session.scalars(select(User).where(User.id.in_({s.user_id for s in found})))
    }
    org_ids = {s.first_id for s in found} | {s.second_id for s in found}
    orgs = {
        o.id: o
        for o in db.session.scalars(select(Organisation).where(Organisation.id.in_(org_ids)))
    }
    return [
        Standing(s, latest.get(s.key), users[s.user_id], orgs[s.first_id], orgs[s.second_id])
        for s in found
    ]


def of_operation(operation: Operation) -> list[Standing]:
    """Every situation of the operation, with its state (read once per request: the
    convention page's parties and its text both ask)."""
    return remember(
        ("dual_memberships.of_operation", operation.id),
        lambda: standings(situations(operation_id=operation.id)),
    )


def unapproved(
    operation: Operation, *, user_id: int | None = None, among: set[int] | None = None
) -> list[Standing]:
    """The situations of the operation (of one user) the Région has not approved; with
    ``among``, only those whose two organisations are both in it: the parties named by the
    text at hand (a party an amendment removes still takes part until it is validated, yet
    a cumul through it binds nobody in that amendment)."""
    found = situations(operation_id=operation.id, user_id=user_id)
    if among is not None:
        found = [s for s in found if s.first_id in among and s.second_id in among]
    return [s for s in standings(found) if not s.approved]


def describe(standing: Standing) -> str:
    """« Camille Martin (Organisme A et Entreprise E) »."""
    return _("%(name)s (%(orgs)s)", name=standing.user.full_name, orgs=standing.organisations)


def blocking_problems(operation: Operation, among: set[int] | None = None) -> list[str]:
    """Why the convention text whose parties are ``among`` (default: every participant) may
    be neither submitted nor validated (French, empty if none)."""
    waiting = unapproved(operation, among=among)
    problems = []
    pending = [describe(s) for s in waiting if s.pending]
    refused = [describe(s) for s in waiting if s.refused]
    if pending:
        problems.append(
            _(
                "Cumul d'appartenance à faire approuver par la Région (une personne membre de "
                "deux parties) : %(list)s.",
                list=", ".join(pending),
            )
        )
    if refused:
        problems.append(
            _(
                "Cumul d'appartenance refusé par la Région : %(list)s ; la personne quitte "
                "l'une des deux organisations, ou l'une d'elles se retire de l'opération.",
                list=", ".join(refused),
            )
        )
    return problems


def signer_problem(
    operation: Operation,
    user: User,
    organisation_id: int | None = None,
    among: set[int] | None = None,
):
    """Why ``user`` may not sign (for ``organisation_id``, if given) a text whose parties
    are ``among`` (default: every participant), or None."""
    waiting = unapproved(operation, user_id=user.id, among=among)
    if organisation_id is not None:
        waiting = [s for s in waiting if s.involves(organisation_id)]
    if not waiting:
        return None
    standing = waiting[0]
    if standing.refused:
        return _(
            "%(name)s est membre %(of_orgs)s, deux parties de l'opération, et la Région a "
            "refusé ce cumul : il ou elle ne signe pour aucune des deux.",
            name=user.full_name,
            of_orgs=standing.of_organisations,
        )
    return _(
        "%(name)s est membre %(of_orgs)s, deux parties de l'opération : tant que la Région "
        "n'a pas approuvé ce cumul, il ou elle ne signe pour aucune des deux.",
        name=user.full_name,
        of_orgs=standing.of_organisations,
    )


def mention(person: str, first: str, second: str, day) -> str:
    """The convention's mention of an approved cumul."""
    return _(
        "%(name)s est membre %(of_a)s et %(of_b)s ; cumul approuvé par la Région le %(day)s.",
        name=person,
        of_a=de(first),
        of_b=de(second),
        day=format_date(day, "d MMMM y"),
    )


def approved_mentions(operation: Operation) -> list[dict]:
    """What the convention says of the approved situations (for its snapshot)."""
    entries = []
    for standing in of_operation(operation):
        if not standing.approved:
            continue
        day = paris_day(standing.request.decided_at)
        names = [standing.first.name, standing.second.name]
        entries.append(
            {
                "user_id": standing.user.id,
                "person": standing.user.full_name,
                "organisation_ids": [standing.first.id, standing.second.id],
                "organisations": names,
                "approved_on": day.isoformat(),
                "text": mention(standing.user.full_name, *names, day),
            }
        )
    return sorted(entries, key=lambda e: (e["person"], e["organisations"], e["user_id"]))


def pending_by_operation(within) -> list[tuple[Operation, list[Standing]]]:
    """The Région's page: each open operation among ``within`` (a ``select`` of ids) with a
    situation not approved, and those situations (waiting first), in five queries whatever
    their number."""
    waiting = [s for s in standings(situations(within=within)) if not s.approved]
    if not waiting:
        return []
    ids = sorted({s.situation.operation_id for s in waiting})
    operations = {
        o.id: o
        for o in db.session.scalars(
            select(Operation)
            .where(Operation.id.in_(ids))
            .options(selectinload(Operation.territory))
        )
    }
    grouped = []
    for operation_id in ids:
        mine = [s for s in waiting if s.situation.operation_id == operation_id]
        mine.sort(key=lambda s: (not s.pending, s.user.last_name, s.user.first_name))
        grouped.append((operations[operation_id], mine))
    return grouped
