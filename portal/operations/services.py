"""Business verbs of an operation: report the need, decide, advance, cancel, participants.

They check rules, change state, write the timeline and the audit log, notify; they
flush and never commit.
"""

from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts import invitations
from portal.accounts import services as accounts
from portal.accounts.models import Organisation, OrgKind, PartnerType, User
from portal.audit.services import record
from portal.core import french
from portal.core.errors import RuleError
from portal.core.locking import lock
from portal.core.time import utcnow
from portal.core.validators import normalize_siret, siret_is_valid
from portal.extensions import db
from portal.lots.services import find_covering_lot, normalize_rome
from portal.notifications.services import notify, organisation_members, region_admins
from portal.operations import dual_approvals, pending
from portal.operations.events import log_event, region_organisation, tell_region
from portal.operations.models import (
    Funding,
    Operation,
    Participant,
    ParticipantRole,
    PendingChange,
    Status,
)


class ExclusivityError(RuleError):
    """The need falls under another organisme's lot; the Région has been told."""


def _add_participant(operation, organisation, role, *, by, by_right=False) -> Participant:
    """A new participant; once a convention version is in force it joins the convention
    with the next amendment (``pending.py``)."""
    participant = Participant(
        operation=operation,
        organisation=organisation,
        role=role,
        by_right=by_right,
        added_by_id=getattr(by, "id", None),
    )
    if pending.amending(operation):
        pending.mark(participant, PendingChange.ADD, by=by)
    db.session.add(participant)
    return participant


def report_need(data: dict, *, by: User, org: Organisation) -> Operation:
    """An organisme (or the Région) reports a hiring need; the referent is told at once.

    ``data``: title, category, territory, rome_code, trades, positions_estimate,
    desired_start, context, employers (organisations), new_employers ([(name, email)]).
    """
    if org.kind not in (OrgKind.PROVIDER, OrgKind.REGION):
        raise RuleError(_("Seuls un organisme de formation ou la Région signalent un besoin."))
    territory, category = data["territory"], data["category"]
    rome_code = normalize_rome(data["rome_code"])
    lot = find_covering_lot(category, territory, rome_code, data.get("desired_start"))
    if lot is not None and org.kind == OrgKind.PROVIDER and lot.holder_id != org.id:
        message = _(
            "Ce besoin relève du lot n° %(number)s « %(title)s » (%(period)s), attribué "
            "%(to_holder)s : son attributaire a l'exclusivité de cette formation. "
            "La Région en est informée.",
            number=lot.number,
            title=lot.title,
            period=lot.period_label,
            to_holder=french.a(lot.holder.name),
        )
        tell_region(
            territory,
            kind="exclusivity_refused",
            message=_(
                "%(org)s a signalé un besoin « %(title)s » (bassin %(of_territory)s) couvert par "
                "le lot n° %(number)s attribué %(to_holder)s : signalement refusé.",
                org=org.name,
                title=data["title"],
                of_territory=french.de(territory.name),
                number=lot.number,
                to_holder=french.a(lot.holder.name),
            ),
            email_subject=_("Besoin refusé : exclusivité du lot n° %(n)s", n=lot.number),
        )
        record(
            "operation.exclusivity_refused",
            actor=by,
            organisation=org,
            obj=lot,
            title=data["title"],
            territory=territory.name,
        )
        raise ExclusivityError(message)
    if lot is not None:
        funding, provider = Funding.LOT, lot.holder
    else:
        funding, provider = Funding.PENDING, (org if org.kind == OrgKind.PROVIDER else None)
    region = region_organisation()
    parties = [region, *([provider] if provider else []), *data.get("employers", [])]
    dual_approvals.lock_parties(None, parties)  # the operation is new: only them
    operation = Operation(
        title=data["title"],
        category=category,
        territory=territory,
        rome_code=rome_code,
        trades=data.get("trades", ""),
        funding=funding,
        lot=lot,
        provider=provider,
        positions_estimate=data.get("positions_estimate"),
        desired_start=data.get("desired_start"),
        context=data.get("context", ""),
        reported_by=by,
        reported_by_org=org,
        status=Status.NEED_REPORTED,
    )
    db.session.add(operation)
    db.session.flush()
    _add_participant(operation, region, ParticipantRole.REGION, by=by, by_right=True)
    if provider is not None:
        _add_participant(operation, provider, ParticipantRole.PROVIDER, by=by, by_right=True)
    for employer in data.get("employers", []):
        _add_participant(operation, employer, ParticipantRole.EMPLOYER, by=by)
    for name, email, siret in data.get("new_employers", []):
        invite_new_organisation(
            operation,
            name,
            email,
            ParticipantRole.EMPLOYER,
            by=by,
            org=org,
            siret=siret,
            later=False,
        )
    log_event(
        operation,
        "need_reported",
        by=by,
        org=org,
        funding=funding.value,
        lot=lot.number if lot else None,
    )
    tell_region(
        territory,
        kind="need_reported",
        operation=operation,
        message=_(
            "Nouveau besoin repéré par %(org)s : « %(title)s », bassin %(of_territory)s "
            "(%(funding)s).",
            org=org.name,
            title=operation.title,
            of_territory=french.de(territory.name),
            funding=funding.title,
        ),
        endpoint="operations.show_operation",
        operation_id=operation.id,
        email_subject=_("Nouveau besoin DEFI : %(title)s", title=operation.title),
    )
    dual_approvals.request_approvals(by=by, operation_id=operation.id)
    return operation


