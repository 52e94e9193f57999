"""Submitting the convention: what must hold, freezing a version, asking for signatures.

- submitting freezes a version (canonical text + SHA-256), immutable from then on;
- submitting again voids the open version and its signatures (kept, marked annulée);
- after validation, a new version is an amendment (avenant): the Région is told at once,
  with what it changes; the validated version stays in force until the amendment is
  validated (``amendments.py`` then applies it).
"""

from flask_babel import gettext as _
from sqlalchemy import select, tuple_

from portal.accounts.models import Membership, Organisation, User
from portal.audit.services import record
from portal.conventions.decisions import void_version
from portal.conventions.diffs import part_titles
from portal.conventions.models import Convention, ConventionVersion, VersionStatus
from portal.conventions.snapshot import canonical, changed_parts, digest
from portal.conventions.state import (
    current_snapshot,
    in_force,
    open_version,
    party_ids,
    signer_for,
    signing_parties,
    snapshot_of,
    valid_signatures,
)
from portal.core.errors import RuleError
from portal.core.locking import lock
from portal.core.time import utcnow
from portal.design.services import design_for, is_filled
from portal.extensions import db
from portal.notifications.services import notify
from portal.operations import dual_memberships
from portal.operations.events import log_event, tell_region
from portal.operations.models import AMENDMENT_STEPS, DRAFTING_STEPS


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
    unmet.extend(dual_memberships.blocking_problems(operation, party_ids(snapshot)))
    # One query for every designated signer's membership, whatever the number of parties.
    active = (
        set(
            db.session.execute(
                select(Membership.user_id, Membership.organisation_id).where(
                    Membership.active.is_(True),
                    tuple_(Membership.user_id, Membership.organisation_id).in_(
                        [(s.user_id, s.organisation_id) for s in convention.signers]
                    ),
                )
            ).all()
        )
        if convention.signers
        else set()
    )
    missing, unconfirmed, signers = [], [], set()
    for party in parties:
        designation = signer_for(convention, party["organisation_id"])
        if designation is None or (designation.user_id, party["organisation_id"]) not in active:
            missing.append(party["name"])
        elif not designation.is_confirmed or designation.user_id in signers:
            unconfirmed.append(party["name"])
        if designation is not None:
            signers.add(designation.user_id)
    if missing:
        unmet.append(_("Signataire à désigner pour : %(list)s.", list=", ".join(missing)))
    if unconfirmed:
        unmet.append(
            _(
                "Signataire à confirmer par les administrateurs de : %(list)s.",
                list=", ".join(unconfirmed),
            )
        )
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


def submit(convention: Convention, *, by: User, org: Organisation) -> ConventionVersion:
    """Freeze what the convention says now as a new version and ask for signatures.

    Two submissions at once give one version: the second waits for the first, then finds
    nothing changed since it and is refused in French.
    """
    lock(convention.operation)
    lock(convention)
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
    if version.is_amendment:
        changed = part_titles(changed_parts(snapshot_of(in_force(convention)), snapshot))
        tell_region(
            operation.territory,
            kind="amendment_submitted",
            by=by,
            operation=operation,
            message=_(
                "%(org)s soumet un avenant à la convention « %(title)s » (version %(n)s) aux "
                "signatures ; la Région le validera en dernier. Il modifie : %(parts)s.",
                org=org.name,
                title=operation.title,
                n=number,
                parts=", ".join(changed).lower(),
            ),
            endpoint="conventions.show_version",
            operation_id=operation.id,
            number=number,
            email_subject=_("Avenant soumis : %(title)s", title=operation.title),
        )
    return version
