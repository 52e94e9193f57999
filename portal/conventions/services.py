"""The business verbs of the convention: draft, designate, submit, sign, validate, reject.

Rules (from the issue and DOMAIN.md):
- the organisme porteur and the Région draft the clauses; every other participant
  signs, the Région validates last;
- submitting freezes a version (canonical text + SHA-256), immutable from then on;
- submitting again voids the open version and its signatures (kept, marked annulée);
- one signature per organisation per version, enforced by the database;
- after validation, a new version is an amendment; the validated version stays in
  force until the amendment is validated.
"""

import json
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import Membership, Organisation, OrgKind, User
from portal.audit.services import record
from portal.conventions import clauses
from portal.conventions.models import (
    Convention,
    ConventionVersion,
    DesignatedSigner,
    Signature,
    VersionReading,
    VersionStatus,
)
from portal.conventions.snapshot import build_snapshot, canonical, changed_parts, digest
from portal.core.errors import RuleError
from portal.core.time import utcnow
from portal.design.models import DesignSection, SectionKey, SectionRevision
from portal.design.services import design_for, is_filled
from portal.extensions import db
from portal.notifications.services import notify
from portal.operations.models import Operation, Status
from portal.operations.services import log_event

# Steps where the convention can be drafted and (re)submitted: first signature, then
# amendments while the operation runs.
DRAFTING_STEPS = (Status.CONVENTION,)
AMENDMENT_STEPS = (Status.RECRUITMENT, Status.TRAINING, Status.FOLLOW_UP)

AUTH_PASSWORD = "password"  # noqa: S105 - the name of a method, not a secret


class AlreadySigned(RuleError):
    """The organisation already signed this version (a double click or a race)."""


def convention_for(operation: Operation) -> Convention | None:
    return db.session.scalar(select(Convention).where(Convention.operation_id == operation.id))


def reference_for(operation: Operation) -> str:
    """A stable, human reference: DEFI-<year reported>-<operation id on 4 digits>."""
    return f"DEFI-{operation.reported_at.year}-{operation.id:04d}"


def start_convention(operation: Operation, *, by: User, org: Organisation) -> Convention:
    """Create the convention and its clauses, prefilled from the operation (idempotent)."""
    existing = convention_for(operation)
    if existing is not None:
        return existing
    if operation.status not in DRAFTING_STEPS:
        raise RuleError(_("La convention se rédige quand l'opération est à l'étape convention."))
    design = design_for(operation)
    if design is None:
        raise RuleError(_("La co-conception de la formation doit exister avant la convention."))
    convention = Convention(
        operation_id=operation.id, reference=reference_for(operation), created_by_id=by.id
    )
    db.session.add(convention)
    with force_locale("fr"):
        texts = clauses.default_texts(operation)
    for key in SectionKey.clause_keys():
        content = {"text": texts[key]}
        section = DesignSection(
            design=design,
            key=key,
            version=1,
            content=content,
            updated_by_id=by.id,
            updated_org_id=org.id,
        )
        db.session.add(section)
        db.session.flush()
        db.session.add(
            SectionRevision(
                section=section,
                version=1,
                base_version=0,
                kind="prefill",
                content=content,
                author_id=by.id,
                organisation_id=org.id,
            )
        )
    db.session.flush()
    db.session.expire(design, ["clauses"])
    log_event(operation, "convention_started", by=by, org=org, reference=convention.reference)
    return convention


# ---- reading the state -------------------------------------------------------------


def versions(convention: Convention) -> list[ConventionVersion]:
    return sorted(convention.versions, key=lambda v: v.number)


def latest_version(convention: Convention) -> ConventionVersion | None:
    found = versions(convention)
    return found[-1] if found else None


def open_version(convention: Convention) -> ConventionVersion | None:
    """The version collecting signatures or awaiting the Région, if any (at most one)."""
    return next((v for v in reversed(versions(convention)) if v.status.is_open), None)


def in_force(convention: Convention) -> ConventionVersion | None:
    """The validated version currently in force."""
    return next(
        (v for v in reversed(versions(convention)) if v.status == VersionStatus.VALIDATED), None
    )


def state(convention: Convention | None) -> VersionStatus:
    """The convention's state: brouillon, à signer, … validée, annulée."""
    if convention is None:
        return VersionStatus.DRAFT
    if convention.operation.status == Status.CANCELLED:
        return VersionStatus.VOIDED
    current = open_version(convention)
    if current is not None:
        return current.status
    if in_force(convention) is not None:
        return VersionStatus.VALIDATED
    return VersionStatus.DRAFT