def acknowledge_need(operation: Operation, *, by: User, org: Organisation, comment: str = ""):
    """The Région acknowledges the reported need (accusé de réception)."""
    if org.kind != OrgKind.REGION:
        raise RuleError(_("Seule la Région accuse réception d'un besoin."))
    lock(operation)
    if operation.acknowledged_at is not None:
        raise RuleError(_("La Région a déjà accusé réception de ce besoin."))
    operation.acknowledged_at = utcnow()
    operation.acknowledged_by = by
    operation.acknowledgement_comment = comment.strip()
    log_event(operation, "acknowledged", by=by, org=org, comment=comment.strip())
    _tell_carrier(
        operation,
        _("La Région a accusé réception du besoin « %(title)s ».", title=operation.title),
        kind="acknowledged",
    )


def _tell_carrier(operation: Operation, message: str, *, kind: str) -> None:
    if operation.provider_id:
        notify(
            organisation_members(operation.provider_id),
            kind=kind,
            operation=operation,
            message=message,
            endpoint="operations.show_operation",
            operation_id=operation.id,
        )


def launch_fref(
    operation: Operation, *, reference: str, provider: Organisation, by: User, org: Organisation
) -> None:
    """Outside any lot, the Région opens a FREF consultation and records the chosen organisme."""
    if org.kind != OrgKind.REGION:
        raise RuleError(_("Seule la Région décide d'une consultation FREF."))
    dual_approvals.lock_parties(operation, [provider])
    if operation.funding != Funding.PENDING:
        raise RuleError(_("Ce besoin n'attend pas de décision hors marché."))
    if provider.kind != OrgKind.PROVIDER:
        raise RuleError(_("L'organisme retenu doit être un organisme de formation."), "provider_id")
    previous = operation.provider_id
    operation.funding = Funding.FREF
    operation.fref_reference = reference.strip()
    operation.provider = provider
    if previous != provider.id:
        if previous is not None:
            withdraw_carrier = next(
                (p for p in operation.active_participants() if p.organisation_id == previous), None
            )
            if withdraw_carrier is not None:
                withdraw_carrier.withdrawn_at = utcnow()
                withdraw_carrier.withdrawn_by_id = by.id
                withdraw_carrier.withdrawal_reason = _("Autre organisme retenu après consultation")
        _add_participant(operation, provider, ParticipantRole.PROVIDER, by=by, by_right=True)
        db.session.flush()
    log_event(
        operation,
        "fref_launched",
        by=by,
        org=org,
        reference=operation.fref_reference,
        provider=provider.name,
    )
    _tell_carrier(
        operation,
        _(
            "La Région a retenu votre organisme pour « %(title)s » (consultation FREF %(ref)s).",
            title=operation.title,
            ref=operation.fref_reference,
        ),
        kind="fref_launched",
    )
    if previous != provider.id:
        dual_approvals.request_approvals(
            by=by, operation_id=operation.id, organisation_id=provider.id
        )


