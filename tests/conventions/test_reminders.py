"""Reminding pending signers: by hand (anyone in the operation, once a day per party) and
on schedule (after N days, then every 48 h counting any reminder), and the cron command
``flask --app portal reminders send``."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.config import load_config
from portal.conventions import reminders
from portal.conventions import services as conventions
from portal.conventions.models import DesignatedSigner, SignatureReminder
from portal.core.errors import RuleError
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.notifications.models import Notification
from portal.operations import lifecycle
from portal.operations.models import OperationEvent
from tests.conventions.factories import make_convention_ready, sign_all, sign_as

SUBJECT = "Rappel : convention DEFI à signer"


@pytest.fixture
def ready(ctx):
    return make_convention_ready()


@pytest.fixture
def version(ready):
    return ready.submit()


def at(version, **delta) -> datetime:
    """A moment after the version's submission."""
    return version.submitted_at + timedelta(**delta)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def reminded(version) -> list[tuple[int, str]]:
    """(organisation id, kind) of each reminder of ``version``, in order."""
    rows = db.session.execute(
        select(SignatureReminder.organisation_id, SignatureReminder.kind)
        .where(SignatureReminder.version_id == version.id)
        .order_by(SignatureReminder.id)
    ).all()
    return [tuple(row) for row in rows]


def freeze(monkeypatch, moment: datetime) -> None:
    """Make the manual reminder believe it is ``moment`` (UTC)."""
    monkeypatch.setattr(reminders, "utcnow", lambda: moment)


# --- Manual reminders ---------------------------------------------------------------------


def test_a_manual_reminder_reaches_the_designated_signer(ready, version):
    market = ready.market
    reminder = reminders.send_manual_reminder(
        version, market.employer.id, by=market.partner_user, by_org=market.partner
    )
    assert (reminder.kind, reminder.user_id, reminder.sent_by_id) == (
        "manual",
        market.employer_user.id,
        market.partner_user.id,
    )
    [note] = db.session.scalars(
        select(Notification).where(Notification.kind == "convention_reminder")
    ).all()
    assert note.user_id == market.employer_user.id
    assert note.link.endswith(f"/operations/{ready.operation.id}/convention/versions/1")
    assert note.message.startswith("Camille Martin (Partenaire P) vous rappelle que la version 1")
    [mail] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.subject == SUBJECT))
    assert mail.recipient == market.employer_user.email and note.link in mail.body
    [event] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "convention.reminded")
    ).all()
    assert event.detail == {
        "number": 1,
        "party": market.employer.id,
        "signer": market.employer_user.id,
        "kind": "manual",
        "reminder": reminder.id,
    }
    assert (event.actor_id, event.organisation_id) == (market.partner_user.id, market.partner.id)
    line = db.session.scalars(
        select(OperationEvent).where(OperationEvent.kind == "convention_reminded")
    ).one()
    assert line.detail == {"number": 1, "party": "Entreprise E"}


def test_the_region_takes_part_and_may_remind(ready, version):
    market = ready.market
    reminders.send_manual_reminder(
        version, market.of_a.id, by=market.referent, by_org=market.region
    )
    assert reminded(version) == [(market.of_a.id, "manual")]


def test_an_outsider_cannot_remind(ready, version):
    market = ready.market
    with pytest.raises(RuleError, match="Seuls les participants"):
        reminders.send_manual_reminder(
            version, market.employer.id, by=market.b_user, by_org=market.of_b
        )
    assert reminded(version) == []


def test_a_party_that_signed_or_does_not_sign_is_not_reminded(ready, version):
    market = ready.market
    sign_as(version, market.employer_user, market.employer)
    for organisation in (market.employer, market.region, market.of_b):
        with pytest.raises(RuleError, match="déjà signé cette version, ou n'est pas signataire"):
            reminders.send_manual_reminder(
                version, organisation.id, by=market.a_user, by_org=market.of_a
            )
    assert reminded(version) == []


