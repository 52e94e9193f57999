"""The partnership convention: frozen versions, designated signers, signatures, evidence."""

import json
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.models import Organisation, User
from portal.core.enums import TitledEnum, db_enum, titled
from portal.core.time import utcnow
from portal.extensions import db
from portal.operations.models import Operation


@titled(
    {
        "draft": _l("Brouillon"),
        "to_sign": _l("À signer"),
        "partially_signed": _l("Partiellement signée"),
        "signed": _l("Signée"),
        "validated": _l("Validée par la Région"),
        "rejected": _l("Rejetée"),
        "voided": _l("Annulée"),
        "superseded": _l("Remplacée par un avenant"),
    }
)
class VersionStatus(TitledEnum):
    """Where a frozen version stands; ``draft`` is only the convention's own state."""

    DRAFT = "draft"
    TO_SIGN = "to_sign"
    PARTIALLY_SIGNED = "partially_signed"
    SIGNED = "signed"
    VALIDATED = "validated"
    REJECTED = "rejected"
    VOIDED = "voided"
    SUPERSEDED = "superseded"

    @property
    def is_open(self) -> bool:
        """Collecting signatures or awaiting the Région."""
        return self in (VersionStatus.TO_SIGN, VersionStatus.PARTIALLY_SIGNED, VersionStatus.SIGNED)


