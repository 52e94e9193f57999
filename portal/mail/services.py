"""Queue e-mails in the outbox and deliver them over SMTP, never losing one.

One message that cannot be built (a header holding a line break, stored before subjects
were cleaned) is marked failed with its reason and the others still leave: a poisoned
message must never block the queue behind it.
"""

import smtplib
import ssl
from collections.abc import Iterable
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app, g
from sqlalchemy import select, update

from portal.core.text import clean_line, clean_text
from portal.core.time import utcnow
from portal.extensions import db
from portal.mail.models import OutboxAttachment, OutboxMessage

# (file name, media type with its parameters, content)
Attachment = tuple[str, str, bytes]


def queue_mail(
    recipient: str, subject: str, body: str, attachments: Iterable[Attachment] = ()
) -> OutboxMessage:
    """Store an e-mail in the outbox; it is sent after the request, or by ``flask mail send``.

    The subject is one line (a title typed with a line break would break the header).
    ``attachments`` are stored with it, as ``(file name, media type, bytes)``.
    """
    message = OutboxMessage(
        recipient=clean_line(recipient).strip(),
        subject=clean_line(subject)[:250],
        body=clean_text(body, multiline=True),
        attachments=[
            OutboxAttachment(filename=name, mimetype=mimetype, data=data)
            for name, mimetype, data in attachments
        ],
    )
    db.session.add(message)
    db.session.flush()
    g.setdefault("queued_mail_ids", []).append(message.id)
    return message


def smtp_configured() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


class MessageError(Exception):
    """An outbox message that cannot be turned into an e-mail (its cause is chained)."""


def build_email(message: OutboxMessage) -> EmailMessage:
    """The e-mail of an outbox message; raises ``MessageError`` when it cannot be one."""
    try:
        email = EmailMessage()
        email["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
        email["To"] = message.recipient
        # Cleaned again: messages queued before subjects were cleaned may hold a line break.
        email["Subject"] = clean_line(message.subject)
        email["Message-ID"] = make_msgid(domain="portail-defi")
        # Quoted-printable keeps accents 7-bit clean for servers without 8BITMIME.
        email.set_content(message.body, cte="quoted-printable")
        for attachment in message.attachments:
            _attach(email, attachment)
    except (ValueError, TypeError) as exc:  # e.g. a header with a line break, a lone surrogate
        raise MessageError(str(exc)) from exc
    return email


def _attach(email: EmailMessage, attachment: OutboxAttachment) -> None:
    """Add a stored file to the e-mail, its media type's parameters kept (an invitation's
    ``method=REQUEST`` is what calendars read)."""
    media, *parameters = (part.strip() for part in attachment.mimetype.split(";"))
    maintype, _slash, subtype = media.partition("/")
    params = dict(p.partition("=")[::2] for p in parameters if "=" in p)
    email.add_attachment(
        attachment.data,
        maintype=maintype,
        subtype=subtype,
        filename=attachment.filename,
        params=params,
    )


def _deliver(email: EmailMessage) -> None:
    cfg = current_app.config
    timeout = cfg["MAIL_TIMEOUT"]
    if cfg["MAIL_USE_SSL"]:
        smtp = smtplib.SMTP_SSL(
            cfg["MAIL_SERVER"],
            cfg["MAIL_PORT"],
            timeout=timeout,
            context=ssl.create_default_context(),
        )
    else:
        smtp = smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=timeout)
    with smtp:
        if cfg["MAIL_USE_TLS"] and not cfg["MAIL_USE_SSL"]:
            smtp.starttls(context=ssl.create_default_context())
        if cfg["MAIL_USERNAME"]:
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
        smtp.send_message(email)


def send_pending(ids: list[int] | None = None, limit: int = 200) -> tuple[int, int]:
    """Try to send unsent messages (all, or ``ids``); return (sent, failed). Commits each one."""
    if not smtp_configured():
        return 0, 0
    query = select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None))
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    candidates = db.session.scalars(query.order_by(OutboxMessage.id).limit(limit)).all()
    sent = failed = 0
    for message_id in candidates:
        message = db.session.get(OutboxMessage, message_id)
        # Claim the message: another worker or a cron run may be sending the same outbox.
        claimed = db.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.attempts == message.attempts,
            )
            .values(attempts=OutboxMessage.attempts + 1)
        ).rowcount
        db.session.commit()
        if not claimed:
            continue
        try:
            _deliver(build_email(message))
        except MessageError as exc:
            message.last_error = f"Cannot build the message: {exc.__cause__!r}"[:500]
            failed += 1
        except (OSError, smtplib.SMTPException) as exc:
            message.last_error = f"{type(exc).__name__}: {exc}"[:500]
            failed += 1
        else:
            message.sent_at = utcnow()
            message.last_error = ""
            sent += 1
        db.session.commit()
    return sent, failed
