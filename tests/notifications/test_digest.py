"""The Région is told in every case (issue #12): the referent (or the Région's admins) hears
of employers and partners added later, withdrawals, cancellations and amendments; beyond
``REFERENT_DIGEST_THRESHOLD`` e-mails a day the rest wait for one daily digest, and
nothing is ever dropped."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.core.time import utcnow
from portal.extensions import db
from portal.mail.models import OutboxMessage
from portal.notifications import digest
from portal.notifications.models import Notification, ReferentNotice
from portal.operations import events, lifecycle
from portal.operations import services as operations
from portal.operations.models import ParticipantRole, Status
from tests.conventions.factories import make_convention_ready, validated_convention
from tests.operations.factories import Market


@pytest.fixture
def market(ctx):
    return Market()


def tell(market, n: int, start: int = 0) -> None:
    for number in range(start, start + n):
        events.tell_region(
            market.tours,
            kind="test",
            message=f"Événement n° {number}",
            email_subject=f"Sujet n° {number}",
        )


def mails(user) -> list[OutboxMessage]:
    return db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.recipient == user.email)
        .order_by(OutboxMessage.id)
    ).all()


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# --- The threshold and the digest ----------------------------------------------------------------


def test_beyond_the_threshold_events_wait_for_one_digest(market):
    referent = market.referent
    tell(market, 7)
    # Every event is in the portal at once; five e-mails went one by one.
    assert count(Notification, Notification.user_id == referent.id) == 7
    assert [m.subject for m in mails(referent)] == [f"Sujet n° {n}" for n in range(5)]
    assert count(ReferentNotice, ReferentNotice.held.is_(True)) == 2

    assert digest.send_digests() == 1
    last = mails(referent)[-1]
    assert last.subject == "Portail DEFI — 2 événement(s) pour la Région"
    assert "Événement n° 5" in last.body and "Événement n° 6" in last.body
    assert "Événement n° 4" not in last.body  # already sent on its own
    assert count(ReferentNotice, ReferentNotice.digested_at.is_(None), ReferentNotice.held) == 0
    assert digest.send_digests() == 0  # nothing twice
    assert len(mails(referent)) == 6


def test_the_threshold_is_configurable(app, market):
    app.config["REFERENT_DIGEST_THRESHOLD"] = 2
    try:
        tell(market, 3)
    finally:
        app.config["REFERENT_DIGEST_THRESHOLD"] = 5
    assert len(mails(market.referent)) == 2


def test_one_digest_a_day_and_what_comes_after_waits_for_the_next(market):
    referent = market.referent
    tell(market, 6)
    assert digest.send_digests() == 1
    tell(market, 2, start=6)  # still today: held, not lost
    assert digest.send_digests() == 0
    assert count(ReferentNotice, ReferentNotice.digested_at.is_(None), ReferentNotice.held) == 2
    tomorrow = utcnow() + timedelta(days=1)
    assert digest.send_digests(tomorrow) == 1
    body = mails(referent)[-1].body
    assert "Événement n° 6" in body and "Événement n° 7" in body


def test_the_count_starts_again_each_day_in_paris(market):
    tell(market, 5)
    for notice in db.session.scalars(select(ReferentNotice)):
        notice.created_at = digest.day_start(utcnow()) - timedelta(minutes=1)  # yesterday
    tell(market, 1, start=5)
    assert len(mails(market.referent)) == 6  # the sixth went at once: a new day


def test_day_start_is_midnight_in_paris():
    winter = digest.day_start(utcnow().replace(month=1, day=15, hour=12, minute=0))
    assert (winter.hour, winter.minute) == (23, 0)  # 00:00 in Paris is 23:00 UTC in winter


def test_a_disabled_referent_s_digest_goes_to_the_region_admins(market):
    tell(market, 6)
    market.referent.is_enabled = False
    assert digest.send_digests() == 1
    forwarded = mails(market.region_admin)[-1]
    assert "dont le compte est désactivé" in forwarded.body
    assert "Événement n° 5" in forwarded.body


def test_without_a_referent_the_region_admins_are_told(market):
    market.tours.referent = None
    tell(market, 1)
    assert [m.subject for m in mails(market.region_admin)] == ["Sujet n° 0"]


def test_the_cli_sends_the_digests(app, market):
    tell(market, 6)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["notifications", "digest"])
    assert result.exit_code == 0, result.output
    assert "Résumés quotidiens envoyés : 1." in result.output


# --- What the Région is told of ------------------------------------------------------------------


def referent_notes(market) -> list[str]:
    return db.session.scalars(
        select(Notification.kind)
        .where(Notification.user_id == market.referent.id)
        .order_by(Notification.id)
    ).all()


def test_an_employer_or_partner_added_later_and_a_withdrawal(market):
    operation = market.report()
    assert referent_notes(market) == ["need_reported"]
    participant = operations.add_participant(
        operation,
        market.partner,
        ParticipantRole.PARTNER_ORIENTATION,
        by=market.a_user,
        org=market.of_a,
    )
    operations.invite_new_organisation(
        operation,
        "Entreprise Nouvelle",
        "rh@nouvelle.example.fr",
        ParticipantRole.EMPLOYER,
        by=market.a_user,
        org=market.of_a,
        siret="90000000008012",
    )
    operations.withdraw_participant(
        participant, reason="Pas de public concerné", by=market.a_user, org=market.of_a
    )
    assert referent_notes(market) == [
        "need_reported",
        "participant_added_later",
        "participant_added_later",
        "participant_withdrawn",
    ]
    subjects = [m.subject for m in mails(market.referent)]
    assert "Opération DEFI « Agent·e de propreté et d'hygiène » : retrait de Partenaire P" in (
        subjects
    )
    message = db.session.scalars(
        select(Notification.message).where(Notification.kind == "participant_withdrawn")
    ).one()
    assert message.endswith(": Pas de public concerné")


def test_employers_named_in_the_report_are_not_told_twice(market):
    market.report(
        new_employers=[("Entreprise Nouvelle", "rh@nouvelle.example.fr", "90000000008012")]
    )
    assert referent_notes(market) == ["need_reported"]


def test_a_cancellation_is_told_but_not_to_the_person_who_cancelled(market):
    operation = market.report()
    lifecycle.cancel(operation, reason="Employeur en difficulté", by=market.a_user, org=market.of_a)
    assert referent_notes(market)[-1] == "cancelled"
    other = market.report(title="Autre besoin")
    lifecycle.cancel(other, reason="Doublon", by=market.referent, org=market.region)
    assert referent_notes(market)[-1] == "need_reported"  # the referent acted: not told


def test_an_amendment_submitted_is_told(ctx):
    ready = make_convention_ready()
    market = ready.market
    validated_convention(ready)
    lifecycle.advance(ready.operation, Status.RECRUITMENT, by=market.a_user, org=market.of_a)
    before = referent_notes(market)
    ready.edit_clause("Le comité se réunit chaque trimestre.")
    ready.submit()
    assert referent_notes(market)[len(before) :] == ["amendment_submitted"]
    assert any(m.subject.startswith("Avenant soumis") for m in mails(market.referent))
