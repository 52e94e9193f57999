"""Business verbs of the accounts area: they check rules, change state, audit and notify.
Invitations are in ``invitations.py``, password resets in ``resets.py``.

They ``flush()`` and never commit: the view commits once per request.
"""

import hashlib
import secrets

from flask import has_request_context, request
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from portal.accounts import throttle, user_sessions
from portal.accounts.models import (
    Invitation,
    Membership,
    Organisation,
    OrgKind,
    PasswordReset,
    Territory,
    User,
)
from portal.accounts.passwords import (
    burn_verification_time,
    hash_password,
    password_problems,
    verify_password,
)
from portal.audit.services import record
from portal.core.errors import RuleError
from portal.core.french import de
from portal.core.time import utcnow
from portal.extensions import db
from portal.operations import dual_approvals


def normalize_email(email: str) -> str:
    """E-mails are compared case-insensitively and stored lower-cased."""
    return (email or "").strip().lower()


def new_token() -> tuple[str, str]:
    """A random URL token and the SHA-256 hash we store instead of it."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def client_ip() -> str:
    """The client's address (behind TRUSTED_PROXIES proxies: the one they saw), or ""."""
    return (request.remote_addr or "") if has_request_context() else ""


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalize_email(email)))


def create_user(
    email: str, first_name: str, last_name: str, password: str, phone: str = ""
) -> User:
    """Create an account; the password must satisfy the policy."""
    email = normalize_email(email)
    if user_by_email(email):
        raise RuleError(_("Un compte existe déjà avec cette adresse électronique."), "email")
    problems = password_problems(password, email)
    if problems:
        raise RuleError(problems[0], "password")
    user = User(
        email=email,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        phone=phone.strip(),
        password_hash=hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    return user


def add_membership(
    user: User, organisation: Organisation, *, is_admin=False, is_tutor=False, job_title="", by=None
) -> Membership:
    """Make ``user`` an active member of ``organisation``. Where this makes them a member
    of two parties of an open operation, the Région is asked to approve (issue #11 M6)."""
    dual_approvals.lock_memberships(user, organisation)
    existing = active_membership(user, organisation)
    if existing:
        raise RuleError(
            _("Cette personne est déjà membre %(of_org)s.", of_org=de(organisation.name))
        )
    membership = Membership(
        user=user,
        organisation=organisation,
        is_admin=is_admin,
        is_tutor=is_tutor,
        job_title=job_title,
    )
    db.session.add(membership)
    db.session.flush()
    record(
        "membership.created",
        actor=by or user,
        organisation=organisation,
        obj=membership,
        user_id=user.id,
        is_admin=is_admin,
        is_tutor=is_tutor,
    )
    dual_approvals.request_approvals(
        by=by or user, user_id=user.id, organisation_id=organisation.id
    )
    return membership


def active_membership(user: User, organisation: Organisation) -> Membership | None:
    return db.session.scalar(
        select(Membership).where(
            Membership.user_id == user.id,
            Membership.organisation_id == organisation.id,
            Membership.active.is_(True),
        )
    )


# --- Login -------------------------------------------------------------------------------


def authenticate(email: str, password: str) -> User:
    """Return the user for these credentials or raise a French ``RuleError``.

    Unknown e-mail, wrong password and disabled account give the same message (no
    enumeration); failures count per account, per (account, IP) and per IP across workers.
    """
    ip = client_ip()
    email = normalize_email(email)
    _refuse_if_throttled(email, ip)
    user = user_by_email(email)
    ok, new_hash = (False, None)
    if user is None:
        burn_verification_time(password)
    else:
        ok, new_hash = verify_password(user.password_hash, password)
    if not ok or not user.is_enabled or not user.active_memberships():
        throttle.record_failure(email, ip)
        record("login.failed", actor=user, email=email)
        raise RuleError(_("Adresse électronique ou mot de passe incorrect."))
    if new_hash:
        user.password_hash = new_hash
    throttle.record_success(email, ip)
    if user.has_totp:  # not logged in yet: the second step (mfa.verify_login) does it
        record("login.password_accepted", actor=user, rehashed=bool(new_hash))
        return user
    user.last_login_at = utcnow()
    record("login.succeeded", actor=user, rehashed=bool(new_hash))
    return user


def _refuse_if_throttled(email: str, ip: str) -> None:
    """Refuse a password check of ``email`` from ``ip`` that the throttle does not allow: a
    locked IP or (account, IP) pair, or an account slowed down by failures from anywhere."""
    verdict = throttle.login_verdict(email, ip)
    if verdict.allowed:
        return
    record("login.blocked", email=email, wait=verdict.wait)
    if verdict.locked:
        raise RuleError(
            _(
                "Trop de tentatives de connexion infructueuses. Pour protéger le compte, "
                "réessayez dans quelques minutes ou réinitialisez votre mot de passe."
            )
        )
    raise RuleError(
        ngettext(
            "Trop de tentatives pour ce compte : réessayez dans %(num)d seconde.",
            "Trop de tentatives pour ce compte : réessayez dans %(num)d secondes.",
            verdict.wait,
        )
    )


def reauthenticate(user: User, password: str, *, wrong: str, field: str | None = None) -> None:
    """A logged-in user confirms their password (to sign, to change it).

    A wrong one counts like a failed login (``ThrottledRuleError``, with the ``wrong``
    message: the view commits the count). Refused only after failures on this account from
    this IP: strangers failing elsewhere never stop the owner.
    """
    ip = client_ip()
    if throttle.reauthentication_locked(user.email, ip):
        raise RuleError(
            _(
                "Trop de tentatives infructueuses : pour protéger le compte, réessayez dans "
                "quelques minutes."
            ),
            field,
        )
    ok, _new_hash = verify_password(user.password_hash, password)
    if not ok:
        throttle.record_failure(user.email, ip)
        raise ThrottledRuleError(wrong, field)
    throttle.record_success(user.email, ip)


def end_all_sessions(user: User, *, by=None, reason: str = "logout") -> None:
    """Invalidate every session of ``user`` (the session generation is checked per request)."""
    user.session_generation += 1
    user_sessions.end_all(user, reason)
    db.session.flush()
    record("sessions.ended", actor=by or user, obj=user, reason=reason)


# --- Organisations and territories -------------------------------------------------------

ORG_FIELDS = (
    "kind",
    "name",
    "siret",
    "partner_type",
    "address",
    "postal_code",
    "city",
    "email",
    "phone",
    "territory",
)


def save_organisation(
    data: dict, *, by: User, organisation: Organisation | None = None
) -> Organisation:
    """Create or update an organisation from validated form data."""
    siret = data.get("siret") or None
    if siret:
        clash = db.session.scalar(select(Organisation).where(Organisation.siret == siret))
        if clash and clash is not organisation:
            raise RuleError(
                _("Ce SIRET est déjà celui %(of_org)s.", of_org=de(clash.name)), "siret"
            )
    creating = organisation is None
    if creating:
        organisation = Organisation()
        db.session.add(organisation)
    for field in ORG_FIELDS:
        if field in data:
            setattr(organisation, field, data[field])
    organisation.siret = siret
    if organisation.kind != OrgKind.PARTNER:
        organisation.partner_type = None
    db.session.flush()
    record(
        "organisation.created" if creating else "organisation.updated",
        actor=by,
        organisation=organisation,
        obj=organisation,
        name=organisation.name,
    )
    return organisation


def save_territory(data: dict, *, by: User, territory: Territory | None = None) -> Territory:
    """Create or update a bassin d'emploi and its referent (a member of the Région)."""
    referent = data.get("referent")
    if referent is not None and not any(
        m.active and m.organisation.kind == OrgKind.REGION for m in referent.memberships
    ):
        raise RuleError(_("Le ou la référent·e doit être membre de la Région."), "referent")
    for field, label in (("code", _("Ce code")), ("name", _("Ce nom"))):
        column = getattr(Territory, field)
        clash = db.session.scalar(select(Territory).where(column == data[field]))
        if clash and clash is not territory:
            raise RuleError(_("%(what)s est déjà utilisé par un autre bassin.", what=label), field)
    creating = territory is None
    if creating:
        territory = Territory()
        db.session.add(territory)
    territory.code = data["code"]
    territory.name = data["name"]
    territory.departments = data.get("departments", "")
    territory.referent = referent
    db.session.flush()
    record(
        "territory.created" if creating else "territory.updated",
        actor=by,
        obj=territory,
        referent_id=referent.id if referent else None,
    )
    return territory


# --- Single-use links (invitations.py, resets.py) ----------------------------------------


class ThrottledRuleError(RuleError):
    """A refused password whose failure was counted: the view must commit, not roll back."""


class LinkProblem:
    """Why a token link cannot be used; each has its French explanation."""

    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"


def _find_link(model, token: str, used_column: str, revoked_column: str | None = None):
    """Look up a single-use link by its token's hash and say why it cannot be used, if so."""
    link = db.session.scalar(select(model).where(model.token_hash == hash_token(token)))
    if link is None:
        return None, LinkProblem.UNKNOWN
    if getattr(link, used_column) is not None:
        return link, LinkProblem.USED
    if revoked_column and getattr(link, revoked_column) is not None:
        return link, LinkProblem.REVOKED
    if link.expires_at <= utcnow():
        return link, LinkProblem.EXPIRED
    return link, None


def verify_organisation(organisation: Organisation, *, by: User) -> None:
    """The Région confirms an organisation invited by an organisme (« à vérifier »)."""
    if organisation.verified_at is not None:
        raise RuleError(_("%(org)s est déjà vérifiée.", org=organisation.name))
    organisation.verified_at = utcnow()
    organisation.verified_by_id = by.id
    record("organisation.verified", actor=by, organisation=organisation, obj=organisation)


def revoke_pending_links(model, user: User) -> None:
    """End every pending single-use link of ``model`` (``PasswordReset``, ``EmailChange``)
    held by ``user``: they now read as expired."""
    now = utcnow()
    for link in db.session.scalars(
        select(model).where(
            model.user_id == user.id, model.used_at.is_(None), model.expires_at > now
        )
    ):
        link.expires_at = now


def revoke_password_resets(user: User) -> None:
    """End every pending reset link of ``user`` (a newer one is coming, or the password just
    changed, or the address they were mailed to)."""
    revoke_pending_links(PasswordReset, user)


# --- Memberships -------------------------------------------------------------------------


def _other_active_admins(membership: Membership) -> int:
    return db.session.scalar(
        select(func.count()).where(
            Membership.organisation_id == membership.organisation_id,
            Membership.active.is_(True),
            Membership.is_admin.is_(True),
            Membership.id != membership.id,
        )
    )


def deactivate_membership(membership: Membership, *, by: User) -> None:
    """Remove a member (history kept); every session of that user ends."""
    if not membership.active:
        raise RuleError(_("Ce membre est déjà désactivé."))
    if membership.user_id == by.id:
        raise RuleError(_("Vous ne pouvez pas vous retirer vous-même de l'organisation."))
    if membership.is_admin and not _other_active_admins(membership):
        raise RuleError(_("L'organisation doit garder au moins un·e administrateur·rice."))
    membership.active = False
    membership.deactivated_at = utcnow()
    membership.deactivated_by_id = by.id
    record(
        "membership.deactivated",
        actor=by,
        organisation=membership.organisation,
        obj=membership,
        user_id=membership.user_id,
    )
    _revoke_invitations_sent_by(membership.user, by=by, losing=membership)
    end_all_sessions(membership.user, by=by, reason="membership_deactivated")


def _revoke_invitations_sent_by(user: User, *, by: User, losing: Membership | None = None):
    """Revoke the pending invitations ``user`` sent with rights they no longer have.

    ``losing``: the membership that lost its admin role or was deactivated; its
    organisation's invitations go, and every one when it was the Région's (whose admins
    invite anywhere), except where ``user`` is still an active admin. Without it (the
    account is disabled), all of them go.
    """
    query = select(Invitation).where(
        Invitation.invited_by_id == user.id,
        Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None),
        Invitation.expires_at > utcnow(),
    )
    if losing is not None:
        still_admin = {m.organisation_id for m in user.memberships if m.active and m.is_admin} - {
            losing.organisation_id
        }
        query = query.where(Invitation.organisation_id.not_in(still_admin))
        if not losing.organisation.is_region:
            query = query.where(Invitation.organisation_id == losing.organisation_id)
    for invitation in db.session.scalars(query):
        invitation.revoked_at = utcnow()
        record(
            "invitation.revoked",
            actor=by,
            organisation=invitation.organisation,
            obj=invitation,
            reason="inviter_lost_rights",
        )


