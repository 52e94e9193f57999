"""The Région's decisions on a version (validate, reject) and voiding a version.

The Région validates last, once every party signed; it may reject an open version with
its reason (back to drafting). Voiding closes an open version when a new one replaces it
or the operation is cancelled; its signatures stay in history, marked annulée.
"""

from flask_babel import gettext as _

from portal.accounts.models import Organisation, OrgKind, User
from portal.audit.services import record
from portal.conventions import amendments
from portal.conventions.models import Convention, ConventionVersion, VersionStatus
from portal.conventions.state import (
    convention_for,
    in_force,
    open_version,
    party_ids,
    snapshot_of,
    valid_signatures,
)
from portal.core.errors import RuleError
from portal.core.locking import lock
from portal.core.time import utcnow
from portal.extensions import db
from portal.notifications.services import notify
from portal.operations import dual_memberships
from portal.operations.events import log_event
from portal.operations.models import Operation


def record_version(action: str, version: ConventionVersion, *, by, org, **detail) -> None:
    """Audit an event of a version: its number and hash always go with it."""
    record(
        action,
        actor=by,
        organisation=org,
        obj=version,
        number=version.number,
        sha256=version.sha256,
        **detail,
    )


def void_version(version: ConventionVersion, reason: str, *, by: User | None, org=None) -> None:
    """Close an open version: it and its signatures stay in history, marked annulée.

    The caller holds the convention's lock; the version's waits for a signature under way.
    """
    lock(version)
    now = utcnow()
    version.status = VersionStatus.VOIDED
    version.voided_at = now
    version.void_reason = reason
    for signature in valid_signatures(version):
        signature.voided_at = now
        signature.void_reason = reason
    db.session.flush()
    record_version(
        "convention.version_voided",
        version,
        by=by,
        org=org,
        reason=reason,
    )


def _parties_users(convention: Convention) -> list[User]:
    return [s.user for s in convention.signers]


def _lock_decision(version: ConventionVersion) -> None:
    """Decisions on a convention happen one at a time, on its latest state: the operation
    (against a party or a promise changed meanwhile), the convention (against a new
    submission or another decision), then the version (a signature)."""
    convention = version.convention
    lock(convention.operation)
    lock(convention)
    lock(version)


def validate(version: ConventionVersion, *, by: User, org: Organisation, comment: str = "") -> None:
    """The Région validates a fully signed version; an earlier one in force is superseded,
    and what the version says is in force from now on (``amendments.put_in_force``)."""
    if org.kind != OrgKind.REGION:
        raise RuleError(_("Seule la Région valide la convention."))
    # The design first: a save holds its section and the design, then inserts its event,
    # whose foreign-key check waits for an operation locked FOR UPDATE (PostgreSQL).
    design = amendments.lock_design(version.convention.operation)
    _lock_decision(version)
    if version.status != VersionStatus.SIGNED:
        raise RuleError(
            _(
                "La Région valide une version signée par toutes les parties (ici : %(s)s).",
                s=version.status.title,
            )
        )
    convention = version.convention
    cumuls = dual_memberships.blocking_problems(
        convention.operation, party_ids(snapshot_of(version))
    )
    if cumuls:  # decide them first (issue #11 M6)
        raise RuleError(" ".join(cumuls))
    previous = in_force(convention)
    now = utcnow()
    version.status = VersionStatus.VALIDATED
    version.validated_at = now
    version.validated_by_id = by.id
    if previous is not None:
        previous.status = VersionStatus.SUPERSEDED
        previous.superseded_at = now
    db.session.flush()
    record_version(
        "convention.validated",
        version,
        by=by,
        org=org,
        comment=comment,
    )
    operation = convention.operation
    log_event(operation, "convention_validated", by=by, org=org, number=version.number)
    amendments.put_in_force(version, design, by=by, org=org)
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
    _lock_decision(version)
    if not version.status.is_open:
        raise RuleError(_("Seule une version en cours de signature peut être rejetée."))
    version.status = VersionStatus.REJECTED
    version.rejected_at = utcnow()
    version.rejected_by_id = by.id
    version.reject_reason = reason
    db.session.flush()
    record_version(
        "convention.rejected",
        version,
        by=by,
        org=org,
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
    lock(convention)
    current = open_version(convention)
    if current is not None:
        void_version(current, _("Opération annulée."), by=by, org=org)


def recruitment_problems(operation: Operation) -> list[str]:
    """The guard convention → recruitment: a version validated by the Région."""
    convention = convention_for(operation)
    if convention is None or in_force(convention) is None:
        return [_("La convention de partenariat n'est pas encore validée par la Région.")]
    return []
