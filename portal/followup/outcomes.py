"""Job promise outcomes: was each promise kept (which contract, from when, how many hours)
or not (why)? Recorded by the organisme porteur or the promising employer's admins, the
other side is told; the ledger counts promised, kept and not kept per employer."""

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import Organisation, User
from portal.audit.services import record
from portal.core.employment import Situation, contract_lasting_sql
from portal.core.errors import RuleError
from portal.core.french import de
from portal.core.locking import lock
from portal.extensions import db
from portal.followup.access import can_record_outcome
from portal.followup.exits import check_step
from portal.followup.models import NotKeptReason, PromiseOutcome
from portal.followup.rules import contract_months
from portal.notifications.services import notify, organisation_members
from portal.operations.events import log_event
from portal.operations.models import Operation
from portal.recruitment.models import JobPromise

COMMENT_MAX = 2000
HOURS_MAX = 48


def _kept_values(promise: JobPromise, data: dict) -> dict:
    if promise.trainee is None:
        raise RuleError(
            _(
                "Aucun·e stagiaire n'est positionné·e sur cette promesse : elle n'a pas pu "
                "être tenue."
            ),
            "kept",
        )
    contract = data.get("contract")
    if contract is None or not Situation(contract).is_salaried:
        raise RuleError(_("Indiquez le contrat signé."), "contract")
    contract = Situation(contract)
    months = contract_months(contract, data.get("duration_months"))
    start: date | None = data.get("start_date")
    if start is None:
        raise RuleError(_("Indiquez la date d'embauche."), "start_date")
    hours = data.get("weekly_hours")
    if hours is not None and not 0 < hours <= HOURS_MAX:
        raise RuleError(_("Entre 1 et %(n)d heures par semaine.", n=HOURS_MAX), "weekly_hours")
    return {
        "kept": True,
        "contract": contract,
        "duration_months": months,
        "start_date": start,
        "weekly_hours": hours,
        "reason": None,
    }


def _not_kept_values(data: dict, comment: str) -> dict:
    reason = data.get("reason")
    if reason is None:
        raise RuleError(_("Indiquez pourquoi la promesse n'a pas été tenue."), "reason")
    reason = NotKeptReason(reason)
    if reason == NotKeptReason.OTHER and not comment:
        raise RuleError(_("Précisez le motif dans le commentaire."), "comment")
    return {
        "kept": False,
        "contract": None,
        "duration_months": None,
        "start_date": None,
        "weekly_hours": None,
        "reason": reason,
    }


def outcome_of(promise: JobPromise) -> PromiseOutcome | None:
    return db.session.scalar(select(PromiseOutcome).where(PromiseOutcome.promise_id == promise.id))


def record_promise_outcome(
    promise: JobPromise, data: dict, *, by: User, org: Organisation
) -> PromiseOutcome:
    """Record whether ``promise`` was kept (or correct it): one outcome per promise.

    ``data``: ``kept`` (bool), then ``contract`` (a salaried ``Situation``),
    ``duration_months`` (for a CDD, an intérim, an alternance), ``start_date``,
    ``weekly_hours``; or ``reason`` (``NotKeptReason``); and ``comment``.
    """
    operation = promise.operation
    if not can_record_outcome(promise, by, org):
        raise RuleError(
            _(
                "Seuls l'organisme de formation porteur et les administrateur·rices de "
                "l'employeur qui a promis l'emploi enregistrent son résultat."
            )
        )
    check_step(operation)
    comment = (data.get("comment") or "").strip()
    if len(comment) > COMMENT_MAX:
        raise RuleError(_("%(n)d caractères au plus.", n=COMMENT_MAX), "comment")
    if data.get("kept") is None:
        raise RuleError(_("Indiquez si la promesse a été tenue."), "kept")
    lock(promise)  # its outcome is read, then written
    values = _kept_values(promise, data) if data["kept"] else _not_kept_values(data, comment)
    outcome = outcome_of(promise)
    created = outcome is None
    if created:
        outcome = PromiseOutcome(promise_id=promise.id)
        db.session.add(outcome)
    for name, value in values.items():
        setattr(outcome, name, value)
    outcome.comment = comment
    outcome.recorded_by_id, outcome.recorded_by_org_id = by.id, org.id
    try:
        db.session.flush()
    except IntegrityError as exc:
        raise RuleError(
            _(
                "Le résultat de cette promesse vient d'être enregistré par quelqu'un d'autre : "
                "rechargez la page."
            )
        ) from exc
    record(
        "promise.outcome_recorded" if created else "promise.outcome_corrected",
        actor=by,
        organisation=org,
        obj=outcome,
        promise=promise.id,
        kept=outcome.kept,
    )
    log_event(
        operation,
        "promise_kept" if outcome.kept else "promise_not_kept",
        by=by,
        org=org,
        employer=promise.organisation.name,
        job=promise.job_title,
    )
    carrier = operation.provider_id == org.id
    told = (
        organisation_members(promise.organisation_id, admins_only=True)
        if carrier
        else organisation_members(operation.provider_id)
    )
    notify(
        [user for user in told if user.id != by.id],
        kind="promise_outcome",
        operation=operation,
        message=_(
            "%(org)s indique que la promesse « %(job)s » %(of_employer)s (opération « %(title)s ») "
            "est %(outcome)s.",
            org=org.name,
            job=promise.job_title,
            of_employer=de(promise.organisation.name),
            title=operation.title,
            outcome=_("tenue") if outcome.kept else _("non tenue"),
        ),
        endpoint="followup.list_promise_outcomes",
        operation_id=operation.id,
    )
    return outcome


@dataclass(frozen=True)
class LedgerRow:
    """One employer's promises: promised, of which lasting contracts, kept, not kept."""

    employer: Organisation
    promised: int
    lasting: int
    kept: int
    not_kept: int

    @property
    def pending(self) -> int:
        return self.promised - self.kept - self.not_kept


def ledger(operation: Operation) -> list[LedgerRow]:
    """Promised / kept / not kept per employer of ``operation``, with the employer (one
    query: grouped by the employer's key, whose row the group determines)."""
    rows = db.session.execute(
        select(
            Organisation,
            func.count(JobPromise.id),
            func.count(
                case(
                    (contract_lasting_sql(JobPromise.contract_type, JobPromise.duration_months), 1)
                )
            ),
            func.count(case((PromiseOutcome.kept.is_(True), 1))),
            func.count(case((PromiseOutcome.kept.is_(False), 1))),
        )
        .join(Organisation, Organisation.id == JobPromise.organisation_id)
        .outerjoin(PromiseOutcome, PromiseOutcome.promise_id == JobPromise.id)
        .where(JobPromise.operation_id == operation.id)
        .group_by(Organisation.id)
    ).all()
    result = [LedgerRow(r[0], r[1], r[2], r[3], r[4]) for r in rows]
    return sorted(result, key=lambda row: row.employer.name)
