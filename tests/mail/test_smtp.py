"""E-mails over a real SMTP server (aiosmtpd on 127.0.0.1): delivered, retried, never lost."""

import email
import re
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.mail.services import queue_mail, send_pending
from tests.factories import make_org, make_user
from tests.support import CsrfClient, another_app

SENDER = "Portail DEFI <ne-pas-repondre@portail-defi.test>"
SUBJECT = "Invitation à rejoindre l'Organisme Élan — Portail DEFI"
BODY = "Bonjour Amélie,\n\nVoici votre lien : « Portail DEFI », à bientôt.\nÇa marche !\n"


class Inbox:
    """An aiosmtpd handler keeping every message it accepts, parsed."""

    def __init__(self):
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: ARG002 - aiosmtpd hook
        # Stored as a mailbox would: with local line endings instead of the wire's CRLF.
        raw = envelope.content.replace(b"\r\n", b"\n")
        parsed = email.message_from_bytes(raw, policy=policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """An SMTP server on a port of its own, which a test starts and stops at will."""

    def __init__(self):
        self.port = free_port()
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp():
    """The SMTP server, not started yet: nothing listens on its port until ``start()``."""
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def mail_app(smtp, database_url):
    """A second app on the shared database, sending through ``smtp``."""
    with another_app(
        database_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_TIMEOUT=5
    ) as application:
        application.test_client_class = CsrfClient
        yield application


def stored(message_id: int) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


def test_a_queued_message_is_delivered_with_its_accents(smtp, mail_app):
    smtp.start()
    with mail_app.app_context():
        message_id = queue_mail("amelie.roux@example.fr", SUBJECT, BODY).id
        db.session.commit()
        assert send_pending() == (1, 0)
        sent = stored(message_id)
        assert sent.sent_at is not None
        assert (sent.attempts, sent.last_error) == (1, "")
        assert send_pending() == (0, 0)  # nothing left to send

    [(recipients, received)] = smtp.inbox.messages
    assert recipients == ["amelie.roux@example.fr"]
    assert received["To"] == "amelie.roux@example.fr"
    assert received["From"] == SENDER
    assert received["Subject"] == SUBJECT
    assert received["Message-ID"].endswith("@portail-defi>")
    assert received.get_content_type() == "text/plain"
    assert received.get_content_charset() == "utf-8"
    assert received.get_content() == BODY


def test_a_failed_message_stays_in_the_outbox_until_the_cli_sends_it(smtp, mail_app):
    smtp.start()
    with mail_app.app_context():
        first_id = queue_mail("amelie.roux@example.fr", "Premier", "Premier message.\n").id
        db.session.commit()
        assert send_pending() == (1, 0)
    smtp.stop()

    with mail_app.app_context():
        message_id = queue_mail("amelie.roux@example.fr", SUBJECT, BODY).id
        db.session.commit()
        assert send_pending() == (0, 1)
        failed = stored(message_id)
        assert failed.sent_at is None and failed.attempts == 1
        assert failed.last_error.startswith("ConnectionRefusedError")

    runner = mail_app.test_cli_runner()
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 1
    assert "0 envoyé(s), 1 en échec (conservé(s) pour un nouvel essai)." in result.output
    with mail_app.app_context():
        assert stored(message_id).attempts == 2

    smtp.start()
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert "1 envoyé(s), 0 en échec" in result.output
    with mail_app.app_context():
        delivered = stored(message_id)
        assert delivered.sent_at is not None
        assert (delivered.attempts, delivered.last_error) == (3, "")
        assert stored(first_id).attempts == 1  # never sent twice
    assert [m["Subject"] for _to, m in smtp.inbox.messages] == ["Premier", SUBJECT]
    assert smtp.inbox.messages[1][1].get_content() == BODY


def test_forgot_password_mail_is_received_once_the_response_is_closed(smtp, mail_app):
    smtp.start()
    with mail_app.app_context():
        user = make_user(make_org(), email="helene.mercier@example.fr", first_name="Hélène")
        db.session.commit()
        user_email = user.email
    client = mail_app.test_client()

    response = client.post("/mot-de-passe-oublie", data={"email": "Helene.Mercier@Example.fr"})
    assert response.status_code == 302
    # The e-mail leaves after the response: the test client has not closed it yet.
    assert smtp.inbox.messages == []
    response.close()

    [(recipients, received)] = smtp.inbox.messages
    assert recipients == [user_email]
    assert received["Subject"] == "Réinitialisation de votre mot de passe — Portail DEFI"
    body = received.get_content()
    assert body.startswith("Bonjour Hélène,")
    token = re.search(r"http://portail.test/mot-de-passe/(\S+)", body).group(1)
    assert client.get(f"/mot-de-passe/{token}").status_code == 200
    with mail_app.app_context():
        [message] = db.session.scalars(select(OutboxMessage)).all()
        assert message.sent_at is not None and message.attempts == 1

    # An unknown address gets the same answer and no e-mail.
    response = client.post("/mot-de-passe-oublie", data={"email": "personne@example.fr"})
    response.close()
    assert response.status_code == 302
    assert len(smtp.inbox.messages) == 1


def test_without_smtp_messages_wait_in_the_outbox(app):
    with app.app_context():
        message_id = queue_mail("amelie.roux@example.fr", SUBJECT, BODY).id
        db.session.commit()
        assert send_pending() == (0, 0)
        assert stored(message_id).attempts == 0
    result = app.test_cli_runner().invoke(args=["mail", "send"])
    assert result.exit_code == 1
    assert "MAIL_SERVER n'est pas défini : aucun envoi possible." in result.output


def test_a_message_that_cannot_be_built_never_blocks_the_queue(smtp, mail_app):
    """Issue #11 M7: a CR/LF/U+2028 in a title made ``EmailMessage`` raise a ValueError that
    ``mail send`` did not catch, blocking every later mail."""
    smtp.start()
    with mail_app.app_context():
        # Stored as older code queued them: a line break in the subject, a broken header.
        stored_subject = OutboxMessage(
            recipient="amelie.roux@example.fr", subject="Opération\r\nSaran\u2028bis", body="1\n"
        )
        broken = OutboxMessage(
            recipient="amelie.roux@example.fr\r\nBcc: x@example.fr", subject="2", body="2\n"
        )
        db.session.add_all([stored_subject, broken])
        db.session.flush()
        later = queue_mail("amelie.roux@example.fr", "Titre\ntapé\u2028avec retour", "3\n")
        db.session.commit()
        ids = stored_subject.id, broken.id, later.id
        assert later.subject == "Titre tapé avec retour"  # collapsed when queued

    result = mail_app.test_cli_runner().invoke(args=["mail", "send"])
    assert "2 envoyé(s), 1 en échec" in result.output
    with mail_app.app_context():
        first, failed, last = (stored(i) for i in ids)
        assert first.sent_at is not None and last.sent_at is not None
        assert failed.sent_at is None and failed.attempts == 1
        assert failed.last_error.startswith("Cannot build the message:")
    assert [m["Subject"] for _to, m in smtp.inbox.messages] == [
        "Opération Saran bis",
        "Titre tapé avec retour",
    ]
