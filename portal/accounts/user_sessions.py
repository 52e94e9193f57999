"""« Mes sessions »: one ``UserSession`` row per login, the idle and absolute timeouts.

- At login (``open_session``) a random token goes into the Flask session (``sid``); the
  row keeps only its SHA-256, with who, when, the browser's User-Agent and the client's
  address (the one ``TRUSTED_PROXIES`` proxies saw, as for the login throttle).
- Every request of a logged-in user (``check_request``, a ``before_request`` hook) finds
  the row: missing or ended (« Terminer » from another device, logout) → logged out with
  a French message; idle longer than ``IDLE_TIMEOUT_MINUTES`` (``..._ADMINS`` for an
  admin of any organisation) or older than ``PERMANENT_SESSION_LIFETIME`` → ended, idem.
- ``last_seen_at`` moves at most once a minute (``TOUCH_SECONDS``): one UPDATE a minute per
  active session, not one per request. The idle timeout is therefore counted to the
  minute (it may strike up to a minute early).
- Background requests do not count as activity (``portal.htmx.is_background``: the
  co-design poll every 3 s, an export's progress every second, the « À faire » count):
  a page left open still times out; they are refused like any other once it has.
- ``User.session_generation`` still ends every session at once (logout, password change,
  deactivation): ``end_all`` marks the rows ended too, so the list stays true.

Like every service they flush and never commit (``check_request`` commits its own write:
it runs before the view).
"""

import functools
import hashlib
import secrets
from datetime import timedelta

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, logout_user
from sqlalchemy import Select, String, bindparam, select, update

from portal import htmx
from portal.accounts.models import User, UserSession
from portal.audit.services import record
from portal.core.time import utcnow
from portal.extensions import db

SESSION_KEY = "sid"
TOUCH_SECONDS = 60
# Requests that never need the session row: files, the health check.
UNCHECKED_ENDPOINTS = frozenset({"static", "core.healthz"})


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def idle_minutes(user: User) -> int:
    """Minutes without activity after which ``user``'s session ends."""
    cfg = current_app.config
    return cfg["IDLE_TIMEOUT_MINUTES_ADMINS" if user.is_any_admin else "IDLE_TIMEOUT_MINUTES"]


def lifetime() -> timedelta:
    """The absolute lifetime of a session, from its login."""
    value = current_app.config["PERMANENT_SESSION_LIFETIME"]
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


def open_session(user: User) -> UserSession:
    """Record a new login of ``user`` on this device; its token goes into the session."""
    token = secrets.token_urlsafe(32)
    row = UserSession(
        user_id=user.id,
        token_hash=_hash(token),
        user_agent=request.headers.get("User-Agent", "")[:300],
        ip=(request.remote_addr or "")[:45],
    )
    db.session.add(row)
    db.session.flush()
    session[SESSION_KEY] = token
    return row


@functools.cache
def _row_by_token(*options) -> Select:
    """The statement of ``current_row`` for these loader options, built once: its token is
    a bound parameter, and building it anew cost as much as running it (issue #16)."""
    return (
        select(UserSession)
        .options(*options)
        .where(UserSession.token_hash == bindparam("token_hash", type_=String))
    )


def current_row(*options) -> UserSession | None:
    """This request's session row, if the session carries a token that names one (loaded
    with ``options``, which must be hashable: loader options built once, at import)."""
    token = session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        return None
    rows = db.session.scalars(_row_by_token(*options), {"token_hash": _hash(token)})
    return rows.unique().one_or_none()  # a joined collection repeats the row; one token, one row


def active_sessions(user: User) -> list[UserSession]:
    """``user``'s sessions still open (not ended, not idle, not too old), latest first."""
    now = utcnow()
    return list(
        db.session.scalars(
            select(UserSession)
            .where(
                UserSession.user_id == user.id,
                UserSession.ended_at.is_(None),
                UserSession.last_seen_at > now - timedelta(minutes=idle_minutes(user)),
                UserSession.created_at > now - lifetime(),
            )
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
    )


def own_session_or_none(user: User, session_id: int) -> UserSession | None:
    """The open session ``session_id`` of ``user``; None for anyone else's (a 404)."""
    row = db.session.get(UserSession, session_id)
    if row is None or row.user_id != user.id or row.ended_at is not None:
        return None
    return row


def _end(row: UserSession, reason: str) -> None:
    row.ended_at = utcnow()
    row.end_reason = reason


def end_session(row: UserSession, *, by: User) -> None:
    """End one session of ``by`` (« Terminer »): it is refused on its next request."""
    _end(row, "ended")
    db.session.flush()
    record("sessions.ended_one", actor=by, obj=by, session_id=row.id)


def end_other_sessions(user: User, keep: UserSession | None) -> int:
    """End every open session of ``user`` but ``keep``; returns how many."""
    rows = [row for row in active_sessions(user) if keep is None or row.id != keep.id]
    for row in rows:
        _end(row, "ended")
    db.session.flush()
    record("sessions.ended_others", actor=user, obj=user, count=len(rows))
    return len(rows)


def end_all(user: User, reason: str) -> None:
    """Mark every open row of ``user`` ended (the session generation was bumped)."""
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason[:40])
    )


def _refuse(message: str):
    """Log out now and send to the login page with ``message`` (htmx: a full navigation)."""
    next_url = request.full_path.rstrip("?") if request.method == "GET" else None
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(message, "error")
    url = url_for("accounts.login", next=None if htmx.is_htmx() else next_url)
    if htmx.is_htmx():
        return htmx.redirect(current_app.response_class(status=204), url)
    return redirect(url)


def check_request():
    """``before_request``: refuse an ended, idle or too old session; note activity."""
    if request.endpoint in UNCHECKED_ENDPOINTS or not current_user.is_authenticated:
        return None
    user = current_user._get_current_object()
    row = g.get("user_session")  # loaded with the user (portal/accounts/access.py)
    if row is None or row.user_id != user.id or row.ended_at is not None:
        return _refuse(_("Cette session a été terminée. Connectez-vous de nouveau pour continuer."))
    now = utcnow()
    idle = idle_minutes(user)
    if now - row.last_seen_at > timedelta(minutes=idle):
        _end(row, "idle")
        record("sessions.idle_timeout", actor=user, obj=user, minutes=idle)
        db.session.commit()
        return _refuse(
            ngettext(
                "Session expirée après %(num)d minute d'inactivité. Connectez-vous de nouveau.",
                "Session expirée après %(num)d minutes d'inactivité. Connectez-vous de nouveau.",
                idle,
            )
        )
    if now - row.created_at > lifetime():
        _end(row, "expired")
        db.session.commit()
        return _refuse(
            _("Session expirée : sa durée maximale est atteinte. Connectez-vous de nouveau.")
        )
    if not htmx.is_background() and now - row.last_seen_at >= timedelta(seconds=TOUCH_SECONDS):
        row.last_seen_at = now
        db.session.commit()
    return None
