"""Changing one's login address (issue #17: re-authentication before changing an email):
asked from « Mon compte » with the current password, confirmed by a single-use link mailed
to the new address, the old address told twice; the answer never says whether another
account uses the new address."""

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts import email_changes, resets
from portal.accounts.models import EmailChange, PasswordReset, User
from portal.audit.models import AuditEvent
from portal.core.time import utcnow
from portal.extensions import db
from portal.mail.models import OutboxMessage
from tests.support import PASSWORD, form_login, login_as, text

ASK = "/compte/adresse"
NEW = "lea.nouvelle@example.fr"
LINK = re.compile(r"http://\S+/compte/nouvelle-adresse/(\S+)")


def ask(client, email=NEW, password=PASSWORD):
    return client.post(ASK, data={"address-email": email, "address-current_password": password})


def mails(app, recipient: str) -> list[OutboxMessage]:
    with app.app_context():
        return db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.recipient == recipient)
            .order_by(OutboxMessage.id)
        ).all()


def link_in(app, recipient: str) -> str:
    """The confirmation path of the last mail to ``recipient``."""
    found = LINK.search(mails(app, recipient)[-1].body)
    assert found, mails(app, recipient)[-1].body
    return f"/compte/nouvelle-adresse/{found.group(1)}"


def email_of(app, user_id: int) -> str:
    with app.app_context():
        return db.session.get(User, user_id).email


def changes(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(EmailChange))


@pytest.fixture
def member(client, world):
    login_as(client, world.a_member)
    return world.a_member


# --- Asking -------------------------------------------------------------------------------


def test_the_account_page_offers_the_change(client, member):
    page = text(client.get("/compte"))
    assert "Changer d'adresse électronique" in page
    assert 'id="address-email"' in page and 'id="address-current_password"' in page


def test_asking_mails_a_link_to_the_new_address_and_tells_the_old_one(app, client, member):
    old = email_of(app, member)
    response = ask(client, email="  Lea.Nouvelle@Example.fr ")
    assert response.status_code == 303
    page = text(client.get("/compte"))
    assert f"Un lien de confirmation a été envoyé à {NEW}" in page
    assert email_of(app, member) == old  # nothing changes before the link is opened
    assert link_in(app, NEW).startswith("/compte/nouvelle-adresse/")
    notice = mails(app, old)[-1]
    assert notice.subject == "Demande de changement d'adresse — Portail DEFI"
    assert NEW in notice.body and "changez votre mot de passe" in notice.body
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "account.email_change_requested")
        ).one()
        assert (event.actor_id, event.detail["new_email"]) == (member, NEW)


def test_a_wrong_password_is_refused_in_french_and_counted(app, client, member):
    response = ask(client, password="pas le bon mot de passe")
    assert response.status_code == 422
    body = text(response)
    assert "Mot de passe incorrect." in body
    assert f'value="{NEW}"' in body  # what was typed stays
    assert changes(app) == 0 and mails(app, NEW) == []
    for _ in range(4):
        ask(client, password="toujours pas")
    locked = ask(client)  # the right password, after five failures from this address
    assert locked.status_code == 422
    assert "Trop de tentatives" in text(locked)


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Ce champ est obligatoire."),
        ("pas-une-adresse", "Saisissez une adresse électronique valide"),
        ("A.Member@example.fr", "C'est déjà votre adresse de connexion."),
    ],
)
def test_bad_addresses_are_refused_in_french(app, client, member, email, message):
    response = ask(client, email=email)
    assert response.status_code == 422
    assert message in text(response)
    assert changes(app) == 0


def test_an_address_taken_by_another_account_gets_the_same_answer_but_no_link(
    app, client, member, world
):
    taken = world.emails["b_admin"]
    response = ask(client, email=taken)
    assert response.status_code == 303  # the same answer as for a free address
    assert f"Un lien de confirmation a été envoyé à {taken}" in client.get("/compte").get_data(
        as_text=True
    )
    explanation = mails(app, taken)[-1]
    assert explanation.subject == "Changement d'adresse impossible — Portail DEFI"
    assert not LINK.search(explanation.body)
    with app.app_context():
        change = db.session.scalars(select(EmailChange)).one()
        assert change.expires_at <= utcnow()  # nothing can confirm it


def test_at_most_three_requests_an_hour(app, client, member):
    for n in range(3):
        assert ask(client, email=f"essai{n}@example.fr").status_code == 303
    refused = ask(client, email="essai9@example.fr")
    assert refused.status_code == 422
    assert "plusieurs changements d'adresse dans l'heure" in text(refused)
    assert mails(app, "essai9@example.fr") == []


