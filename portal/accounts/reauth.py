"""Re-authentication before a sensitive action (issue #17): signing a convention version,
changing the password or the second factor, exporting trainees' personal data.

The session keeps when its user last proved who they are (``auth_at``, epoch seconds): at
login (password, and code where enrolled) and at each confirmation. Past
``REAUTH_MINUTES``, a guarded view sends the user to ``/connexion/confirmer`` (password,
and code where a second factor is enrolled, throttled like a login), which sends them back
to a same-origin path (``safe_next``): the page of the action, or the download itself.

Signing asks in its own form, every time, for the password (the signature's evidence) and
the code where a second factor is enrolled (portal/conventions/signing_views.py): nothing
is asked twice, and a signature refreshes ``auth_at``. Changing the password asks for the
current one in its form: that counts as the password part, so it is guarded only for those
with a second factor, whose code it does not ask (``required(…, password_in_form=True)``).
"""

import time
from urllib.parse import urlsplit

from flask import current_app, redirect, request, session, url_for
from flask_babel import gettext as _

from portal import htmx
from portal.accounts import mfa
from portal.accounts.models import User
from portal.accounts.services import reauthenticate
from portal.audit.services import record
from portal.core.errors import RuleError

AUTH_KEY = "auth_at"


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path of this site (no scheme, host or ``//``), else None: a
    return address never leads elsewhere (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(char) < 32 for char in target)
    ):
        return None
    return target


def mark_authenticated() -> None:
    """The user just proved who they are (login, confirmation)."""
    session[AUTH_KEY] = time.time()


def is_recent() -> bool:
    """The last proof is younger than ``REAUTH_MINUTES``."""
    at = session.get(AUTH_KEY)
    if not isinstance(at, int | float):
        return False
    return time.time() - at <= current_app.config["REAUTH_MINUTES"] * 60


def required(user: User, return_to: str, *, password_in_form: bool = False):
    """None when ``user`` may go on; else the answer that sends them to confirm their
    identity, then back to ``return_to`` (htmx: a full navigation, ``HX-Redirect``)."""
    if is_recent() or (password_in_form and not user.has_totp):
        return None
    url = url_for("accounts.confirm_identity", next=safe_next(return_to))
    if htmx.is_htmx():
        return htmx.redirect(current_app.response_class(status=204), url)
    return redirect(url, 303 if request.method != "GET" else 302)


def confirm(user: User, password: str, code: str) -> None:
    """Check ``user``'s password (and code, where enrolled); failures are counted
    (``ThrottledRuleError``: the view commits the count)."""
    reauthenticate(user, password, wrong=_("Le mot de passe est incorrect."), field="password")
    if user.has_totp:
        if not (code or "").strip():
            raise RuleError(_("Saisissez le code affiché par votre application."), "code")
        mfa.confirm_code(user, code)
    record("login.reauthenticated", actor=user, obj=user)
