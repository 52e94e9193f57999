"""Read-side queries of the convention pages: eager loads so that query counts stay flat."""

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from portal.conventions.models import (
    Convention,
    ConventionVersion,
    DesignatedSigner,
    Signature,
    SignatureReminder,
)
from portal.conventions.snapshot import keep_draft_participants, keep_sections
from portal.design.models import Design, DesignSection
from portal.extensions import db
from portal.operations.models import Operation, Participant


def operation_for_page(operation_id: int) -> Operation | None:
    """The operation with its participants' organisations, its provider, bassin and lot
    (what the convention's text names), in one query."""
    query = (
        select(Operation)
        .where(Operation.id == operation_id)
        .options(
            joinedload(Operation.participants).joinedload(Participant.organisation),
            joinedload(Operation.provider),
            joinedload(Operation.territory),
            joinedload(Operation.lot),
        )
    )
    operation = db.session.scalars(query).unique().one_or_none()
    if operation is not None:  # the snapshot's parties, from these participants
        keep_draft_participants(operation)
    return operation


def load_convention(operation_id: int) -> Convention | None:
    """The convention with its versions, their signatures and its designated signers (two
    queries: the convention joined to its few signers, then its versions joined to their
    signatures — who each row names is joined to it)."""
    version = selectinload(Convention.versions)
    query = (
        select(Convention)
        .where(Convention.operation_id == operation_id)
        .options(
            version.options(
                joinedload(ConventionVersion.submitted_by),
                joinedload(ConventionVersion.submitted_org),
                joinedload(ConventionVersion.validated_by),
                joinedload(ConventionVersion.rejected_by),
            ),
            version.joinedload(ConventionVersion.signatures).options(
                joinedload(Signature.user), joinedload(Signature.organisation)
            ),
            joinedload(Convention.signers).options(
                joinedload(DesignatedSigner.user), joinedload(DesignatedSigner.organisation)
            ),
        )
    )
    return db.session.scalars(query).unique().one_or_none()


def load_design_with_clauses(operation_id: int) -> Design | None:
    """The design with its sections and clauses and who last changed or validated them (one
    query: its parts, the minutes aside, joined to it and dealt to ``sections`` and
    ``clauses``; the snapshot of the convention reads the same rows, ``keep_sections``)."""
    query = (
        select(Design)
        .where(Design.operation_id == operation_id)
        .options(
            joinedload(Design.parts).options(
                joinedload(DesignSection.updated_by),
                joinedload(DesignSection.updated_org),
                joinedload(DesignSection.validated_by),
            )
        )
    )
    design = db.session.scalars(query).unique().one_or_none()
    if design is not None:
        for name, wanted in (("sections", "is_design"), ("clauses", "is_clause")):
            parts = [part for part in design.parts if getattr(part.key, wanted)]
            set_committed_value(design, name, parts)
        keep_sections(design.operation, design)
    return design


def last_reminders(version: ConventionVersion) -> dict[int, object]:
    """When each party of ``version`` was last reminded to sign (organisation id → time)."""
    rows = db.session.execute(
        select(SignatureReminder.organisation_id, func.max(SignatureReminder.sent_at))
        .where(SignatureReminder.version_id == version.id)
        .group_by(SignatureReminder.organisation_id)
    ).all()
    return dict(rows)