def decline_need(operation: Operation, *, reason: str, by: User, org: Organisation) -> None:
    """Outside any lot, the Région declines the need, with a reason."""
    if org.kind != OrgKind.REGION:
        raise RuleError(_("Seule la Région décide des besoins hors marché."))
    lock(operation)
    if operation.funding != Funding.PENDING:
        raise RuleError(_("Ce besoin n'attend pas de décision hors marché."))
    if not reason.strip():
        raise RuleError(_("Indiquez le motif de la décision."), "reason")
    operation.funding = Funding.DECLINED
    operation.decline_reason = reason.strip()
    log_event(operation, "declined", by=by, org=org, reason=reason.strip())
    _tell_carrier(
        operation,
        _(
            "La Région n'a pas retenu le besoin « %(title)s » : %(reason)s",
            title=operation.title,
            reason=reason.strip(),
        ),
        kind="declined",
    )


OPERATION_FIELDS = (
    "title",
    "trades",
    "session_start",
    "session_end",
    "target_headcount",
    "hours_centre",
    "hours_company",
    "certification_code",
    "certification_title",
    "context",
    "desired_start",
)


def update_operation(operation: Operation, data: dict, *, by: User, org: Organisation) -> None:
    """Edit the operation's details (organisme porteur or Région)."""
    if not operation.is_open:
        raise RuleError(_("Cette opération est close : elle ne peut plus être modifiée."))
    changed = {}
    for name in OPERATION_FIELDS:
        if name in data and getattr(operation, name) != data[name]:
            changed[name] = str(data[name]) if data[name] is not None else None
            setattr(operation, name, data[name])
    if changed:
        log_event(operation, "updated", by=by, org=org, fields=sorted(changed))


ROLE_KINDS = {
    ParticipantRole.EMPLOYER: {OrgKind.EMPLOYER},
    ParticipantRole.PARTNER_ORIENTATION: {OrgKind.PARTNER},
    ParticipantRole.PARTNER_EMPLOYMENT: {OrgKind.PARTNER},
    ParticipantRole.OPCO: {OrgKind.PARTNER},
    ParticipantRole.OTHER: {OrgKind.PARTNER, OrgKind.EMPLOYER},
}


def _check_can_change_participants(operation: Operation) -> None:
    """Parties change while the operation is open; after signature, through an amendment."""
    if not operation.is_open:
        raise RuleError(_("L'opération est close : ses participants ne changent plus."))


def add_participant(
    operation: Operation,
    organisation: Organisation,
    role: ParticipantRole,
    *,
    by: User,
    org: Organisation,
) -> Participant:
    """Invite an existing organisation to the operation with a role (once a convention
    version is in force, it joins the convention with the next amendment). A member of it
    who belongs to another party already needs the Région's approval (issue #11 M6)."""
    dual_approvals.lock_parties(operation, [organisation])
    _check_can_change_participants(operation)
    if role not in ROLE_KINDS or organisation.kind not in ROLE_KINDS[role]:
        raise RuleError(
            _(
                "%(org)s (%(kind)s) ne peut pas avoir le rôle « %(role)s ».",
                org=organisation.name,
                kind=organisation.kind.title,
                role=role.title,
            ),
            "role",
        )
    if any(p.organisation_id == organisation.id for p in operation.active_participants()):
        raise RuleError(_("%(org)s participe déjà à l'opération.", org=organisation.name))
    participant = _add_participant(operation, organisation, role, by=by)
    db.session.flush()
    log_event(
        operation,
        "participant_added",
        by=by,
        org=org,
        participant=organisation.name,
        role=role.value,
    )
    notify(
        organisation_members(organisation.id, admins_only=True),
        kind="participant_added",
        operation=operation,
        message=_(
            "%(org)s vous associe à l'opération DEFI « %(title)s » (%(role)s).",
            org=org.name,
            title=operation.title,
            role=role.title,
        )
        + (
            " "
            + _(
                "La convention est en vigueur : vous y entrerez par l'avenant qui vous "
                "ajoute, une fois signé par les parties et validé par la Région."
            )
            if participant.is_joining
            else ""
        ),
        endpoint="operations.show_operation",
        operation_id=operation.id,
        email_subject=_("Opération DEFI : %(title)s", title=operation.title),
    )
    _tell_region_of_participant(operation, organisation, role, by=by, org=org)
    dual_approvals.request_approvals(
        by=by, operation_id=operation.id, organisation_id=organisation.id
    )
    return participant


