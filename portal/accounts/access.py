"""Who is logged in, for which organisation, and what they may do.

The session stores ``user_id:generation`` (see ``User.get_id``); a bumped generation
(logout elsewhere, deactivation, password reset) ends the session on its next request.
"""

from flask import abort, current_app, g, redirect, request, session, url_for
from flask_login import current_user, logout_user
from sqlalchemy.orm import joinedload, selectinload

from portal import htmx
from portal.accounts import mfa, user_sessions
from portal.accounts.models import Membership, Organisation, OrgKind, User, UserSession
from portal.extensions import db, login_manager

# What an admin who must enrol a second factor may still reach: enrolment itself, and
# leaving. Everything else sends them to enrolment first.
ENROLMENT_ENDPOINTS = frozenset(
    {
        "accounts.mfa_settings",
        "accounts.start_mfa",
        "accounts.confirm_mfa",
        "accounts.logout",
        "accounts.set_language",
        "static",
        "core.healthz",
    }
)


# The loader options of every request, built once: a statement's options are immutable
# and composing them anew cost a tenth of a page that shows only the layout (issue #16).
MEMBERSHIPS = selectinload(User.memberships).joinedload(Membership.organisation)
# The session row, its user, and the user's memberships with their organisations in one
# statement: a person has a handful of memberships, and a second statement for them cost
# every page one query more (issue #16).
SESSION_WITH_USER = joinedload(UserSession.user).options(
    joinedload(User.memberships).joinedload(Membership.organisation)
)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Load the user only if the session's generation is still the current one.

    The row of « Mes sessions » comes in the same query as the user (``g.user_session``,
    checked by ``user_sessions.check_request``): the sessions cost no query per request.
    """
    try:
        user_id, generation = (int(part) for part in session_id.split(":"))
    except ValueError:
        return None
    row = user_sessions.current_row(SESSION_WITH_USER)
    g.user_session = row if row is not None and row.user_id == user_id else None
    if g.user_session is not None:
        user = g.user_session.user
    else:  # no such session: the user still loads, to be told why they are logged out
        user = db.session.get(User, user_id, options=[MEMBERSHIPS])
    if user is None or user.session_generation != generation or not user.is_enabled:
        return None
    return user


def load_current_membership() -> None:
    """Pick the current organisation for this request (``g.membership``)."""
    g.membership = None
    if not current_user.is_authenticated:
        return
    memberships = current_user.active_memberships()
    if not memberships:
        # No organisation left: the account can no longer use the portal.
        logout_user()
        session.clear()
        return
    chosen = next((m for m in memberships if m.organisation_id == session.get("org_id")), None)
    g.membership = chosen or memberships[0]
    if session.get("org_id") != g.membership.organisation_id:
        # Written only when it changes: a write marks the session modified, and Flask then
        # signs and sends the cookie again with every response (issue #16).
        session["org_id"] = g.membership.organisation_id


def require_mfa_enrolment():
    """Where a second factor is required (admins, in production), a logged-in admin without
    one is sent to enrolment before anything else (htmx requests by a full navigation)."""
    if (
        not current_user.is_authenticated
        or request.endpoint in ENROLMENT_ENDPOINTS
        or not mfa.must_enrol(current_user)
    ):
        return None
    url = url_for("accounts.mfa_settings")
    if htmx.is_htmx():
        return htmx.redirect(current_app.response_class(status=204), url)
    return redirect(url)


def current_membership() -> Membership | None:
    return g.get("membership")


def current_org() -> Organisation | None:
    membership = current_membership()
    return membership.organisation if membership else None


def acting_for_region() -> bool:
    """The user acts for the Région (current organisation is the Région)."""
    org = current_org()
    return org is not None and org.kind == OrgKind.REGION


def is_region_admin() -> bool:
    membership = current_membership()
    return acting_for_region() and membership is not None and membership.is_admin


def can_manage(organisation: Organisation) -> bool:
    """Admins of the organisation, and the Région's admins for any organisation."""
    membership = current_membership()
    if membership is None:
        return False
    if is_region_admin():
        return True
    return membership.organisation_id == organisation.id and membership.is_admin


def decides_tutors(organisation: Organisation) -> bool:
    """The organisation's own admins decide who among its members is a tutor (DOMAIN:
    « an organisation's admins decide who among their members is a tutor »): the Région's
    admins, who may manage any organisation's members, do not make an employer's tutors."""
    membership = current_membership()
    return (
        organisation.kind == OrgKind.EMPLOYER
        and membership is not None
        and membership.organisation_id == organisation.id
        and membership.is_admin
    )


def can_view_members(organisation: Organisation) -> bool:
    """Members see their own organisation's members; the Région sees every organisation."""
    membership = current_membership()
    if membership is None:
        return False
    return acting_for_region() or membership.organisation_id == organisation.id


def require(allowed: bool) -> None:
    """Abort with 403 unless ``allowed``."""
    if not allowed:
        abort(403)
