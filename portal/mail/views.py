"""The demo outbox: lets a newcomer follow invitation links without a mail server.

Only in demo mode, never in production, and only for someone logged in: each person reads
the e-mails sent to them, the Région's admins read them all. Anyone else could otherwise
follow a stranger's password reset link.
"""

from flask import abort, current_app, render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.accounts.access import is_region_admin
from portal.core.demo_state import demo_mode
from portal.extensions import db
from portal.mail import bp
from portal.mail.models import OutboxAttachment, OutboxMessage


@bp.get("/demo/courriels")
@login_required
def outbox():
    """The last e-mails of the outbox addressed to the user (all of them for a Région admin)."""
    if not demo_mode() or current_app.config["PORTAL_ENV"] == "production":
        abort(404)
    # The attachments' names only: their bytes stay in the database.
    attachments = selectinload(OutboxMessage.attachments).load_only(
        OutboxAttachment.filename, OutboxAttachment.mimetype
    )
    query = select(OutboxMessage).options(attachments).order_by(OutboxMessage.id.desc()).limit(100)
    everyone = is_region_admin()
    if not everyone:
        query = query.where(func.lower(OutboxMessage.recipient) == current_user.email.lower())
    messages = db.session.scalars(query).all()
    return render_template("mail/outbox.html", messages=messages, everyone=everyone)
