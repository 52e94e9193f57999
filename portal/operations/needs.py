"""Needs analysis: each employer's needs and positions, the publics, the territorial
diagnosis, and the exchange with the Région on the desirable adaptations."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.accounts.models import Organisation, OrgKind, User
from portal.core.employment import contract_months, contract_problem
from portal.core.errors import RuleError
from portal.core.locking import lock
from portal.core.time import utcnow
from portal.extensions import db
from portal.notifications.services import notify, organisation_members
from portal.operations import pending
from portal.operations.events import log_event, tell_region
from portal.operations.models import (
    DiagnosisFigure,
    EmployerNeed,
    NeedsAnalysis,
    Operation,
    ParticipantRole,
    PendingChange,
    Position,
    Status,
)

TARGET_PUBLICS = {
    "job_seekers": _l("Demandeurs d'emploi"),
    "youth": _l("Jeunes de moins de 26 ans"),
    "rsa": _l("Bénéficiaires du RSA"),
    "disabled": _l("Travailleurs handicapés"),
    "qpv": _l("Résidents des quartiers prioritaires (QPV)"),
    "seniors": _l("Seniors de plus de 50 ans"),
    "low_qualified": _l("Personnes peu ou pas qualifiées"),
}
BARRIERS = {
    "mobility": _l("Mobilité"),
    "childcare": _l("Garde d'enfants"),
    "language": _l("Maîtrise du français"),
    "digital": _l("Usages numériques"),
    "housing": _l("Logement"),
    "health": _l("Santé"),
}
EDITABLE_STATUSES = (Status.NEED_REPORTED, Status.ANALYSIS, Status.CO_DESIGN)


def _check_editable(operation: Operation) -> None:
    if operation.status not in EDITABLE_STATUSES:
        raise RuleError(_("L'analyse des besoins est close pour cette opération."))


def positions_editable(operation: Operation) -> bool:
    """The promised positions change while the operation is open: directly until a
    convention version is in force, then through an amendment (``pending.py``)."""
    return operation.is_open


def _check_positions_editable(operation: Operation) -> None:
    if not positions_editable(operation):
        raise RuleError(_("L'opération est close : ses promesses d'emploi ne changent plus."))


def employer_participants(operation: Operation, *, in_force: bool = False) -> list[Organisation]:
    """Employers taking part in the operation (active participants); ``in_force``: those
    of the convention in force, without the ones joining with the next amendment."""
    return [
        p.organisation
        for p in operation.active_participants()
        if p.role == ParticipantRole.EMPLOYER and not (in_force and p.is_joining)
    ]


def need_for(operation: Operation, employer: Organisation) -> EmployerNeed:
    """The employer's need in this operation, created empty on first access.

    Refused to an organisation that is not (or no longer) an employer of the operation.
    """
    if employer not in employer_participants(operation):
        raise RuleError(_("%(org)s n'est pas employeur de cette opération.", org=employer.name))
    need = db.session.scalar(
        select(EmployerNeed).where(
            EmployerNeed.operation_id == operation.id,
            EmployerNeed.organisation_id == employer.id,
        )
    )
    if need is None:
        need = EmployerNeed(operation=operation, organisation=employer)
        db.session.add(need)
        db.session.flush()
    return need


NEED_FIELDS = (
    "skills",
    "constraint_hours",
    "constraint_mobility",
    "constraint_licence",
    "constraint_physical",
    "technical_platform",
)


def save_employer_need(need: EmployerNeed, data: dict, *, by: User, org: Organisation) -> None:
    """The employer records its skills, constraints and technical platform."""
    _check_editable(need.operation)
    for name in NEED_FIELDS:
        setattr(need, name, (data.get(name) or "").strip())
    need.updated_by = by
    need.updated_at = utcnow()
    log_event(
        need.operation, "employer_need_updated", by=by, org=org, employer=need.organisation.name
    )


def add_position(need: EmployerNeed, data: dict, *, by: User, org: Organisation) -> Position:
    """Add positions (job, count, contract and its duration, start) to the employer's need;
    once a convention version is in force, they are promised by the next amendment."""
    operation = lock(need.operation)
    amending = pending.amending(operation)
    _check_positions_editable(operation)
    if any(
        p.organisation_id == need.organisation_id and p.is_leaving
        for p in operation.active_participants()
    ):
        raise RuleError(
            _(
                "%(org)s quitte la convention avec l'avenant : elle ne promet plus de postes.",
                org=need.organisation.name,
            )
        )
    problem = contract_problem(data["contract_type"], data.get("duration_months"))
    if problem is not None:
        raise RuleError(problem[1], problem[0])
    position = Position(
        need=need,
        job_title=data["job_title"].strip(),
        rome_code=(data.get("rome_code") or "").strip().upper(),
        count=data["count"],
        contract_type=data["contract_type"],
        duration_months=contract_months(data["contract_type"], data.get("duration_months")),
        planned_start=data.get("planned_start"),
    )
    if amending:
        pending.mark(position, PendingChange.ADD, by=by)
    db.session.add(position)
    db.session.flush()
    log_event(
        need.operation,
        "position_added",
        by=by,
        org=org,
        employer=need.organisation.name,
        job_title=position.job_title,
        count=position.count,
    )
    return position


def remove_position(position: Position, *, by: User, org: Organisation) -> None:
    """Remove a line of positions; once a convention version is in force, one it promises
    is withdrawn by the next amendment (one promised by that amendment goes at once)."""
    need = position.need
    operation = lock(need.operation)
    _check_positions_editable(operation)
    if pending.amending(operation) and not position.is_joining:
        pending.withdraw_position(position, by=by, org=org)
        return
    log_event(
        need.operation,
        "position_removed",
        by=by,
        org=org,
        employer=need.organisation.name,
        job_title=position.job_title,
        count=position.count,
    )
    db.session.delete(position)
    db.session.flush()


def keep_position(position: Position, *, by: User, org: Organisation) -> None:
    """Cancel the withdrawal of a line of positions that waits for the amendment."""
    lock(position.need.operation)
    _check_positions_editable(position.need.operation)
    pending.keep_position(position, by=by, org=org)


def analysis_for(operation: Operation) -> NeedsAnalysis:
    """The operation's analysis (publics, diagnosis, adaptations), created empty on demand."""
    analysis = db.session.scalar(
        select(NeedsAnalysis).where(NeedsAnalysis.operation_id == operation.id)
    )
    if analysis is None:
        analysis = NeedsAnalysis(operation=operation, target_publics=[], barriers=[])
        db.session.add(analysis)
        db.session.flush()
    return analysis