def set_admin(membership: Membership, is_admin: bool, *, by: User) -> None:
    """Grant or remove the admin flag; an organisation keeps at least one admin."""
    if not membership.active:
        raise RuleError(_("Ce membre est désactivé."))
    if not is_admin and membership.is_admin and not _other_active_admins(membership):
        raise RuleError(_("L'organisation doit garder au moins un·e administrateur·rice."))
    membership.is_admin = is_admin
    record(
        "membership.admin_changed",
        actor=by,
        organisation=membership.organisation,
        obj=membership,
        is_admin=is_admin,
    )
    if not is_admin:
        _revoke_invitations_sent_by(membership.user, by=by, losing=membership)


def set_user_enabled(user: User, enabled: bool, *, by: User) -> None:
    """The Région disables (or re-enables) an account; disabling ends its sessions."""
    if user.id == by.id and not enabled:
        raise RuleError(_("Vous ne pouvez pas désactiver votre propre compte."))
    user.is_enabled = enabled
    record("user.enabled" if enabled else "user.disabled", actor=by, obj=user)
    if not enabled:
        end_all_sessions(user, by=by, reason="user_disabled")
        _revoke_invitations_sent_by(user, by=by)


# --- Own account -------------------------------------------------------------------------


def update_profile(user: User, *, first_name: str, last_name: str, phone: str) -> None:
    """A person corrects their own name and phone number."""
    user.first_name = first_name.strip()
    user.last_name = last_name.strip()
    user.phone = phone.strip()
    record("user.profile_updated", actor=user, obj=user)


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Change one's password (the current one is required, and its failures are counted
    like a login's); every other session ends."""
    reauthenticate(
        user,
        current_password,
        wrong=_("Le mot de passe actuel est incorrect."),
        field="current_password",
    )
    problems = password_problems(new_password, user.email)
    if problems:
        raise RuleError(problems[0], "password")
    user.password_hash = hash_password(new_password)
    revoke_password_resets(user)
    end_all_sessions(user, reason="password_changed")
    record("user.password_changed", actor=user, obj=user)