def snapshot_of(version: ConventionVersion) -> dict:
    return json.loads(version.canonical)


def current_snapshot(convention: Convention) -> dict:
    """What the convention says now (clauses, parties, promises, design)."""
    base = in_force(convention)
    return build_snapshot(
        convention.operation, convention.reference, base.number if base is not None else None
    )


def changes_since(convention: Convention, version: ConventionVersion) -> list[str]:
    """The parts changed since ``version`` was frozen: operation, parties, promises, …"""
    return changed_parts(snapshot_of(version), current_snapshot(convention))


def signing_parties(snapshot: dict) -> list[dict]:
    """The parties that sign (every participant but the Région, which validates)."""
    return [p for p in snapshot["parties"] if p["signs"]]


def valid_signatures(version: ConventionVersion) -> list[Signature]:
    return [s for s in version.signatures if s.is_valid]


def pending_parties(version: ConventionVersion) -> list[dict]:
    signed = {s.organisation_id for s in valid_signatures(version)}
    return [p for p in signing_parties(snapshot_of(version)) if p["organisation_id"] not in signed]


def signer_for(convention: Convention, organisation_id: int) -> DesignatedSigner | None:
    return next((s for s in convention.signers if s.organisation_id == organisation_id), None)


def _is_active_member(user_id: int, organisation_id: int) -> bool:
    return (
        db.session.scalar(
            select(func.count(Membership.id)).where(
                Membership.user_id == user_id,
                Membership.organisation_id == organisation_id,
                Membership.active.is_(True),
            )
        )
        > 0
    )


# ---- designating signers ------------------------------------------------------------


def designate_signer(
    convention: Convention,
    organisation: Organisation,
    user: User,
    capacity: str,
    *,
    by: User,
    by_org: Organisation,
) -> DesignatedSigner:
    """Say who signs for ``organisation`` and in which capacity (« gérant », …)."""
    capacity = capacity.strip()
    if not capacity:
        raise RuleError(_("Indiquez la qualité du signataire (gérant, directrice…)."), "capacity")
    parties = {p["organisation_id"] for p in signing_parties(current_snapshot(convention))}
    if organisation.id not in parties:
        raise RuleError(_("Cette organisation ne signe pas la convention."))
    if not user.is_enabled or not _is_active_member(user.id, organisation.id):
        raise RuleError(
            _("Le signataire doit être membre actif de %(org)s.", org=organisation.name), "user_id"
        )
    current = open_version(convention)
    if current is not None and any(
        s.organisation_id == organisation.id for s in valid_signatures(current)
    ):
        raise RuleError(
            _(
                "%(org)s a déjà signé la version en cours : son signataire ne change plus.",
                org=organisation.name,
            )
        )
    designation = signer_for(convention, organisation.id)
    if designation is None:
        designation = DesignatedSigner(convention=convention, organisation_id=organisation.id)
        db.session.add(designation)
    designation.user_id = user.id
    designation.capacity = capacity
    designation.designated_at = utcnow()
    designation.designated_by_id = by.id
    db.session.flush()
    record(
        "convention.signer_designated",
        actor=by,
        organisation=by_org,
        obj=convention,
        party=organisation.id,
        signer=user.id,
        capacity=capacity,
    )
    return designation


# ---- submitting ---------------------------------------------------------------------


def submission_problems(convention: Convention) -> list[str]:
    """Why the convention cannot be submitted for signature now (French, empty if it can)."""
    operation = convention.operation
    unmet = []
    if operation.status not in DRAFTING_STEPS + AMENDMENT_STEPS:
        unmet.append(_("L'opération n'est pas à une étape où la convention peut être signée."))
        return unmet
    if operation.status in AMENDMENT_STEPS and in_force(convention) is None:
        unmet.append(_("Aucune convention validée : un avenant n'a pas de sens ici."))
    design = design_for(operation)
    empty = [s.key.title for s in (design.clauses if design else []) if not is_filled(s)]
    if empty:
        unmet.append(_("Articles à rédiger : %(list)s.", list=", ".join(empty)))
    snapshot = current_snapshot(convention)
    parties = signing_parties(snapshot)
    if not any(p["role"] == "provider" for p in parties):
        unmet.append(_("L'organisme de formation porteur doit être partie à la convention."))
    if not any(p["role"] == "employer" for p in parties):
        unmet.append(_("Au moins un employeur doit s'engager dans la convention."))
    if not snapshot["promises"]:
        unmet.append(_("Aucune promesse d'emploi n'est indiquée par les employeurs."))
    missing = []
    for party in parties:
        designation = signer_for(convention, party["organisation_id"])
        if designation is None or not _is_active_member(
            designation.user_id, party["organisation_id"]
        ):
            missing.append(party["name"])
    if missing:
        unmet.append(_("Signataire à désigner pour : %(list)s.", list=", ".join(missing)))
    current = open_version(convention)
    reference = current or in_force(convention)
    # Compared part by part: the hash also covers ``amends_version``, which differs
    # between a validated version and the amendment that would repeat it word for word.
    if reference is not None and not changed_parts(snapshot_of(reference), snapshot):
        unmet.append(
            _(
                "Rien n'a changé depuis la version %(n)s : aucune nouvelle version à soumettre.",
                n=reference.number,
            )
        )
    return unmet


