"""The person's notifications: list, open, mark as read."""

from flask import abort, redirect, url_for
from flask_login import current_user, login_required
from sqlalchemy import select, update

from portal import htmx
from portal.accounts.forms import EmptyForm
from portal.core.pagination import paginate, requested_page
from portal.core.time import utcnow
from portal.extensions import db
from portal.notifications import bp
from portal.notifications.models import Notification
from portal.notifications.services import unread_count


def _mine():
    return select(Notification).where(Notification.user_id == current_user.id)


@bp.get("/")
@login_required
def list_notifications():
    """Newest first, unread highlighted."""
    pagination = paginate(_mine().order_by(Notification.created_at.desc(), Notification.id.desc()))
    return htmx.render(
        "notifications/list.html",
        "notifications/_list.html",
        notifications=pagination.items,
        pagination=pagination,
        unread=unread_count(current_user),
        button_form=EmptyForm(),
    )


@bp.post("/<int:notification_id>/lecture")
@login_required
def mark_read(notification_id: int):
    """Mark one notification as read (htmx re-renders the list and the header badge)."""
    note = db.session.get(Notification, notification_id)
    if note is None or note.user_id != current_user.id:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if note.read_at is None:
        note.read_at = utcnow()
        db.session.commit()
    return _back_to_list()


@bp.post("/lecture")
@login_required
def mark_all_read():
    """Mark every notification as read."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    db.session.execute(
        update(Notification)
        .where(Notification.user_id == current_user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()
    return _back_to_list()


def _back_to_list():
    """303 to the page of the list the person was on.

    htmx follows the redirect with its HX-Request header and gets the list fragment with the
    out-of-band badge; rendering the list here instead would build the pager's links from this
    POST route's arguments (``?notification_id=…``).
    """
    return redirect(url_for("notifications.list_notifications", page=requested_page()), 303)
