"""The convention's verbs: start, designate signers — and the area's facade.

Rules (from the issue and DOMAIN.md):
- the organisme porteur and the Région draft the clauses; every other participant
  signs, the Région validates last;
- submitting freezes a version (canonical text + SHA-256), immutable from then on;
- submitting again voids the open version and its signatures (kept, marked annulée);
- one signature per organisation per version, enforced by the database;
- after validation, a new version is an amendment; the validated version stays in
  force until the amendment is validated.

Submitting lives in ``submission.py``, signing in ``signing.py``, the Région's decisions
in ``decisions.py`` (and what a validated version puts in force in ``amendments.py``), the
reads in ``state.py``; they are re-exported here so callers use one module for the area.
"""

from flask_babel import gettext as _

from portal.accounts.models import Organisation, OrgKind, User
from portal.audit.services import record
from portal.conventions import clause_templates
from portal.conventions.decisions import (  # noqa: F401  (the area's facade)
    record_version,
    recruitment_problems,
    reject,
    validate,
    void_for_cancellation,
    void_version,
)
from portal.conventions.models import Convention, DesignatedSigner
from portal.conventions.signing import (  # noqa: F401  (the area's facade)
    AUTH_PASSWORD,
    AlreadySigned,
    Evidence,
    consent_text,
    last_seen_version,
    mark_opened,
    sign,
    signing_problems,
)
from portal.conventions.state import (  # noqa: F401  (the area's facade)
    amended_version,
    changes_since,
    convention_for,
    current_snapshot,
    in_force,
    is_active_member,
    is_party_admin,
    latest_version,
    open_version,
    party_ids,
    pending_parties,
    signer_for,
    signing_parties,
    snapshot_of,
    state,
    valid_signatures,
    versions,
)
from portal.conventions.submission import (  # noqa: F401  (the area's facade)
    submission_problems,
    submit,
)
from portal.core.errors import RuleError
from portal.core.french import de
from portal.core.time import utcnow
from portal.design.models import SectionKey
from portal.design.services import design_for
from portal.design.start import add_prefilled_section
from portal.extensions import db
from portal.notifications.services import notify, organisation_members
from portal.operations import dual_memberships
from portal.operations.events import log_event
from portal.operations.models import DRAFTING_STEPS, Operation


def reference_for(operation: Operation) -> str:
    """A stable, human reference: DEFI-<year reported>-<operation id on 4 digits>."""
    return f"DEFI-{operation.reported_at.year}-{operation.id:04d}"


def start_convention(operation: Operation, *, by: User, org: Organisation) -> Convention:
    """Create the convention and its clauses, prefilled from the convention type in force
    and the operation (idempotent)."""
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
    template, texts = clause_templates.texts_for(operation)
    for key in SectionKey.clause_keys():
        add_prefilled_section(design, key, {"text": texts[key]}, by=by, org=org)
    db.session.flush()
    db.session.expire(design, ["clauses"])
    log_event(
        operation,
        "convention_started",
        by=by,
        org=org,
        reference=convention.reference,
        template=template,
    )
    return convention


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
    """Say who signs for ``organisation`` and in which capacity (« gérant », …).

    The party's own admins designate (confirmed at once); the organisme porteur and the
    Région may only propose, and the party's admins are told to confirm. One person
    never signs for two parties of the convention, nor for either of two parties they are
    a member of until the Région approves that cumul (issue #11 M6).
    """
    own = by_org.id == organisation.id and is_party_admin(by.id, organisation.id)
    proposes = by_org.kind == OrgKind.REGION or by_org.id == convention.operation.provider_id
    if not own and not proposes:
        raise RuleError(
            _(
                "Seuls les administrateurs %(of_org)s désignent son signataire.",
                of_org=de(organisation.name),
            )
        )
    capacity = capacity.strip()
    if not capacity:
        raise RuleError(_("Indiquez la qualité du signataire (gérant, directrice…)."), "capacity")
    draft = current_snapshot(convention)
    if organisation.id not in {p["organisation_id"] for p in signing_parties(draft)}:
        raise RuleError(_("Cette organisation ne signe pas la convention."))
    if not user.is_enabled or not is_active_member(user.id, organisation.id):
        raise RuleError(
            _("Le signataire doit être membre actif %(of_org)s.", of_org=de(organisation.name)),
            "user_id",
        )
    other = next(
        (
            s
            for s in convention.signers
            if s.user_id == user.id and s.organisation_id != organisation.id
        ),
        None,
    )
    if other is not None:
        raise RuleError(
            _(
                "%(name)s signe déjà pour %(org)s : une personne ne signe que pour une partie.",
                name=user.full_name,
                org=other.organisation.name,
            ),
            "user_id",
        )
    cumul = dual_memberships.signer_problem(
        convention.operation, user, organisation.id, among=party_ids(draft)
    )
    if cumul is not None:
        raise RuleError(cumul, "user_id")
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
    designation.confirmed_at = designation.designated_at if own else None
    designation.confirmed_by_id = by.id if own else None
    db.session.flush()
    record(
        "convention.signer_designated" if own else "convention.signer_proposed",
        actor=by,
        organisation=by_org,
        obj=convention,
        party=organisation.id,
        signer=user.id,
        capacity=capacity,
    )
    if not own:
        operation = convention.operation
        notify(
            [u for u in organisation_members(organisation.id, admins_only=True) if u.id != by.id],
            kind="signer_proposed",
            operation=operation,
            message=_(
                "%(org)s propose %(name)s (%(capacity)s) comme signataire %(of_party)s pour la "
                "convention « %(title)s » : confirmez ou désignez une autre personne.",
                org=by_org.name,
                name=user.full_name,
                capacity=capacity,
                of_party=de(organisation.name),
                title=operation.title,
            ),
            endpoint="conventions.show_convention",
            operation_id=operation.id,
            email_subject=_("Convention DEFI : signataire à confirmer"),
        )
    return designation


def confirm_signer(
    convention: Convention, organisation: Organisation, *, by: User, by_org: Organisation
) -> DesignatedSigner:
    """An admin of ``organisation`` confirms the signer proposed for it."""
    if by_org.id != organisation.id or not is_party_admin(by.id, organisation.id):
        raise RuleError(
            _(
                "Seuls les administrateurs %(of_org)s confirment son signataire.",
                of_org=de(organisation.name),
            )
        )
    designation = signer_for(convention, organisation.id)
    if designation is None:
        raise RuleError(_("Aucun signataire n'est proposé pour %(org)s.", org=organisation.name))
    if designation.confirmed_at is None:
        designation.confirmed_at = utcnow()
        designation.confirmed_by_id = by.id
        db.session.flush()
        record(
            "convention.signer_confirmed",
            actor=by,
            organisation=by_org,
            obj=convention,
            party=organisation.id,
            signer=designation.user_id,
        )
    return designation