def _signers_of(convention: Convention, version: ConventionVersion) -> list[User]:
    users = []
    for party in signing_parties(snapshot_of(version)):
        designation = signer_for(convention, party["organisation_id"])
        if designation is not None:
            users.append(designation.user)
    return users


def void_version(version: ConventionVersion, reason: str, *, by: User | None, org=None) -> None:
    """Close an open version: it and its signatures stay in history, marked annulée."""
    now = utcnow()
    version.status = VersionStatus.VOIDED
    version.voided_at = now
    version.void_reason = reason
    for signature in valid_signatures(version):
        signature.voided_at = now
        signature.void_reason = reason
    db.session.flush()
    record(
        "convention.version_voided",
        actor=by,
        organisation=org,
        obj=version,
        number=version.number,
        sha256=version.sha256,
        reason=reason,
    )


def submit(convention: Convention, *, by: User, org: Organisation) -> ConventionVersion:
    """Freeze what the convention says now as a new version and ask for signatures."""
    unmet = submission_problems(convention)
    if unmet:
        raise RuleError(" ".join(unmet))
    operation = convention.operation
    snapshot = current_snapshot(convention)
    text = canonical(snapshot)
    number = max((v.number for v in convention.versions), default=0) + 1
    previous = open_version(convention)
    if previous is not None:
        reason = _("Remplacée par la version %(n)s.", n=number)
        previous_signers = [s.user for s in valid_signatures(previous)]
        void_version(previous, reason, by=by, org=org)
    version = ConventionVersion(
        convention=convention,
        number=number,
        is_amendment=in_force(convention) is not None,
        canonical=text,
        sha256=digest(text),
        status=VersionStatus.TO_SIGN,
        submitted_at=utcnow(),
        submitted_by_id=by.id,
        submitted_org_id=org.id,
    )
    db.session.add(version)
    db.session.flush()
    record(
        "convention.submitted",
        actor=by,
        organisation=org,
        obj=version,
        number=number,
        sha256=version.sha256,
        amendment=version.is_amendment,
    )
    log_event(
        operation,
        "convention_submitted",
        by=by,
        org=org,
        number=number,
        amendment=version.is_amendment,
    )
    message = _(
        "La version %(n)s de la convention « %(title)s » est à signer.",
        n=number,
        title=operation.title,
    )
    told: set[int] = set()
    if previous is not None:
        message += " " + _(
            "Elle remplace la version %(old)s : les signatures déjà données sont annulées "
            "et doivent être renouvelées ; la page montre ce qui a changé.",
            old=previous.number,
        )
        notify(
            previous_signers,
            kind="convention_voided",
            message=message,
            endpoint="conventions.show_version",
            operation=operation,
            email_subject=_("Convention DEFI : nouvelle version à signer"),
            operation_id=operation.id,
            number=number,
        )
        # Those who signed the voided version just got that message: one e-mail each.
        told = {user.id for user in previous_signers}
    notify(
        [user for user in _signers_of(convention, version) if user.id not in told],
        kind="convention_to_sign",
        message=message,
        endpoint="conventions.show_version",
        operation=operation,
        email_subject=_("Convention DEFI à signer"),
        operation_id=operation.id,
        number=number,
    )
    return version


# ---- opening and signing ---------------------------------------------------------------


def mark_opened(version: ConventionVersion, *, user: User, org: Organisation | None) -> bool:
    """Record the first opening of a version by ``user`` (audit + reading); True if first."""
    seen = db.session.scalar(
        select(VersionReading.id).where(
            VersionReading.version_id == version.id, VersionReading.user_id == user.id
        )
    )
    if seen is not None:
        return False
    db.session.add(VersionReading(version_id=version.id, user_id=user.id))
    record(
        "convention.opened",
        actor=user,
        organisation=org,
        obj=version,
        number=version.number,
        sha256=version.sha256,
    )
    return True


