"""Changing one's login address (issue #17: re-authentication before changing an email).

The person asks from « Mon compte » with their current password (and, past
``REAUTH_MINUTES``, their second factor: ``reauth.required``); a single-use link goes to
the new address, which proves it is theirs; the old address is told at once, and again
when the change is made. Until the link is confirmed the login address stays the old one.

The answer never says whether another account already uses the new address (that would
let any logged-in person probe the directory): that address then receives an explanation
instead of a link, and the request ends there. Each request mails an address, so a person
may make only ``EMAIL_CHANGE_MAX_PER_HOUR`` of them an hour.

They ``flush()`` and never commit: the view commits once per request.
"""

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import EmailChange, User
from portal.accounts.services import (
    _find_link,
    end_all_sessions,
    new_token,
    normalize_email,
    reauthenticate,
    revoke_password_resets,
    revoke_pending_links,
    user_by_email,
)
from portal.audit.services import record
from portal.core.errors import RuleError
from portal.core.locking import lock
from portal.core.time import utcnow
from portal.core.urls import absolute_url
from portal.extensions import db
from portal.mail.services import queue_mail


def _revoke_pending(user: User) -> None:
    """End the user's address links still pending."""
    revoke_pending_links(EmailChange, user)


def request_email_change(user: User, new_email: str, password: str) -> EmailChange:
    """Mail a confirmation link to ``new_email`` (or, if another account uses it, an
    explanation) and tell the current address. Raises ``RuleError`` (French) on a wrong
    password (counted like a failed login), the same address, or too many requests."""
    reauthenticate(user, password, wrong=_("Mot de passe incorrect."), field="current_password")
    new_email = normalize_email(new_email)
    if new_email == normalize_email(user.email):
        raise RuleError(_("C'est déjà votre adresse de connexion."), "email")
    lock(user)  # two requests at once count each other
    hour_ago = utcnow() - timedelta(hours=1)
    recent = db.session.scalar(
        select(func.count()).where(
            EmailChange.user_id == user.id, EmailChange.created_at > hour_ago
        )
    )
    if recent >= current_app.config["EMAIL_CHANGE_MAX_PER_HOUR"]:
        raise RuleError(
            _(
                "Vous avez demandé plusieurs changements d'adresse dans l'heure : "
                "réessayez plus tard ou utilisez le dernier lien reçu."
            ),
            "email",
        )
    _revoke_pending(user)
    token, token_hash = new_token()
    hours = current_app.config["EMAIL_CHANGE_HOURS"]
    change = EmailChange(
        user=user,
        new_email=new_email,
        token_hash=token_hash,
        expires_at=utcnow() + timedelta(hours=hours),
    )
    db.session.add(change)
    db.session.flush()
    taken = user_by_email(new_email) is not None
    if taken:
        change.expires_at = change.created_at  # nothing to confirm: the link is never sent
        queue_mail(
            new_email,
            _("Changement d'adresse impossible — Portail DEFI"),
            _(
                "Bonjour,\n\nUne personne connectée au Portail DEFI a demandé que cette adresse "
                "devienne son adresse de connexion. Elle est déjà celle d'un compte du "
                "portail : elle ne peut pas être reprise par un autre.\n\nSi vous êtes à "
                "l'origine de la demande, connectez-vous avec cette adresse, ou choisissez-en "
                "une autre. Sinon, vous n'avez rien à faire.\n"
            ),
        )
    else:
        queue_mail(
            new_email,
            _("Confirmez votre nouvelle adresse — Portail DEFI"),
            _(
                "Bonjour %(name)s,\n\nVous avez demandé que cette adresse devienne votre "
                "adresse de connexion au Portail DEFI. Pour confirmer, ouvrez ce lien (valable "
                "%(hours)d heures, une seule fois) et connectez-vous :\n%(link)s\n\nSi vous "
                "n'êtes pas à l'origine de cette demande, ignorez ce message.\n",
                name=user.first_name,
                hours=hours,
                link=absolute_url("accounts.confirm_email_change", token=token),
            ),
        )
    queue_mail(
        user.email,
        _("Demande de changement d'adresse — Portail DEFI"),
        _(
            "Bonjour %(name)s,\n\nUn changement de l'adresse de connexion de votre compte vers "
            "%(new)s vient d'être demandé. Votre adresse ne change qu'une fois le lien envoyé "
            "à la nouvelle adresse confirmé.\n\nSi vous n'êtes pas à l'origine de cette "
            "demande, changez votre mot de passe sans attendre (« Mon compte ») et terminez "
            "vos autres sessions.\n",
            name=user.first_name,
            new=new_email,
        ),
    )
    record("account.email_change_requested", actor=user, obj=change, new_email=new_email)
    return change


def find_email_change(token: str):
    """The request for ``token`` and, if it cannot be used, why (``LinkProblem``)."""
    return _find_link(EmailChange, token, "used_at")


def confirm_email_change(change: EmailChange, user: User) -> str:
    """Make ``change.new_email`` the login address of ``user`` (who must be the person who
    asked); every other session ends, pending links die, the old address is told. Returns
    the old address."""
    if change.user_id != user.id:
        raise RuleError(
            _(
                "Ce lien a été demandé depuis un autre compte : connectez-vous avec le compte "
                "qui a demandé le changement."
            )
        )
    lock(user)
    db.session.refresh(change)
    if change.used_at is not None:
        raise RuleError(_("Ce lien a déjà été utilisé : il ne sert qu'une fois."))
    if user_by_email(change.new_email) is not None:
        raise RuleError(
            _("Cette adresse est devenue celle d'un autre compte : elle ne peut plus être prise.")
        )
    old_email = user.email
    now = utcnow()
    try:
        with db.session.begin_nested():
            user.email = change.new_email
            change.used_at = now
            db.session.flush()
    except IntegrityError as exc:  # the address was taken by an account created meanwhile
        raise RuleError(
            _("Cette adresse est devenue celle d'un autre compte : elle ne peut plus être prise.")
        ) from exc
    _revoke_pending(user)
    revoke_password_resets(user)  # they were mailed to the old address
    end_all_sessions(user, reason="email_changed")
    queue_mail(
        old_email,
        _("Votre adresse de connexion a changé — Portail DEFI"),
        _(
            "Bonjour %(name)s,\n\nL'adresse de connexion de votre compte est désormais "
            "%(new)s : les messages du portail y seront envoyés. Vos autres sessions ont été "
            "fermées.\n\nSi vous n'êtes pas à l'origine de ce changement, prévenez sans "
            "attendre l'administrateur·rice de votre organisation ou la Région.\n",
            name=user.first_name,
            new=change.new_email,
        ),
    )
    record(
        "account.email_changed",
        actor=user,
        obj=user,
        old_email=old_email,
        new_email=change.new_email,
    )
    return old_email