def _tell_region_of_participant(operation, organisation, role, *, by: User, org: Organisation):
    """An employer or partner mobilised after the need was reported: the Région is told."""
    tell_region(
        operation.territory,
        kind="participant_added_later",
        by=by,
        operation=operation,
        message=_(
            "%(org)s associe %(participant)s à l'opération « %(title)s » (%(role)s).",
            org=org.name,
            participant=organisation.name,
            title=operation.title,
            role=role.title,
        )
        + (
            " " + _("Elle entrera dans la convention par un avenant.")
            if pending.amending(operation)
            else ""
        ),
        endpoint="operations.show_operation",
        operation_id=operation.id,
        email_subject=_(
            "Opération DEFI « %(title)s » : %(participant)s associé·e",
            title=operation.title,
            participant=organisation.name,
        ),
    )


def enlist_prescriber(
    operation: Operation, organisation: Organisation, *, by: User, org: Organisation
) -> Participant:
    """Make the prescriber of a trainee a participant (orientation partner) if it is not.

    A prescriber reads its trainees' records, so it must take part in the operation;
    joining while recruiting changes the convention's parties, so the Région is told. The
    caller locks the operation and the organisation first (``lock_parties``, before its
    first audit record): a member of two parties needs the Région's approval (M6).
    """
    if organisation.kind != OrgKind.PARTNER:
        raise RuleError(
            _("Le prescripteur doit être une organisation partenaire."), "prescriber_id"
        )
    found = next(
        (p for p in operation.active_participants() if p.organisation_id == organisation.id),
        None,
    )
    if found is not None:
        return found
    participant = _add_participant(
        operation, organisation, ParticipantRole.PARTNER_ORIENTATION, by=by
    )
    db.session.flush()
    log_event(
        operation,
        "participant_added",
        by=by,
        org=org,
        participant=organisation.name,
        role=ParticipantRole.PARTNER_ORIENTATION.value,
    )
    message = _(
        "%(org)s associe %(partner)s à l'opération DEFI « %(title)s » comme prescripteur "
        "de stagiaires.",
        org=org.name,
        partner=organisation.name,
        title=operation.title,
    )
    notify(
        organisation_members(organisation.id, admins_only=True),
        kind="participant_added",
        operation=operation,
        message=message,
        endpoint="operations.show_operation",
        operation_id=operation.id,
        email_subject=_("Opération DEFI : %(title)s", title=operation.title),
    )
    _tell_region_of_participant(
        operation, organisation, ParticipantRole.PARTNER_ORIENTATION, by=by, org=org
    )
    dual_approvals.request_approvals(
        by=by, operation_id=operation.id, organisation_id=organisation.id
    )
    return participant


