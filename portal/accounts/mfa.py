"""TOTP second factor (RFC 6238): enrolment, the login's second step, recovery codes, and
the reset of a lost factor by a Région admin.

- Codes: 6 digits, 30-second steps, accepted one step either side (clocks drift). Each
  accepted step is kept (``User.totp_last_step``): that step and earlier ones are refused
  afterwards, so a code seen over someone's shoulder cannot be replayed.
- Recovery codes: ten per enrolment, 80 random bits each, shown once; only their SHA-256
  is stored (a fast hash is enough for that entropy), each one works once.
- The secret is stored as is: no encryption library is in the stack yet. It never goes
  into an audit event, a log or a notification.
- Failures are throttled like passwords (``throttle.SECOND_FACTOR``), per account, per
  (account, IP) and per IP.

Like every service they flush and never commit.
"""

import base64
import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup
from sqlalchemy import delete, func, select

from portal.accounts import throttle
from portal.accounts.models import RecoveryCode, User
from portal.accounts.services import ThrottledRuleError, client_ip, reauthenticate
from portal.audit.services import record
from portal.core.errors import RuleError
from portal.core.time import utcnow
from portal.extensions import db
from portal.notifications.services import notify

ISSUER = "Portail DEFI"
STEP_SECONDS = 30
DIGITS = 6
RECOVERY_CODE_COUNT = 10


def required(user: User) -> bool:
    """Must ``user`` have a second factor? Admins of any organisation, where configured
    (always in production)."""
    return bool(current_app.config["MFA_REQUIRED_FOR_ADMINS"]) and user.is_any_admin


def must_enrol(user: User) -> bool:
    """``user`` must enrol before using the portal."""
    return required(user) and not user.has_totp


# --- Codes -------------------------------------------------------------------------------


