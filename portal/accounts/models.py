"""Organisations, territories, users, memberships, invitations and login throttling."""

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.enums import db_enum
from portal.core.time import utcnow
from portal.extensions import db


class OrgKind(enum.StrEnum):
    """The four kinds of organisation taking part in DEFI."""

    REGION = "region"
    PROVIDER = "provider"
    EMPLOYER = "employer"
    PARTNER = "partner"

    @property
    def title(self) -> str:
        return str(ORG_KIND_TITLES[self])


ORG_KIND_TITLES = {
    OrgKind.REGION: _l("Région"),
    OrgKind.PROVIDER: _l("Organisme de formation"),
    OrgKind.EMPLOYER: _l("Entreprise"),
    OrgKind.PARTNER: _l("Partenaire"),
}


class PartnerType(enum.StrEnum):
    """What a partner organisation does for the trainees and employers."""

    ORIENTATION = "orientation"
    EMPLOYMENT = "employment"
    ECONOMY = "economy"

    @property
    def title(self) -> str:
        return str(PARTNER_TYPE_TITLES[self])


PARTNER_TYPE_TITLES = {
    PartnerType.ORIENTATION: _l("Orientation"),
    PartnerType.EMPLOYMENT: _l("Emploi"),
    PartnerType.ECONOMY: _l("Économie"),
}


class Territory(db.Model):
    """A bassin d'emploi of the Région, with its territorial training referent."""

    __tablename__ = "territories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    departments: Mapped[str] = mapped_column(String(120), default="")
    referent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    referent: Mapped["User | None"] = relationship(foreign_keys=[referent_id])

    def __str__(self) -> str:
        return self.name


class Organisation(db.Model):
    """A legal entity taking part in DEFI operations."""

    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint("siret IS NULL OR length(siret) = 14", name="siret_length"),
        CheckConstraint(
            "partner_type IS NULL OR kind = 'partner'", name="partner_type_only_for_partners"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OrgKind] = mapped_column(db_enum(OrgKind, 20))
    name: Mapped[str] = mapped_column(String(200))
    siret: Mapped[str | None] = mapped_column(String(14), unique=True)
    partner_type: Mapped[PartnerType | None] = mapped_column(db_enum(PartnerType, 20))
    address: Mapped[str] = mapped_column(String(250), default="")
    postal_code: Mapped[str] = mapped_column(String(5), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    territory_id: Mapped[int | None] = mapped_column(ForeignKey("territories.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Empty while « à vérifier »: an organisation invited by an organisme de formation
    # waits for the Région's confirmation before it can sign (issue #11 M6).
    verified_at: Mapped[datetime | None] = mapped_column(DateTime, default=utcnow)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    territory: Mapped[Territory | None] = relationship()
    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="organisation", order_by="Membership.id"
    )

    def __str__(self) -> str:
        return self.name

    @property
    def is_region(self) -> bool:
        return self.kind == OrgKind.REGION

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class User(UserMixin, db.Model):
    """A person who logs in; belongs to one or more organisations."""

    __tablename__ = "users"
    __table_args__ = (Index("uq_users_email_lower", func.lower(text("email")), unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(30), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    # Bumped at logout and deactivation: every session carrying an older value ends.
    session_generation: Mapped[int] = mapped_column(Integer, default=1)
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    # TOTP second factor (portal/accounts/mfa.py). The secret is set at enrolment and
    # counts only once confirmed (``totp_enabled_at``); stored as is (no encryption library
    # in the stack yet), never written to a log or an audit event.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The last 30-second time step accepted: a code of that step or an earlier one is refused.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)

    memberships: Mapped[list["Membership"]] = relationship(
        back_populates="user", order_by="Membership.id", foreign_keys="Membership.user_id"
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def has_totp(self) -> bool:
        """The second factor is enrolled and confirmed."""
        return self.totp_enabled_at is not None and bool(self.totp_secret)

    @property
    def is_any_admin(self) -> bool:
        """Admin of at least one organisation (the Région's or another)."""
        return any(m.active and m.is_admin for m in self.memberships)

    @property
    def is_active(self) -> bool:  # Flask-Login: a disabled user cannot log in
        return self.is_enabled

    def get_id(self) -> str:
        """Session identifier: id and generation, so a bumped generation logs out."""
        return f"{self.id}:{self.session_generation}"

    def active_memberships(self) -> list["Membership"]:
        return [m for m in self.memberships if m.active]

    def __str__(self) -> str:
        return self.full_name


class Membership(db.Model):
    """A user's place in an organisation; deactivated rather than deleted (history kept)."""

    __tablename__ = "memberships"
    __table_args__ = (
        Index(
            "uq_memberships_active_user_org",
            "user_id",
            "organisation_id",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_tutor: Mapped[bool] = mapped_column(Boolean, default=False)
    job_title: Mapped[str] = mapped_column(String(120), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    deactivated_at: Mapped[datetime | None] = mapped_column(DateTime)
    deactivated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id])
    organisation: Mapped[Organisation] = relationship(back_populates="memberships")
    deactivated_by: Mapped[User | None] = relationship(foreign_keys=[deactivated_by_id])


class Invitation(db.Model):
    """A single-use invitation link to join an organisation; only its hash is stored."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    # The invited person joins as a tutor (employers only): the role travels with the link.
    is_tutor: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    organisation: Mapped[Organisation] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > utcnow()


class PasswordReset(db.Model):
    """A single-use password reset link; only its hash is stored."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()


class EmailChange(db.Model):
    """A request to change one's login address: a single-use link mailed to the new
    address (only its hash is stored); the address changes when the link is confirmed."""

    __tablename__ = "email_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    new_email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()


class LoginFailure(db.Model):
    """One failed login, keyed by account or by IP; shared by every gunicorn worker."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class RecoveryCode(db.Model):
    """A single-use code to log in without the authenticator; only its SHA-256 is stored
    (the code carries 80 random bits, so a fast hash is enough)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class UserSession(db.Model):
    """One login on one device (« Mes sessions »): the Flask session carries a random token
    whose SHA-256 is ``token_hash``; ending the row ends that session on its next request
    (portal/accounts/user_sessions.py)."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Moved at most once a minute (cheap writes): the idle timeout is counted from it.
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    ip: Mapped[str] = mapped_column(String(45), default="")
    ended_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Why it ended: logout, ended (from another session), idle, expired, password_changed…
    end_reason: Mapped[str | None] = mapped_column(String(40))

    user: Mapped[User] = relationship()