ANALYSIS_FIELDS = (
    "prerequisites",
    "barriers_detail",
    "accompaniment",
    "prescribers",
    "diagnosis",
    "diagnosis_links",
    "adaptations",
)


def save_analysis(analysis: NeedsAnalysis, data: dict, *, by: User, org: Organisation) -> None:
    """The organisme (or the Région) records public needs, diagnosis and adaptations."""
    _check_editable(analysis.operation)
    unknown = set(data.get("target_publics", [])) - set(TARGET_PUBLICS)
    unknown |= set(data.get("barriers", [])) - set(BARRIERS)
    if unknown:
        raise RuleError(_("Valeur inconnue : %(v)s", v=", ".join(sorted(unknown))))
    analysis.target_publics = list(data.get("target_publics", []))
    analysis.barriers = list(data.get("barriers", []))
    for name in ANALYSIS_FIELDS:
        setattr(analysis, name, (data.get(name) or "").strip())
    analysis.updated_at = utcnow()
    log_event(analysis.operation, "analysis_updated", by=by, org=org)


def add_figure(analysis: NeedsAnalysis, data: dict, *, by: User, org: Organisation):
    """Add a key figure (with its source) to the territorial diagnosis."""
    _check_editable(analysis.operation)
    figure = DiagnosisFigure(
        analysis=analysis,
        label=data["label"].strip(),
        value=data["value"].strip(),
        source=(data.get("source") or "").strip(),
    )
    db.session.add(figure)
    db.session.flush()
    log_event(analysis.operation, "figure_added", by=by, org=org, label=figure.label)
    return figure