def time_step(at: float | None = None) -> int:
    """The 30-second step ``at`` (epoch seconds, default now) falls in."""
    return int((time.time() if at is None else at) // STEP_SECONDS)


def matching_step(secret: str, code: str, last_step: int | None, at: float | None = None):
    """The step, within one of ``at``'s, whose code is ``code`` and that is later than
    ``last_step``; None when there is none (wrong, expired or replayed)."""
    code = "".join((code or "").split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    now = time_step(at)
    for step in (now - 1, now, now + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def normalise_recovery_code(code: str) -> str:
    """Recovery codes are read without spaces, dashes or case."""
    return "".join(c for c in (code or "").upper() if c.isalnum())


def hash_recovery_code(code: str) -> str:
    return hashlib.sha256(normalise_recovery_code(code).encode()).hexdigest()


def new_recovery_code() -> str:
    """80 random bits as 16 base-32 characters in groups of four."""
    raw = base64.b32encode(secrets.token_bytes(10)).decode()
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def grouped(secret: str) -> str:
    """The secret in groups of four characters, for typing it into an app."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(user: User) -> str:
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    totp = pyotp.TOTP(user.totp_secret, digits=DIGITS, interval=STEP_SECONDS)
    return totp.provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(user: User) -> Markup:
    """The QR code of ``provisioning_uri`` as inline SVG markup (no style, no script: the
    CSP allows it), dark on white so that phones read it in dark mode too."""
    qr = segno.make(provisioning_uri(user), error="m")
    svg = qr.svg_inline(scale=5, dark="#000", light="#fff", svgclass="qr-code", lineclass=None)
    return Markup(svg)  # noqa: S704 - segno's own markup: the address is escaped by segno


def remaining_recovery_codes(user: User) -> int:
    return db.session.scalar(
        select(func.count()).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


# --- Enrolment ---------------------------------------------------------------------------


def start_enrolment(user: User) -> None:
    """Give ``user`` a new secret to scan; it counts only once a code confirms it."""
    if user.has_totp:
        raise RuleError(_("La double authentification est déjà activée sur votre compte."))
    user.totp_secret = pyotp.random_base32()
    user.totp_last_step = None
    db.session.flush()
    record("mfa.enrolment_started", actor=user, obj=user)


def confirm_enrolment(user: User, code: str) -> list[str]:
    """The first code from the app confirms the secret; returns the ten recovery codes,
    to be shown once."""
    if user.has_totp:
        raise RuleError(_("La double authentification est déjà activée sur votre compte."))
    if not user.totp_secret:
        raise RuleError(_("Commencez par afficher le code QR à scanner."))
    step = matching_step(user.totp_secret, code, None)
    if step is None:
        record("mfa.enrolment_failed", actor=user, obj=user)
        raise ThrottledRuleError(wrong_code(), "code")
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    codes = issue_recovery_codes(user)
    record("mfa.enabled", actor=user, obj=user)
    return codes


def issue_recovery_codes(user: User) -> list[str]:
    """Ten new recovery codes for ``user`` (the previous ones stop working)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [new_recovery_code() for _i in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(
        RecoveryCode(user_id=user.id, code_hash=hash_recovery_code(code)) for code in codes
    )
    db.session.flush()
    return codes


def _clear(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.flush()


def disable(user: User, password: str, code: str) -> None:
    """``user`` turns the second factor off, with their password and a code (or a recovery
    code); refused where it is required."""
    if not user.has_totp:
        raise RuleError(_("La double authentification n'est pas activée sur votre compte."))
    if required(user):
        raise RuleError(
            _("La double authentification est obligatoire pour les administrateur·rices.")
        )
    reauthenticate(
        user, password, wrong=_("Le mot de passe est incorrect."), field="current_password"
    )
    confirm_code(user, code)
    _clear(user)
    record("mfa.disabled", actor=user, obj=user)


def confirm_code(user: User, code: str) -> str:
    """A logged-in ``user`` confirms their identity with a code (re-authentication):
    refused after too many failures on this account from this IP, a wrong one counted."""
    if throttle.reauthentication_locked(user.email, client_ip(), throttle.SECOND_FACTOR):
        raise RuleError(too_many_codes(), "code")
    return _check_code(user, code)


def reset(user: User, *, by: User) -> None:
    """A Région admin removes the lost second factor of ``user``, who is told; ``user``
    enrols again (at next login where it is required)."""
    if not user.has_totp and not user.totp_secret:
        raise RuleError(_("Ce compte n'a pas de double authentification."))
    _clear(user)
    record("mfa.reset", actor=by, obj=user)
    notify(
        [user],
        kind="mfa_reset",
        message=_(
            "La double authentification de votre compte a été réinitialisée par %(name)s "
            "(Région). Activez-la de nouveau depuis « Mon compte ». Si vous n'avez rien "
            "demandé, prévenez la Région.",
            name=by.full_name,
        ),
        endpoint="accounts.mfa_settings",
        email_subject=_("Portail DEFI : double authentification réinitialisée"),
    )


# --- Login's second step -----------------------------------------------------------------


def too_many_codes() -> str:
    """The refusal once this account's codes failed too often from this IP."""
    return _("Trop de codes incorrects. Pour protéger le compte, réessayez dans quelques minutes.")


def wrong_code() -> str:
    """The refusal of a wrong, expired or replayed code."""
    return _("Code incorrect ou expiré : saisissez le code affiché par votre application.")


def verify_login(user: User, code: str) -> str:
    """The second step of a login: a current code or an unused recovery code. Returns
    « totp » or « recovery »; a wrong one is counted (``ThrottledRuleError``)."""
    ip = client_ip()
    verdict = throttle.login_verdict(user.email, ip, throttle.SECOND_FACTOR)
    if not verdict.allowed:
        record("mfa.blocked", actor=user, obj=user, wait=verdict.wait)
        raise RuleError(
            too_many_codes()
            if verdict.locked
            else ngettext(
                "Trop de codes incorrects : réessayez dans %(num)d seconde.",
                "Trop de codes incorrects : réessayez dans %(num)d secondes.",
                verdict.wait,
            ),
            "code",
        )
    method = _check_code(user, code)
    user.last_login_at = utcnow()
    record("login.succeeded", actor=user, second_factor=method)
    return method


def _check_code(user: User, code: str) -> str:
    """Accept a TOTP code or consume a recovery code of ``user``, or count the failure."""
    ip = client_ip()
    step = matching_step(user.totp_secret, code, user.totp_last_step)
    if step is not None:
        user.totp_last_step = step
        throttle.record_success(user.email, ip, throttle.SECOND_FACTOR)
        return "totp"
    recovery = db.session.scalar(
        select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == hash_recovery_code(code),
            RecoveryCode.used_at.is_(None),
        )
    )
    if recovery is not None and normalise_recovery_code(code):
        recovery.used_at = utcnow()
        db.session.flush()
        throttle.record_success(user.email, ip, throttle.SECOND_FACTOR)
        record("mfa.recovery_code_used", actor=user, obj=user, left=remaining_recovery_codes(user))
        return "recovery"
    throttle.record_failure(user.email, ip, throttle.SECOND_FACTOR)
    record("mfa.failed", actor=user, obj=user)
    raise ThrottledRuleError(wrong_code(), "code")
