"""Opening and signing a frozen version: consent, re-authentication evidence, races.

A simple electronic signature must identify the signer, show their consent and stay
linked to an unaltered document (Code civil 1366-1367): the signature keeps the version's
hash, the exact consent text, the signer, capacity, time, IP, user agent and how they
re-authenticated. One signature per organisation per version, enforced by the database.
"""

from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import Organisation, User
from portal.conventions.decisions import record_version
from portal.conventions.models import (
    Convention,
    ConventionVersion,
    Signature,
    VersionReading,
    VersionStatus,
)
from portal.conventions.state import (
    is_active_member,
    latest_version,
    party_ids,
    signer_for,
    signing_parties,
    snapshot_of,
    versions,
)
from portal.core.errors import RuleError
from portal.core.french import de
from portal.core.locking import lock
from portal.core.time import utcnow
from portal.extensions import db
from portal.operations import dual_memberships
from portal.operations.events import log_event, tell_region

AUTH_PASSWORD = "password"  # noqa: S105 - the name of a method, not a secret
AUTH_PASSWORD_TOTP = "password+totp"  # noqa: S105 - with the second factor's code too


class AlreadySigned(RuleError):
    """The organisation already signed this version (a double click or a race)."""


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
    record_version(
        "convention.opened",
        version,
        by=user,
        org=org,
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
            "électroniquement au nom %(of_org)s, en qualité %(of_capacity)s, et je reconnais "
            "que cette signature m'engage.",
            n=version.number,
            ref=version.convention.reference,
            hash=version.sha256,
            of_org=de(organisation.name),
            of_capacity=de(capacity),
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
    snapshot = snapshot_of(version)
    if organisation.id not in {p["organisation_id"] for p in signing_parties(snapshot)}:
        return [_("%(org)s n'est pas signataire de cette convention.", org=organisation.name)]
    if not organisation.is_verified:
        return [
            _(
                "%(org)s est à vérifier par la Région : elle signe une fois confirmée.",
                org=organisation.name,
            )
        ]
    designation = signer_for(convention, organisation.id)
    if designation is None or designation.user_id != user.id:
        return [_("Vous n'êtes pas le signataire désigné pour %(org)s.", org=organisation.name)]
    if not designation.is_confirmed:
        return [
            _(
                "Votre désignation attend la confirmation des administrateurs %(of_org)s.",
                of_org=de(organisation.name),
            )
        ]
    if not is_active_member(user.id, organisation.id):
        return [_("Vous n'êtes plus membre %(of_org)s.", of_org=de(organisation.name))]
    cumul = dual_memberships.signer_problem(convention.operation, user, among=party_ids(snapshot))
    if cumul is not None:  # a member of two parties, not approved by the Région (M6)
        return [cumul]
    # A query, not ``version.signatures``: loading that collection here would leave it
    # stale once this signature is inserted by id.
    signed_elsewhere = db.session.scalar(
        select(func.count(Signature.id)).where(
            Signature.version_id == version.id,
            Signature.user_id == user.id,
            Signature.organisation_id != organisation.id,
            Signature.voided_at.is_(None),
        )
    )
    if signed_elsewhere:
        return [_("Vous avez déjà signé cette version pour une autre partie.")]
    return []


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
    # Concurrent signers (and a new submission, a decision) update the status in turn.
    lock(version)
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
    record_version(
        "convention.signed",
        version,
        by=user,
        org=organisation,
        signature=signature.id,
        capacity=signature.capacity,
        auth_method=evidence.auth_method,
    )
    operation = version.convention.operation
    log_event(operation, "convention_signed", by=user, org=organisation, number=version.number)
    if version.status == VersionStatus.SIGNED:
        tell_region(
            operation.territory,
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
