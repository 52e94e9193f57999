"""The demo outbox: lets a newcomer follow invitation links without a mail server."""

from flask import abort, current_app, render_template
from sqlalchemy import select

from portal.core.demo_state import demo_mode
from portal.extensions import db
from portal.mail import bp
from portal.mail.models import OutboxMessage


@bp.get("/demo/courriels")
def outbox():
    """List the last e-mails of the outbox; only in demo mode, never in production."""
    if not demo_mode() or current_app.config["PORTAL_ENV"] == "production":
        abort(404)
    messages = db.session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(100)
    ).all()
    return render_template("mail/outbox.html", messages=messages)