def invite_new_organisation(
    operation: Operation,
    name: str,
    email: str,
    role: ParticipantRole,
    *,
    by: User,
    org: Organisation,
    siret: str = "",
    later: bool = True,
) -> Participant:
    """Create a not-yet-registered organisation, invite its first admin, add it to the operation.

    An employer needs a valid SIRET, which the Région checks before it may sign.
    ``later``: added after the need was reported, so the Région is told (the report's own
    notice names the employers it brings).
    """
    lock(operation)
    _check_can_change_participants(operation)
    kind = OrgKind.EMPLOYER if role == ParticipantRole.EMPLOYER else OrgKind.PARTNER
    existing = db.session.scalar(
        select(Organisation).where(Organisation.name == name.strip(), Organisation.kind == kind)
    )
    if existing is not None:
        raise RuleError(
            _(
                "%(org)s existe déjà dans le portail : choisissez-la dans la liste.",
                org=existing.name,
            ),
            "name",
        )
    siret = normalize_siret(siret)
    if kind == OrgKind.EMPLOYER and not siret:
        raise RuleError(_("Indiquez le SIRET de l'entreprise : la Région le vérifie."), "siret")
    if siret and not siret_is_valid(siret):
        raise RuleError(_("Ce SIRET n'est pas valide (clé de contrôle incorrecte)."), "siret")
    same_siret = (
        db.session.scalar(select(Organisation).where(Organisation.siret == siret))
        if siret
        else None
    )
    if same_siret is not None:
        raise RuleError(
            _(
                "%(org)s existe déjà dans le portail : choisissez-la dans la liste.",
                org=same_siret.name,
            ),
            "siret",
        )
    if accounts.normalize_email(email) == accounts.normalize_email(by.email):
        raise RuleError(
            _(
                "Invitez la personne responsable de l'organisation : celui ou celle qui "
                "l'invite n'en devient jamais membre."
            ),
            "email",
        )
    # « À vérifier » until the Région confirms it: it may state its needs, not sign.
    organisation = Organisation(
        kind=kind, name=name.strip(), territory=operation.territory, siret=siret or None
    )
    if kind == OrgKind.PARTNER:
        organisation.partner_type = (
            PartnerType.ORIENTATION
            if role == ParticipantRole.PARTNER_ORIENTATION
            else PartnerType.EMPLOYMENT
        )
    db.session.add(organisation)
    db.session.flush()
    # After the insert: the column's default (verified) applies to a None given before it.
    organisation.verified_at = None
    record(
        "organisation.created",
        actor=by,
        organisation=organisation,
        obj=organisation,
        name=organisation.name,
        via_operation=operation.id,
    )
    invitations.invite(email, organisation, by=by, is_admin=True)
    notify(
        region_admins(),
        kind="organisation_to_verify",
        message=_(
            "%(org)s a invité « %(name)s » (%(kind)s) dans l'opération « %(title)s » : "
            "vérifiez cette organisation pour qu'elle puisse signer.",
            org=org.name,
            name=organisation.name,
            kind=kind.title,
            title=operation.title,
        ),
        endpoint="admin.list_organisations",
        email_subject=_("Organisation à vérifier : %(name)s", name=organisation.name),
    )
    participant = _add_participant(operation, organisation, role, by=by)
    db.session.flush()
    log_event(
        operation,
        "participant_invited",
        by=by,
        org=org,
        participant=organisation.name,
        role=role.value,
        email=accounts.normalize_email(email),
    )
    if later:
        _tell_region_of_participant(operation, organisation, role, by=by, org=org)
    return participant


def withdraw_participant(
    participant: Participant, *, reason: str, by: User, org: Organisation
) -> None:
    """Withdraw a participant (kept in the history). Once a convention version is in
    force, a party of it leaves with the next amendment (``pending.request_withdrawal``);
    one that was joining with it leaves at once."""
    operation = lock(participant.operation)
    _check_can_change_participants(operation)
    if participant.by_right:
        raise RuleError(_("La Région et l'organisme porteur participent de droit."))
    if participant.withdrawn_at is not None:
        raise RuleError(_("Ce participant est déjà retiré."))
    leaving = pending.amending(operation) and not participant.is_joining
    if leaving:
        pending.request_withdrawal(participant, reason, by=by, org=org)
    else:
        participant.pending_change = None
        participant.withdrawn_at = utcnow()
        participant.withdrawn_by_id = by.id
        participant.withdrawal_reason = reason.strip()
        log_event(
            operation,
            "participant_withdrawn",
            by=by,
            org=org,
            participant=participant.organisation.name,
            reason=reason.strip(),
        )
    message = _(
        "%(org)s retire %(participant)s de l'opération « %(title)s » : %(reason)s",
        org=org.name,
        participant=participant.organisation.name,
        title=operation.title,
        reason=reason.strip() or _("motif non précisé"),
    )
    if leaving:
        message += " " + _(
            "Le retrait prendra effet avec l'avenant qui le porte, une fois validé par la Région."
        )
    tell_region(
        operation.territory,
        kind="participant_withdrawn",
        by=by,
        operation=operation,
        message=message,
        endpoint="operations.show_operation",
        operation_id=operation.id,
        email_subject=_(
            "Opération DEFI « %(title)s » : retrait %(of_participant)s",
            title=operation.title,
            of_participant=french.de(participant.organisation.name),
        ),
    )