def test_anonymous_and_csrf_less_requests_are_refused(app, client, world):
    anonymous = ask(client)
    assert anonymous.status_code == 302
    assert "/connexion" in anonymous.headers["Location"]
    login_as(client, world.a_member)
    bare = client.post(
        ASK, data={"address-email": NEW, "address-current_password": PASSWORD}, csrf=False
    )
    assert bare.status_code == 400
    assert changes(app) == 0 and mails(app, NEW) == []


# --- Confirming ---------------------------------------------------------------------------


def test_confirming_changes_the_address_ends_other_sessions_and_tells_the_old_one(
    app, client, other_client, world
):
    old = world.emails["a_member"]
    form_login(client, old)
    form_login(other_client, old)
    with app.test_request_context():
        resets.request_password_reset(old)  # mailed to the old address: must die
        db.session.commit()
    ask(client)
    link = link_in(app, NEW)
    page = client.get(link)
    assert page.status_code == 200
    body = text(page)
    assert f"Votre adresse de connexion deviendra {NEW}" in body
    assert email_of(app, world.a_member) == old  # a GET changes nothing
    done = client.post(link)
    assert done.status_code == 303
    assert "Votre adresse de connexion est désormais" in client.get("/compte").get_data(
        as_text=True
    )
    assert email_of(app, world.a_member) == NEW
    assert other_client.get("/compte").status_code == 302  # the other session ended
    told = mails(app, old)[-1]
    assert told.subject == "Votre adresse de connexion a changé — Portail DEFI"
    with app.app_context():
        assert all(
            r.expires_at <= utcnow() or r.used_at for r in db.session.scalars(select(PasswordReset))
        )
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "account.email_changed")
        ).one()
        assert (event.detail["old_email"], event.detail["new_email"]) == (old, NEW)
    client.post("/deconnexion")
    assert form_login(client, NEW).status_code == 302  # the new address logs in
    assert client.post(link).status_code == 410  # single use


def test_the_link_is_only_for_the_person_who_asked(app, client, other_client, world):
    login_as(client, world.a_member)
    ask(client)
    link = link_in(app, NEW)
    login_as(other_client, world.b_admin)
    assert other_client.get(link).status_code == 404
    assert other_client.post(link).status_code == 404
    assert email_of(app, world.a_member) == world.emails["a_member"]
    assert email_of(app, world.b_admin) == world.emails["b_admin"]


def test_an_anonymous_visitor_is_sent_to_login_and_back(app, client, other_client, world):
    login_as(client, world.a_member)
    ask(client)
    link = link_in(app, NEW)
    response = other_client.get(link)
    assert response.status_code == 302
    assert "/connexion" in response.headers["Location"]


def test_a_newer_request_or_the_delay_ends_a_link(app, client, member):
    ask(client)
    first = link_in(app, NEW)
    ask(client, email="autre.adresse@example.fr")
    outdated = client.get(first)
    assert outdated.status_code == 410
    assert "une demande plus récente l'a remplacé" in text(outdated)
    second = link_in(app, "autre.adresse@example.fr")
    with app.app_context():
        for change in db.session.scalars(select(EmailChange)):
            change.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert client.post(second).status_code == 410
    assert client.get("/compte/nouvelle-adresse/inconnu").status_code == 404


def test_an_address_taken_meanwhile_is_refused_at_confirmation(app, client, member):
    ask(client)
    link = link_in(app, NEW)
    with app.app_context():
        db.session.add(User(email=NEW, first_name="Homonyme", last_name="Test", password_hash="x"))
        db.session.commit()
    refused = client.post(link)
    assert refused.status_code == 410
    assert "celle d'un autre compte" in text(refused)
    assert email_of(app, member) == "a.member@example.fr"


def test_two_confirmations_at_once_change_the_address_once(app, world):
    """Two tabs confirming the same link at once: one change, one audit event, and the
    other is told the link was used (the user row is locked, the link read again)."""
    with app.test_request_context():
        user = db.session.get(User, world.a_member)
        email_changes.request_email_change(user, NEW, PASSWORD)
        db.session.commit()
        change_id = db.session.scalar(select(EmailChange.id))
    barrier = threading.Barrier(2)
    outcomes = []

    def confirm():
        with app.test_request_context():
            change = db.session.get(EmailChange, change_id)
            user = db.session.get(User, world.a_member)
            barrier.wait()
            try:
                email_changes.confirm_email_change(change, user)
                db.session.commit()
                outcomes.append("changed")
            except Exception as exc:  # noqa: BLE001 - the refusal is the outcome
                db.session.rollback()
                outcomes.append(type(exc).__name__)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["RuleError", "changed"]
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "account.email_changed")
            )
            == 1
        )
