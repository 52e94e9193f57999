"""Command-line verbs: the demo data (never in production) and the demo logins."""

import re

import pytest
from sqlalchemy import func, select

from portal import ROOT
from portal.accounts import services
from portal.accounts.models import Membership, Organisation, OrgKind, Territory, User
from portal.demo import DEMO_LOGINS, DEMO_PASSWORD
from portal.extensions import db
from portal.mail.models import OutboxMessage
from tests.factories import make_org
from tests.support import another_app

DEMO_EMAILS = [email for email, _role in DEMO_LOGINS]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def readme_logins() -> list[str]:
    """The demo accounts the README tells people to use."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"`([\w.]+@demo\.defi\.test)`", text)


def test_demo_if_empty_loads_the_french_demo_data_and_its_documented_logins_work(app):
    """One real load (seconds) serves every check of it: `make run`'s `demo --if-empty` on an
    empty database loads the demo; the plain `demo` shares that path, and both refuse or skip
    a database with data (the tests below, on a one-row database)."""
    result = app.test_cli_runner().invoke(args=["demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert f"Données de démonstration chargées ({len(DEMO_LOGINS)} comptes)." in result.output

    with app.test_request_context():
        # Organisations with members (the demo operations may also add invited ones).
        kinds = dict(
            db.session.execute(
                select(Organisation.kind, func.count(Organisation.id.distinct()))
                .join(Membership)
                .where(Membership.active.is_(True))
                .group_by(Organisation.kind)
            ).all()
        )
        assert kinds == {
            OrgKind.REGION: 1,
            OrgKind.PROVIDER: 2,
            OrgKind.EMPLOYER: 5,
            OrgKind.PARTNER: 2,
        }
        territories = db.session.scalars(select(Territory)).all()
        assert len(territories) == 8
        referents = {t.code: t.referent.email for t in territories if t.referent}
        assert referents == {
            "ORL": "referent.orleans@demo.defi.test",
            "TRS": "referente.tours@demo.defi.test",
        }
        # Links in e-mails queued from the command line point to PUBLIC_URL.
        bodies = db.session.scalars(select(OutboxMessage.body)).all()
        links = [link for body in bodies for link in re.findall(r"https?://\S+", body)]
        assert sum("/invitation/" in link for link in links) >= 3
        assert all(link.startswith("http://portail.test/") for link in links)

        # Every demo account logs in with the common password; the README names some.
        documented = readme_logins()
        assert len(documented) >= 5
        assert set(documented) <= set(DEMO_EMAILS)
        for email in DEMO_EMAILS:
            user = services.authenticate(email, DEMO_PASSWORD)
            assert user.email == email and user.active_memberships()
        db.session.rollback()

    again = app.test_cli_runner().invoke(args=["demo", "--if-empty"])
    assert again.exit_code == 0
    assert "démonstration non rechargée" in again.output


def test_demo_logins_lists_the_accounts_and_password(app):
    result = app.test_cli_runner().invoke(args=["demo-logins"])
    assert result.exit_code == 0
    assert f"mot de passe commun : {DEMO_PASSWORD}" in result.output
    assert all(email in result.output for email in DEMO_EMAILS)


def test_demo_if_empty_does_nothing_on_a_database_with_data(app):
    with app.app_context():
        make_org(OrgKind.REGION, "Région Centre-Val de Loire")
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["demo", "--if-empty"])
    assert result.exit_code == 0
    assert "La base contient déjà des données : démonstration non rechargée." in result.output
    with app.app_context():
        assert (count(Organisation), count(User)) == (1, 0)


def test_demo_refuses_a_database_with_data(app):
    with app.app_context():
        make_org()
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 1
    assert "La base n'est pas vide : démonstration non chargée." in result.output
    with app.app_context():
        assert (count(Organisation), count(User)) == (1, 0)


@pytest.fixture
def production_app(database_url):
    """A production app on the (empty) test database, with a real secret key and address."""
    with another_app(
        database_url, PORTAL_ENV="production", PUBLIC_URL="https://portail.test"
    ) as application:
        yield application


def test_demo_is_refused_in_production(production_app):
    for args in (["demo"], ["demo", "--if-empty"]):
        result = production_app.test_cli_runner().invoke(args=args)
        assert result.exit_code == 1
        assert "Les données de démonstration sont refusées en production." in result.output
    with production_app.app_context():
        assert count(User) == 0


def test_the_audit_and_reminder_commands_are_documented(app):
    runner = app.test_cli_runner()
    audit = runner.invoke(args=["audit", "--help"])
    assert audit.exit_code == 0 and "verify" in audit.output
    assert "Journal d'audit chaîné." in audit.output
    send = runner.invoke(args=["reminders", "send", "--help"])
    assert send.exit_code == 0 and "cron" in send.output
