"""Password resets: ask for a link (the answer never says whether the account exists) and
choose a new password from it, which ends every open session.

They ``flush()`` and never commit: the view commits once per request.
"""

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts import throttle
from portal.accounts.models import PasswordReset, User
from portal.accounts.passwords import hash_password, password_problems
from portal.accounts.services import (
    _find_link,
    client_ip,
    end_all_sessions,
    new_token,
    normalize_email,
    revoke_password_resets,
    user_by_email,
)
from portal.audit.services import record
from portal.core.errors import RuleError
from portal.core.time import utcnow
from portal.core.urls import absolute_url
from portal.extensions import db
from portal.mail.services import queue_mail


def request_password_reset(email: str) -> None:
    """Send a reset link if the account exists; say nothing either way (no enumeration).

    Throttled: an IP asking too often is refused (``RuleError``); an address asked for too
    often gets no more links in the window, silently (the answer must not tell whether the
    account exists). A new link revokes the older ones.
    """
    email = normalize_email(email)
    ip = client_ip()
    for_address, from_ip = throttle.reset_requests(email, ip)
    if from_ip >= current_app.config["RESET_MAX_PER_IP"]:
        record("password_reset.refused", email=email)
        raise RuleError(
            _("Trop de demandes depuis votre adresse réseau : réessayez dans quelques minutes.")
        )
    throttle.count_reset_request(email, ip)
    if for_address >= current_app.config["RESET_MAX_PER_EMAIL"]:
        record("password_reset.throttled", email=email)
        return
    user = user_by_email(email)
    if user is None or not user.is_enabled:
        record("password_reset.unknown", email=email)
        return
    revoke_password_resets(user)
    token, token_hash = new_token()
    reset = PasswordReset(
        user=user,
        token_hash=token_hash,
        expires_at=utcnow() + timedelta(days=current_app.config["PASSWORD_RESET_DAYS"]),
    )
    db.session.add(reset)
    db.session.flush()
    link = absolute_url("accounts.reset_password", token=token)
    queue_mail(
        user.email,
        _("Réinitialisation de votre mot de passe — Portail DEFI"),
        _(
            "Bonjour %(name)s,\n\nUne réinitialisation du mot de passe de votre compte a été "
            "demandée. Pour choisir un nouveau mot de passe, ouvrez ce lien (valable %(days)d "
            "jours, une seule fois) :\n%(link)s\n\nSi vous n'êtes pas à l'origine de cette "
            "demande, ignorez ce message : votre mot de passe reste inchangé.\n",
            name=user.first_name,
            days=current_app.config["PASSWORD_RESET_DAYS"],
            link=link,
        ),
    )
    record("password_reset.requested", actor=user, obj=reset)


def find_password_reset(token: str) -> tuple[PasswordReset | None, str | None]:
    """The reset for ``token`` and, if it cannot be used, why."""
    return _find_link(PasswordReset, token, "used_at")


def reset_password(reset: PasswordReset, password: str) -> User:
    """Set a new password from a reset link; every open session of the user ends."""
    problems = password_problems(password, reset.user.email)
    if problems:
        raise RuleError(problems[0], "password")
    reset.user.password_hash = hash_password(password)
    now = utcnow()
    # Every other link still pending for this account dies with this one.
    for other in db.session.scalars(
        select(PasswordReset).where(
            PasswordReset.user_id == reset.user_id, PasswordReset.used_at.is_(None)
        )
    ):
        other.used_at = now
    throttle.record_success(reset.user.email, client_ip())
    end_all_sessions(reset.user, reason="password_reset")
    record("password_reset.done", actor=reset.user, obj=reset)
    return reset.user