def remove_figure(figure: DiagnosisFigure, *, by: User, org: Organisation) -> None:
    _check_editable(figure.analysis.operation)
    log_event(figure.analysis.operation, "figure_removed", by=by, org=org, label=figure.label)
    db.session.delete(figure)
    db.session.flush()


def send_analysis(analysis: NeedsAnalysis, *, by: User, org: Organisation) -> None:
    """The organisme sends the analysis and its proposed adaptations to the Région."""
    lock(analysis)
    operation = analysis.operation
    _check_editable(operation)
    if org.kind != OrgKind.PROVIDER or operation.provider_id != org.id:
        raise RuleError(_("Seul l'organisme porteur transmet l'analyse à la Région."))
    if not analysis.target_publics:
        raise RuleError(_("Renseignez les publics visés avant de transmettre l'analyse."))
    if not analysis.adaptations.strip():
        raise RuleError(_("Décrivez les adaptations souhaitables avant de transmettre l'analyse."))
    analysis.sent_at = utcnow()
    analysis.sent_by = by
    log_event(operation, "analysis_sent", by=by, org=org)
    tell_region(
        operation.territory,
        kind="analysis_sent",
        operation=operation,
        message=_(
            "%(org)s a transmis l'analyse des besoins de « %(title)s » et ses propositions "
            "d'adaptation.",
            org=org.name,
            title=operation.title,
        ),
        endpoint="operations.show_analysis",
        operation_id=operation.id,
        email_subject=_("Analyse des besoins transmise : %(title)s", title=operation.title),
    )


def answer_analysis(analysis: NeedsAnalysis, answer: str, *, by: User, org: Organisation) -> None:
    """The Région acknowledges the analysis and comments on the proposed adaptations."""
    lock(analysis)
    operation = analysis.operation
    if org.kind != OrgKind.REGION:
        raise RuleError(_("Seule la Région répond à l'analyse transmise."))
    if analysis.sent_at is None:
        raise RuleError(_("L'analyse n'a pas encore été transmise à la Région."))
    analysis.region_answer = answer.strip()
    analysis.answered_at = utcnow()
    analysis.answered_by = by
    log_event(operation, "analysis_answered", by=by, org=org, answer=answer.strip())
    if operation.provider_id:
        notify(
            organisation_members(operation.provider_id),
            kind="analysis_answered",
            operation=operation,
            message=_(
                "La Région a répondu à l'analyse des besoins de « %(title)s ».",
                title=operation.title,
            ),
            endpoint="operations.show_analysis",
            operation_id=operation.id,
        )


def positions_by_employer(
    operation: Operation, by_org: dict[int, EmployerNeed] | None = None
) -> list[tuple[Organisation, int, int]]:
    """(employer, positions promised, of which lasting contracts) for the totals table;
    ``by_org``: the operation's needs (with their positions) by organisation, if read."""
    if by_org is None:
        needs = db.session.scalars(
            select(EmployerNeed)
            .where(EmployerNeed.operation_id == operation.id)
            .options(selectinload(EmployerNeed.positions))
        ).all()
        by_org = {n.organisation_id: n for n in needs}
    rows = []
    for employer in employer_participants(operation):
        need = by_org.get(employer.id)
        positions = need.positions if need else []
        rows.append(
            (
                employer,
                sum(p.count for p in positions),
                sum(p.count for p in positions if p.is_lasting),
            )
        )
    return rows