def test_a_party_without_a_designated_signer_is_not_reminded(ready, version):
    market = ready.market
    db.session.delete(conventions.signer_for(ready.convention, market.partner.id))
    db.session.flush()
    db.session.expire(ready.convention, ["signers"])
    with pytest.raises(RuleError, match="Aucun signataire n'est désigné pour Partenaire P"):
        reminders.send_manual_reminder(
            version, market.partner.id, by=market.a_user, by_org=market.of_a
        )
    assert count(DesignatedSigner) == 2


def test_one_manual_reminder_per_party_per_24_hours(ready, version, monkeypatch):
    market = ready.market
    freeze(monkeypatch, datetime(2027, 1, 10, 7, 0))
    reminders.send_manual_reminder(
        version, market.employer.id, by=market.a_user, by_org=market.of_a
    )
    freeze(monkeypatch, datetime(2027, 1, 11, 6, 59))
    with pytest.raises(RuleError) as error:
        reminders.send_manual_reminder(
            version, market.employer.id, by=market.partner_user, by_org=market.partner
        )
    # Europe/Paris is UTC+1 in January.
    assert error.value.message == (
        "Entreprise E a déjà été relancé·e le 10 janvier 2027 à 08:00 : prochaine relance "
        "possible le 11 janvier 2027 à 08:00."
    )
    # Another party may be reminded meanwhile, and the first one again after 24 h.
    reminders.send_manual_reminder(version, market.partner.id, by=market.a_user, by_org=market.of_a)
    freeze(monkeypatch, datetime(2027, 1, 11, 7, 0))
    reminders.send_manual_reminder(
        version, market.employer.id, by=market.a_user, by_org=market.of_a
    )
    assert reminded(version) == [
        (market.employer.id, "manual"),
        (market.partner.id, "manual"),
        (market.employer.id, "manual"),
    ]


def test_an_automatic_reminder_does_not_hold_a_manual_one(ready, version, monkeypatch):
    market = ready.market
    assert reminders.send_due_reminders(at(version, days=3)) == 3
    freeze(monkeypatch, at(version, days=3, hours=1))
    reminders.send_manual_reminder(
        version, market.employer.id, by=market.a_user, by_org=market.of_a
    )
    assert reminded(version)[-1] == (market.employer.id, "manual")


def test_only_the_open_version_is_reminded(ready, version):
    market = ready.market
    ready.edit_clause("Un objet reformulé.")
    second = ready.submit()
    with pytest.raises(RuleError, match="n'attend plus de signature"):
        reminders.send_manual_reminder(
            version, market.employer.id, by=market.a_user, by_org=market.of_a
        )
    sign_all(ready, second)
    with pytest.raises(RuleError, match="n'attend plus de signature"):
        reminders.send_manual_reminder(
            second, market.employer.id, by=market.a_user, by_org=market.of_a
        )


# --- Scheduled reminders ------------------------------------------------------------------


def test_reminders_start_after_three_days_then_every_48_hours(ready, version):
    assert reminders.send_due_reminders(at(version, days=2, hours=23)) == 0
    assert reminders.send_due_reminders(at(version, days=3)) == 3
    assert reminders.send_due_reminders(at(version, days=3)) == 0  # run twice: idempotent
    assert reminders.send_due_reminders(at(version, days=4, hours=23)) == 0
    assert reminders.send_due_reminders(at(version, days=5)) == 3
    rows = db.session.scalars(select(SignatureReminder)).all()
    assert {r.kind for r in rows} == {"auto"} and {r.sent_by_id for r in rows} == {None}
    assert sorted({r.user_id for r in rows}) == sorted(u.id for u, _org in ready.signers)
    assert count(OutboxMessage, OutboxMessage.subject == SUBJECT) == 6
    note = db.session.scalars(
        select(Notification).where(Notification.kind == "convention_reminder")
    ).first()
    assert note.message.startswith("Rappel : la version 1 de la convention")
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "convention.reminded")
    ).all()
    assert len(events) == 6 and {e.actor_id for e in events} == {None}
    assert {e.detail["kind"] for e in events} == {"auto"}