def last_seen_version(
    convention: Convention, user: User, before: ConventionVersion
) -> ConventionVersion | None:
    """The latest earlier version this user opened or signed, to diff against."""
    earlier = [v for v in versions(convention) if v.number < before.number]
    if not earlier:
        return None
    ids = [v.id for v in earlier]
    opened = set(
        db.session.scalars(
            select(VersionReading.version_id).where(
                VersionReading.user_id == user.id, VersionReading.version_id.in_(ids)
            )
        )
    )
    signed = set(
        db.session.scalars(
            select(Signature.version_id).where(
                Signature.user_id == user.id, Signature.version_id.in_(ids)
            )
        )
    )
    seen = [v for v in earlier if v.id in opened | signed]
    return seen[-1] if seen else None


def consent_text(version: ConventionVersion, organisation: Organisation, capacity: str) -> str:
    """The exact consent the signer ticks; stored with the signature, always in French."""
    with force_locale("fr"):
        return _(
            "J'ai pris connaissance de la version %(n)s de la convention %(ref)s "
            "(empreinte SHA-256 %(hash)s) et j'en accepte les termes. Je la signe "
            "électroniquement au nom de %(org)s, en qualité de %(capacity)s, et je reconnais "
            "que cette signature m'engage.",
            n=version.number,
            ref=version.convention.reference,
            hash=version.sha256,
            org=organisation.name,
            capacity=capacity,
        )


@dataclass
class Evidence:
    """How the signer proved who they are, and from where."""

    ip: str
    user_agent: str
    auth_method: str = AUTH_PASSWORD


def signing_problems(
    version: ConventionVersion, user: User, organisation: Organisation
) -> list[str]:
    """Why ``user`` cannot sign ``version`` for ``organisation`` (French, empty if they can)."""
    convention = version.convention
    if version.status not in (VersionStatus.TO_SIGN, VersionStatus.PARTIALLY_SIGNED):
        return [
            _("Cette version n'est pas ouverte à la signature (%(s)s).", s=version.status.title)
        ]
    if latest_version(convention).id != version.id:
        return [_("Une version plus récente existe : signez la dernière version.")]
    if organisation.id not in {p["organisation_id"] for p in signing_parties(snapshot_of(version))}:
        return [_("%(org)s n'est pas signataire de cette convention.", org=organisation.name)]
    designation = signer_for(convention, organisation.id)
    if designation is None or designation.user_id != user.id:
        return [_("Vous n'êtes pas le signataire désigné pour %(org)s.", org=organisation.name)]
    if not _is_active_member(user.id, organisation.id):
        return [_("Vous n'êtes plus membre de %(org)s.", org=organisation.name)]
    return []


