"""Which promises count toward « 1 stagiaire pour 1 promesse »: the lasting ones, and the
others only once the Région has accepted them, with its reason.

« Durable » is never typed: it comes from the contract and its duration through the one
definition of ``portal/core/employment.py``. A promise that is not lasting and that the
Région has not accepted is still a job (a trainee may be placed on it), but it is listed
apart, with ``apart_explanation``, and left out of the rule's figures.

The Région's acceptance belongs to a position (the N promises of a position of count N)
and to the contract it named then: should the position name another contract, the
acceptance no longer holds and the Région decides again.
"""

from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from portal.accounts.models import Organisation, OrgKind, User
from portal.audit.services import record
from portal.core.employment import LASTING_MONTHS, contract_lasting_sql
from portal.core.errors import RuleError
from portal.core.french import de
from portal.core.locking import lock
from portal.core.time import utcnow
from portal.extensions import db
from portal.notifications.services import notify, organisation_members
from portal.operations.events import log_event
from portal.operations.models import EmployerNeed, Operation, Position
from portal.recruitment.models import JobPromise, PromiseAcceptance

REASON_MAX = 2000


def _same_terms(acceptance, contract_column, months_column):
    return and_(
        acceptance.contract_type == contract_column,
        func.coalesce(acceptance.duration_months, 0) == func.coalesce(months_column, 0),
    )


def accepted_sql():
    """SQL condition on ``JobPromise``: the Région accepted its position's contract."""
    return exists().where(
        PromiseAcceptance.position_id == JobPromise.position_id,
        _same_terms(PromiseAcceptance, JobPromise.contract_type, JobPromise.duration_months),
    )


def counts_sql():
    """SQL condition on ``JobPromise``: it counts toward « 1 stagiaire pour 1 promesse »."""
    return or_(contract_lasting_sql(JobPromise.contract_type, JobPromise.duration_months),
               accepted_sql())  # fmt: skip


def acceptances(operation: Operation) -> dict[int, PromiseAcceptance]:
    """The Région's acceptances of the operation's positions, by position id (one query)."""
    rows = db.session.scalars(
        select(PromiseAcceptance)
        .join(Position, Position.id == PromiseAcceptance.position_id)
        .join(EmployerNeed, EmployerNeed.id == Position.need_id)
        .where(EmployerNeed.operation_id == operation.id)
        .options(joinedload(PromiseAcceptance.accepted_by))
    )
    return {row.position_id: row for row in rows}


def positions_with_acceptances(operation: Operation) -> list[tuple[Position, object]]:
    """The operation's positions, each with the Région's acceptance of it or None, their
    needs and employers joined (one query: the convention's promises read all of it)."""
    rows = db.session.execute(
        select(Position, PromiseAcceptance)
        .join(Position.need)
        .outerjoin(PromiseAcceptance, PromiseAcceptance.position_id == Position.id)
        .where(EmployerNeed.operation_id == operation.id)
        .options(contains_eager(Position.need).joinedload(EmployerNeed.organisation))
        .order_by(EmployerNeed.id, Position.id)
    ).all()
    return [(position, acceptance) for position, acceptance in rows]


def holding(acceptance: PromiseAcceptance | None, item) -> PromiseAcceptance | None:
    """``acceptance`` if it covers the contract of ``item`` (a position or a promise)."""
    if acceptance is None or not acceptance.holds_for(item.contract_type, item.duration_months):
        return None
    return acceptance


def counts(item, acceptance: PromiseAcceptance | None) -> bool:
    """A position or promise counts: lasting, or accepted for its contract."""
    return item.is_lasting or holding(acceptance, item) is not None


def apart_explanation(item) -> str:
    """Why a non-lasting promise (not accepted) is left out of « 1 stagiaire pour 1
    promesse », in French."""
    return _(
        "%(contract)s n'est pas un emploi durable (CDI ; CDD, intérim ou alternance de "
        "%(n)d mois ou plus ; création d'entreprise) : cette promesse ne compte pas pour « 1 "
        "stagiaire pour 1 promesse » tant que la Région ne l'a pas acceptée avec un motif.",
        contract=item.contract_label,
        n=LASTING_MONTHS,
    )


def non_lasting_positions(operation: Operation) -> list[Position]:
    """The operation's positions whose contract is not lasting, by employer and post."""
    positions = db.session.scalars(
        select(Position)
        .join(EmployerNeed, EmployerNeed.id == Position.need_id)
        .join(Organisation, Organisation.id == EmployerNeed.organisation_id)
        .where(EmployerNeed.operation_id == operation.id)
        .options(selectinload(Position.need).selectinload(EmployerNeed.organisation))
        .order_by(Organisation.name, Position.id)
    )
    return [p for p in positions if not p.is_lasting]


def accept_non_lasting(position: Position, reason: str, *, by: User, org: Organisation):
    """The Région accepts that this position's promises count although their contract is
    not lasting; the organisme porteur and the employer are told. Returns the acceptance."""
    lock(position)
    operation = position.need.operation
    if org is None or org.kind != OrgKind.REGION:
        raise RuleError(_("Seule la Région accepte une promesse d'emploi non durable."))
    if not operation.is_open:
        raise RuleError(_("Cette opération est close : ses promesses ne changent plus."))
    if position.is_lasting:
        raise RuleError(
            _("Ce contrat est un emploi durable : il compte sans décision de la Région.")
        )
    reason = (reason or "").strip()
    if not reason:
        raise RuleError(_("Indiquez le motif de l'acceptation."), "reason")
    if len(reason) > REASON_MAX:
        raise RuleError(_("%(n)d caractères au plus.", n=REASON_MAX), "reason")
    acceptance = db.session.scalar(
        select(PromiseAcceptance).where(PromiseAcceptance.position_id == position.id)
    )
    if holding(acceptance, position) is not None:
        raise RuleError(_("La Région a déjà accepté cette promesse : elle compte déjà."))
    terms = {
        "contract_type": position.contract_type,
        "duration_months": position.duration_months,
        "reason": reason,
        "accepted_at": utcnow(),
        "accepted_by_id": by.id,
        "organisation_id": org.id,
    }
    if acceptance is None:
        acceptance = PromiseAcceptance(position_id=position.id, **terms)
        db.session.add(acceptance)
    else:
        for name, value in terms.items():
            setattr(acceptance, name, value)
    db.session.flush()
    employer = position.need.organisation
    record(
        "promise.non_lasting_accepted",
        actor=by,
        organisation=org,
        obj=position,
        operation=operation.id,
        contract=position.contract_type.value,
        months=position.duration_months,
    )
    log_event(
        operation,
        "non_lasting_accepted",
        by=by,
        org=org,
        employer=employer.name,
        job_title=position.job_title,
        contract=position.contract_label,
        reason=reason,
    )
    told = organisation_members(employer.id, admins_only=True)
    if operation.provider_id:
        told += organisation_members(operation.provider_id)
    notify(
        told,
        kind="non_lasting_accepted",
        operation=operation,
        message=_(
            "La Région accepte que la promesse « %(job)s » (%(contract)s) %(of_employer)s "
            "compte pour « 1 stagiaire pour 1 promesse » : %(reason)s",
            job=position.job_title,
            contract=position.contract_label,
            of_employer=de(employer.name),
            reason=reason,
        ),
        endpoint="recruitment.list_non_lasting",
        operation_id=operation.id,
    )
    return acceptance