def test_parties_that_signed_are_not_reminded(ready, version):
    market = ready.market
    sign_as(version, market.a_user, market.of_a)
    assert reminders.send_due_reminders(at(version, days=3)) == 2
    assert {org for org, _kind in reminded(version)} == {market.employer.id, market.partner.id}


def test_a_manual_reminder_counts_for_the_interval(ready, version, monkeypatch):
    market = ready.market
    freeze(monkeypatch, at(version, days=2))
    reminders.send_manual_reminder(
        version, market.employer.id, by=market.a_user, by_org=market.of_a
    )
    assert reminders.send_due_reminders(at(version, days=3)) == 2
    assert reminders.send_due_reminders(at(version, days=4)) == 1  # 48 h after the manual one
    assert reminded(version)[-1] == (market.employer.id, "auto")


def test_the_delays_come_from_the_configuration(app, ready, version, monkeypatch):
    monkeypatch.setitem(app.config, "CONVENTION_REMINDER_DAYS", 1)
    monkeypatch.setitem(app.config, "CONVENTION_REMINDER_INTERVAL_HOURS", 12)
    assert reminders.send_due_reminders(at(version, hours=23)) == 0
    assert reminders.send_due_reminders(at(version, days=1)) == 3
    assert reminders.send_due_reminders(at(version, days=1, hours=12)) == 3


def test_the_configuration_reads_the_environment(tmp_path, monkeypatch):
    assert load_config(str(tmp_path))["CONVENTION_REMINDER_DAYS"] == 3
    assert load_config(str(tmp_path))["CONVENTION_REMINDER_INTERVAL_HOURS"] == 48
    monkeypatch.setenv("CONVENTION_REMINDER_DAYS", "5")
    monkeypatch.setenv("CONVENTION_REMINDER_INTERVAL_HOURS", "72")
    config = load_config(str(tmp_path))
    assert (config["CONVENTION_REMINDER_DAYS"], config["CONVENTION_REMINDER_INTERVAL_HOURS"]) == (
        5,
        72,
    )


def test_versions_that_no_longer_wait_for_signers_are_left_alone(ready, version):
    sign_all(ready, version)  # signed: waits for the Région, not for the parties
    assert reminders.send_due_reminders(at(version, days=10)) == 0
    ready.validate(version)
    assert reminders.send_due_reminders(at(version, days=10)) == 0


def test_a_cancelled_operation_is_not_reminded(ready, version):
    market = ready.market
    lifecycle.cancel(ready.operation, reason="Abandon", by=market.referent, org=market.region)
    assert reminders.send_due_reminders(at(version, days=10)) == 0


# --- The cron command ---------------------------------------------------------------------


def test_the_command_sends_what_is_due_and_commits(app, monkeypatch):
    with app.test_request_context(base_url="http://portail.test"):
        ready = make_convention_ready()
        ready.submit()
        db.session.commit()
        operation_id = ready.operation.id
    monkeypatch.setitem(app.config, "CONVENTION_REMINDER_DAYS", 0)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reminders", "send"])
    assert result.exit_code == 0, result.output
    assert "Relances envoyées : 3 pour des conventions à signer, 0 pour des immersions." in (
        result.output
    )
    again = runner.invoke(args=["reminders", "send"])
    assert "Relances envoyées : 0 pour des conventions à signer" in again.output
    with app.app_context():
        assert count(SignatureReminder) == 3
        bodies = db.session.scalars(
            select(OutboxMessage.body).where(OutboxMessage.subject == SUBJECT)
        ).all()
        link = f"http://portail.test/operations/{operation_id}/convention/versions/1"
        assert len(bodies) == 3 and all(link in body for body in bodies)
        # A scheduled job has no client: the evidence must not invent one.
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "convention.reminded")
        ).all()
        assert {(e.ip, e.user_agent) for e in events} == {("", "")}