class Convention(db.Model):
    """The convention of one operation; its text lives in clause sections and versions."""

    __tablename__ = "conventions"

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), unique=True)
    reference: Mapped[str] = mapped_column(String(30), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    operation: Mapped[Operation] = relationship()
    versions: Mapped[list["ConventionVersion"]] = relationship(
        back_populates="convention", order_by="ConventionVersion.number"
    )
    signers: Mapped[list["DesignatedSigner"]] = relationship(
        back_populates="convention", order_by="DesignatedSigner.id"
    )


class DesignatedSigner(db.Model):
    """Who signs for one party of the convention, and in which capacity."""

    __tablename__ = "convention_signers"
    __table_args__ = (UniqueConstraint("convention_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    convention_id: Mapped[int] = mapped_column(ForeignKey("conventions.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    capacity: Mapped[str] = mapped_column(String(120))
    designated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    designated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # A designation by the party's own admin is confirmed at once; one proposed by the
    # organisme porteur or the Région waits for an admin of the party (« proposé »).
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    convention: Mapped[Convention] = relationship(back_populates="signers")
    organisation: Mapped[Organisation] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    designated_by: Mapped[User | None] = relationship(foreign_keys=[designated_by_id])
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class ConventionVersion(db.Model):
    """A frozen state of the convention: its canonical text, hash and signature status.

    ``canonical`` and ``sha256`` never change once written (see the listener below);
    the status, validation and voiding columns record what happened to the version.
    """

    __tablename__ = "convention_versions"
    __table_args__ = (UniqueConstraint("convention_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    convention_id: Mapped[int] = mapped_column(ForeignKey("conventions.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    # An amendment (avenant) is a version submitted after a validated one.
    is_amendment: Mapped[bool] = mapped_column(default=False)
    canonical: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # Indexed: « À faire » reads the versions out for signature or validation across
    # operations (issue #16), a few among the many validated ones.
    status: Mapped[VersionStatus] = mapped_column(db_enum(VersionStatus), index=True)
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submitted_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    validated_at: Mapped[datetime | None] = mapped_column(DateTime)
    validated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    rejected_at: Mapped[datetime | None] = mapped_column(DateTime)
    rejected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reject_reason: Mapped[str] = mapped_column(Text, default="")
    voided_at: Mapped[datetime | None] = mapped_column(DateTime)
    void_reason: Mapped[str] = mapped_column(Text, default="")
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime)

    convention: Mapped[Convention] = relationship(back_populates="versions")
    submitted_by: Mapped[User] = relationship(foreign_keys=[submitted_by_id])
    submitted_org: Mapped[Organisation] = relationship(foreign_keys=[submitted_org_id])
    validated_by: Mapped[User | None] = relationship(foreign_keys=[validated_by_id])
    rejected_by: Mapped[User | None] = relationship(foreign_keys=[rejected_by_id])
    signatures: Mapped[list["Signature"]] = relationship(
        back_populates="version", order_by="Signature.signed_at"
    )

    @property
    def short_hash(self) -> str:
        return self.sha256[:12]

    @property
    def label(self) -> str:
        return f"{self.convention.reference} v{self.number}"


FROZEN_COLUMNS = ("canonical", "sha256", "number", "convention_id", "submitted_at")


@event.listens_for(ConventionVersion, "before_update")
def _refuse_changing_frozen_text(mapper, connection, target):  # noqa: ARG001
    """A submitted version is immutable: what was signed cannot be rewritten."""
    state = db.inspect(target)
    for name in FROZEN_COLUMNS:
        if state.attrs[name].history.has_changes():
            raise RuntimeError(f"ConventionVersion.{name} is frozen once submitted.")


class SigningParty(db.Model):
    """An organisation that signs a version, as its frozen text says
    (``state.signing_parties``): written with the version (``_keep_signing_parties``) and,
    like the text, never changed. « À faire » finds the versions an organisation signs
    here, across operations, instead of parsing every frozen text (issue #16)."""

    __tablename__ = "convention_signing_parties"
    __table_args__ = (UniqueConstraint("version_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("convention_versions.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))


def signing_party_rows(version_id: int, canonical: str) -> list[dict]:
    """The ``SigningParty`` rows of a version from its frozen text (the migration that
    created the table fills it with this too)."""
    parties = json.loads(canonical)["parties"]
    signing = sorted({p["organisation_id"] for p in parties if p["signs"]})
    return [{"version_id": version_id, "organisation_id": o} for o in signing]


@event.listens_for(ConventionVersion, "after_insert")
def _keep_signing_parties(mapper, connection, target):  # noqa: ARG001
    """Whoever inserts a version, its signing parties are written in the same flush: the
    text is frozen, so they never need changing."""
    rows = signing_party_rows(target.id, target.canonical)
    if rows:
        connection.execute(SigningParty.__table__.insert(), rows)


class Signature(db.Model):
    """One party's signature of one version, with the evidence of who, how and when."""

    __tablename__ = "convention_signatures"
    # One signature per organisation per version: racing or double clicks are harmless.
    __table_args__ = (UniqueConstraint("version_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("convention_versions.id"), index=True)
    version_sha256: Mapped[str] = mapped_column(String(64))
    # Indexed for the dashboard's signatory employers (reporting.queries).
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    capacity: Mapped[str] = mapped_column(String(120))
    consent_text: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ip: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    auth_method: Mapped[str] = mapped_column(String(40))
    voided_at: Mapped[datetime | None] = mapped_column(DateTime)
    void_reason: Mapped[str] = mapped_column(Text, default="")

    version: Mapped[ConventionVersion] = relationship(back_populates="signatures")
    organisation: Mapped[Organisation] = relationship()
    user: Mapped[User] = relationship()

    @property
    def is_valid(self) -> bool:
        return self.voided_at is None


class IssuedDocument(db.Model):
    """A document file generated from a version: its SHA-256 lets anyone verify a copy.

    The DOCX is deterministic for a given state of the version (text, signatures,
    validation), so one row per distinct file; the evidence page changes as parties
    sign, hence several rows per version. The file itself is not stored.
    """

    __tablename__ = "convention_documents"
    __table_args__ = (UniqueConstraint("version_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("convention_versions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(4))  # docx, pdf
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    signatures: Mapped[int] = mapped_column(Integer, default=0)
    generated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    generated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    version: Mapped[ConventionVersion] = relationship()


class VersionReading(db.Model):
    """The first time a user opened a version: lets the page show a diff since then."""

    __tablename__ = "convention_readings"
    __table_args__ = (UniqueConstraint("version_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("convention_versions.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    opened_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SignatureReminder(db.Model):
    """A reminder sent to a pending signer: automatic (scheduled) or manual."""

    __tablename__ = "convention_reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("convention_versions.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(10))  # auto, manual
    sent_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    organisation: Mapped[Organisation] = relationship()


class ClauseTemplate(db.Model):
    """One version of the convention type: the default text of every clause, edited by the
    Région's admins. The highest number is in force; a new convention starts from it, and
    the versions a convention was signed with keep their own frozen text."""

    __tablename__ = "clause_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    # Clause key -> text, with placeholders such as {intitulé} filled for each operation.
    texts: Mapped[dict] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    created_by: Mapped[User | None] = relationship()