def _lock(version: ConventionVersion) -> ConventionVersion:
    """Lock the version row (PostgreSQL) so concurrent signers update its status in turn."""
    return db.session.scalars(
        select(ConventionVersion)
        .where(ConventionVersion.id == version.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def sign(
    version: ConventionVersion,
    *,
    user: User,
    organisation: Organisation,
    consent: str,
    evidence: Evidence,
) -> Signature:
    """Sign ``version`` for ``organisation``; the caller has re-authenticated ``user``.

    ``consent`` must be the exact text shown (see ``consent_text``). Signing twice, or
    racing another request, raises ``AlreadySigned`` and changes nothing; in that case
    the transaction was rolled back (the failed insert leaves nothing to keep).
    """
    version = _lock(version)
    problems = signing_problems(version, user, organisation)
    already = db.session.scalar(
        select(Signature).where(
            Signature.version_id == version.id, Signature.organisation_id == organisation.id
        )
    )
    if already is not None:
        raise AlreadySigned(_("%(org)s a déjà signé cette version.", org=organisation.name))
    if problems:
        raise RuleError(" ".join(problems))
    designation = signer_for(version.convention, organisation.id)
    expected = consent_text(version, organisation, designation.capacity)
    if consent != expected:
        raise RuleError(_("Cochez la case de consentement pour signer."), "consent")
    signature = Signature(
        version_id=version.id,
        version_sha256=version.sha256,
        organisation_id=organisation.id,
        user_id=user.id,
        capacity=designation.capacity,
        consent_text=expected,
        signed_at=utcnow(),
        ip=evidence.ip[:45],
        user_agent=evidence.user_agent[:300],
        auth_method=evidence.auth_method,
    )
    db.session.add(signature)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise AlreadySigned(
            _("%(org)s a déjà signé cette version.", org=organisation.name)
        ) from None
    signed = db.session.scalar(
        select(func.count(Signature.id)).where(
            Signature.version_id == version.id, Signature.voided_at.is_(None)
        )
    )
    everyone = len(signing_parties(snapshot_of(version)))
    version.status = VersionStatus.SIGNED if signed >= everyone else VersionStatus.PARTIALLY_SIGNED
    record(
        "convention.signed",
        actor=user,
        organisation=organisation,
        obj=version,
        number=version.number,
        sha256=version.sha256,
        signature=signature.id,
        capacity=signature.capacity,
        auth_method=evidence.auth_method,
    )
    operation = version.convention.operation
    log_event(operation, "convention_signed", by=user, org=organisation, number=version.number)
    if version.status == VersionStatus.SIGNED:
        from portal.operations.services import referents_for

        notify(
            referents_for(operation.territory),
            kind="convention_signed",
            message=_(
                "Toutes les parties ont signé la version %(n)s de la convention « %(title)s » : "
                "elle attend la validation de la Région.",
                n=version.number,
                title=operation.title,
            ),
            endpoint="conventions.show_version",
            operation=operation,
            email_subject=_("Convention DEFI signée : validation attendue"),
            operation_id=operation.id,
            number=version.number,
        )
    return signature


# ---- the Région's decision ------------------------------------------------------------------


def _parties_users(convention: Convention) -> list[User]:
    return [s.user for s in convention.signers]


def validate(version: ConventionVersion, *, by: User, org: Organisation, comment: str = "") -> None:
    """The Région validates a fully signed version; an earlier one in force is superseded."""
    if org.kind != OrgKind.REGION:
        raise RuleError(_("Seule la Région valide la convention."))
    if version.status != VersionStatus.SIGNED:
        raise RuleError(
            _(
                "La Région valide une version signée par toutes les parties (ici : %(s)s).",
                s=version.status.title,
            )
        )
    convention = version.convention
    previous = in_force(convention)
    now = utcnow()
    version.status = VersionStatus.VALIDATED
    version.validated_at = now
    version.validated_by_id = by.id
    if previous is not None:
        previous.status = VersionStatus.SUPERSEDED
        previous.superseded_at = now
    db.session.flush()
    record(
        "convention.validated",
        actor=by,
        organisation=org,
        obj=version,
        number=version.number,
        sha256=version.sha256,
        comment=comment,
    )
    operation = convention.operation
    log_event(operation, "convention_validated", by=by, org=org, number=version.number)
    notify(
        _parties_users(convention),
        kind="convention_validated",
        message=_(
            "La Région a validé la version %(n)s de la convention « %(title)s ».",
            n=version.number,
            title=operation.title,
        ),
        endpoint="conventions.show_version",
        operation=operation,
        email_subject=_("Convention DEFI validée par la Région"),
        operation_id=operation.id,
        number=version.number,
    )


def reject(version: ConventionVersion, *, by: User, org: Organisation, reason: str) -> None:
    """The Région sends an open version back to drafting, with its reason."""
    if org.kind != OrgKind.REGION:
        raise RuleError(_("Seule la Région rejette la convention."))
    reason = reason.strip()
    if not reason:
        raise RuleError(_("Indiquez le motif du rejet."), "reason")
    if not version.status.is_open:
        raise RuleError(_("Seule une version en cours de signature peut être rejetée."))
    version.status = VersionStatus.REJECTED
    version.rejected_at = utcnow()
    version.rejected_by_id = by.id
    version.reject_reason = reason
    db.session.flush()
    record(
        "convention.rejected",
        actor=by,
        organisation=org,
        obj=version,
        number=version.number,
        sha256=version.sha256,
        reason=reason,
    )
    operation = version.convention.operation
    log_event(
        operation, "convention_rejected", by=by, org=org, number=version.number, reason=reason
    )
    notify(
        _parties_users(version.convention),
        kind="convention_rejected",
        message=_(
            "La Région a rejeté la version %(n)s de la convention « %(title)s » : %(reason)s",
            n=version.number,
            title=operation.title,
            reason=reason,
        ),
        endpoint="conventions.show_convention",
        operation=operation,
        email_subject=_("Convention DEFI rejetée par la Région"),
        operation_id=operation.id,
    )


def void_for_cancellation(operation: Operation, *, by: User, org: Organisation) -> None:
    """The operation is cancelled: an open version is voided with that reason."""
    convention = convention_for(operation)
    if convention is None:
        return
    current = open_version(convention)
    if current is not None:
        void_version(current, _("Opération annulée."), by=by, org=org)


def recruitment_problems(operation: Operation) -> list[str]:
    """The guard convention → recruitment: a version validated by the Région."""
    convention = convention_for(operation)
    if convention is None or in_force(convention) is None:
        return [_("La convention de partenariat n'est pas encore validée par la Région.")]
    return []
