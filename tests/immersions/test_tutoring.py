"""Tutors (issue #12): an employer's admins make tutors (or invite one as such), the host
employer designates the tutor of each immersion — the organisme only suggests — a change
tells the former and the new tutor and the organisme, and a tutor sees only the immersions
they are designated for, while a member of the employer."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.accounts import invitations
from portal.accounts import services as accounts
from portal.accounts.models import Invitation, Membership
from portal.audit.models import AuditEvent
from portal.core.errors import RuleError
from portal.core.time import utcnow
from portal.extensions import db
from portal.immersions import evaluations, queries, rules, services, tutoring
from portal.immersions.models import (
    EvaluationKind,
    Immersion,
    Presence,
    TutorAssessment,
    WouldHire,
)
from portal.mail.models import OutboxMessage
from portal.notifications.models import Notification
from portal.operations.models import OperationEvent
from tests.factories import make_user
from tests.immersions.factories import CHECKLIST, NEXT, TODAY, Running, generate, make_trainee


@pytest.fixture
def running(ctx):
    return Running()


@pytest.fixture
def alice(running):
    return make_trainee(running, "Alice", "Durand", employer=running.market.employer)


def membership_of(user, organisation) -> Membership:
    return accounts.active_membership(user, organisation)


def notes(kind: str) -> list[tuple[int, str]]:
    return [
        (n.user_id, n.message)
        for n in db.session.scalars(
            select(Notification).where(Notification.kind == kind).order_by(Notification.id)
        )
    ]


def mails_to(user) -> list[str]:
    return db.session.scalars(
        select(OutboxMessage.subject).where(OutboxMessage.recipient == user.email)
    ).all()


def coming_immersion(running, alice) -> Immersion:
    generate(running)
    return db.session.scalars(
        select(Immersion).where(Immersion.trainee_id == alice.id, Immersion.starts_on == NEXT[0])
    ).one()


# --- The tutor role ------------------------------------------------------------------------------


def test_an_admin_marks_a_member_as_tutor_and_the_member_is_told(running):
    market = running.market
    member = running.employer_member
    tutoring.set_tutor_role(membership_of(member, market.employer), True, by=market.employer_user)
    assert membership_of(member, market.employer).is_tutor
    assert tutoring.is_tutor_of(member, market.employer.id)
    assert [user for user, _m in notes("tutor_role")] == [member.id]
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "membership.tutor_changed")
    ).one()
    assert event.detail["is_tutor"] is True
    with pytest.raises(RuleError, match="est déjà tuteur·rice"):
        tutoring.set_tutor_role(
            membership_of(member, market.employer), True, by=market.employer_user
        )


def test_only_the_members_of_an_employer_are_tutors(running):
    market = running.market
    with pytest.raises(RuleError, match="membres d'une entreprise"):
        tutoring.set_tutor_role(
            membership_of(running.of_staff, market.of_a), True, by=market.a_user
        )
    with pytest.raises(RuleError, match="membres d'une entreprise"):
        invitations.invite("nouveau@example.fr", market.of_a, by=market.a_user, is_tutor=True)


def test_the_role_stays_while_the_tutor_has_immersions_to_come(running, alice):
    market = running.market
    immersion = coming_immersion(running, alice)
    tutoring.designate_tutor(
        immersion, running.tutor_e, by=market.employer_user, org=market.employer
    )
    membership = membership_of(running.tutor_e, market.employer)
    with pytest.raises(RuleError, match="accompagne encore 1 immersion.*Alice Durand"):
        tutoring.set_tutor_role(membership, False, by=market.employer_user)
    tutoring.designate_tutor(
        immersion, running.tutor_e2, by=market.employer_user, org=market.employer
    )
    tutoring.set_tutor_role(membership, False, by=market.employer_user)
    assert not membership.is_tutor


def test_withdrawing_the_role_lapses_the_suggestions_naming_the_tutor(running, alice):
    market = running.market
    immersion = coming_immersion(running, alice)
    tutoring.suggest_tutor(immersion, running.tutor_e, **running.carrier)
    tutoring.set_tutor_role(
        membership_of(running.tutor_e, market.employer), False, by=market.employer_user
    )
    assert immersion.suggested_tutor_id is None


def test_an_invitation_carries_the_tutor_role(running):
    market = running.market
    invitation, _token = invitations.invite(
        "chef.equipe@example.fr", market.employer, by=market.employer_user, is_tutor=True
    )
    assert db.session.get(Invitation, invitation.id).is_tutor
    user = invitations.accept_invitation(
        invitation, first_name="Marc", last_name="Chef", password="une phrase de passe sûre"
    )
    assert membership_of(user, market.employer).is_tutor
    assert not membership_of(user, market.employer).is_admin


# --- Designating the tutor of an immersion -------------------------------------------------------


def test_the_organisme_suggests_and_the_employer_confirms(running, alice):
    market = running.market
    immersion = coming_immersion(running, alice)
    assert tutoring.suggest_tutor(immersion, running.tutor_e, **running.carrier)
    assert not tutoring.suggest_tutor(immersion, running.tutor_e, **running.carrier)  # again
    assert (immersion.tutor_id, immersion.suggested_tutor_id) == (None, running.tutor_e.id)
    assert [user for user, _m in notes("tutor_suggested")] == [market.employer_user.id]
    assert "Tutorat : une désignation attend votre confirmation" in mails_to(market.employer_user)

    tutoring.designate_tutor(
        immersion, running.tutor_e, by=market.employer_user, org=market.employer
    )
    assert (immersion.tutor_id, immersion.suggested_tutor_id) == (running.tutor_e.id, None)
    event = db.session.scalars(
        select(OperationEvent).where(OperationEvent.kind == "tutor_designated")
    ).one()
    assert event.detail == {"employer": "Entreprise E", "confirmed": True}
    told = {user for user, _m in notes("tutor_designated")}
    assert running.tutor_e.id in told and market.a_user.id in told  # the tutor, the organisme
    assert "Tutorat : vous êtes désigné·e pour une immersion" in mails_to(running.tutor_e)


@pytest.mark.parametrize("who", ["of", "member", "tutor", "other_employer"])
def test_only_an_admin_of_the_host_designates(running, alice, who):
    market = running.market
    immersion = coming_immersion(running, alice)
    by, org = {
        "of": (market.a_user, market.of_a),
        "member": (running.employer_member, market.employer),
        "tutor": (running.tutor_e, market.employer),
        "other_employer": (market.employer2_user, market.employer2),
    }[who]
    with pytest.raises(RuleError, match="Seule l'entreprise d'accueil désigne"):
        tutoring.designate_tutor(immersion, running.tutor_e, by=by, org=org)
    assert immersion.tutor_id is None


def test_the_tutor_must_be_a_tutor_of_the_host(running, alice):
    market = running.market
    immersion = coming_immersion(running, alice)
    who = {"by": market.employer_user, "org": market.employer}
    with pytest.raises(RuleError, match="n'est pas tuteur·rice d'Entreprise E") as exc:
        tutoring.designate_tutor(immersion, running.tutor_f, **who)
    assert exc.value.field == "tutor_id"
    with pytest.raises(RuleError, match="n'est pas tuteur·rice"):
        tutoring.designate_tutor(immersion, running.employer_member, **who)


def test_a_change_of_tutor_tells_both_and_the_new_one_is_briefed_again(running, alice):
    market = running.market
    who = {"by": market.employer_user, "org": market.employer}
    immersion = coming_immersion(running, alice)
    tutoring.designate_tutor(immersion, running.tutor_e, **who)
    services.save_checklist(immersion, CHECKLIST, **running.carrier)
    assert immersion.is_ready and immersion.prepared_at is not None

    tutoring.designate_tutor(immersion, running.tutor_e2, **who)
    assert immersion.tutor_id == running.tutor_e2.id
    assert not immersion.tutor_briefed
    assert not immersion.is_ready and immersion.prepared_at is None
    assert [user for user, _m in notes("tutor_replaced")] == [running.tutor_e.id]
    assert "Tutorat : une immersion confiée à une autre personne" in mails_to(running.tutor_e)
    assert "Tutorat : vous êtes désigné·e pour une immersion" in mails_to(running.tutor_e2)
    with pytest.raises(RuleError, match="est déjà tuteur·rice de cette immersion"):
        tutoring.designate_tutor(immersion, running.tutor_e2, **who)

    tutoring.designate_tutor(immersion, None, **who)  # withdrawn, nobody yet
    assert immersion.tutor_id is None
    assert "tutor_withdrawn" in db.session.scalars(select(OperationEvent.kind)).all()


def test_an_assessed_immersion_keeps_its_tutor(running, alice):
    market = running.market
    generate(running)
    past = db.session.scalars(
        select(Immersion).where(Immersion.trainee_id == alice.id).order_by(Immersion.starts_on)
    ).first()
    tutoring.designate_tutor(past, running.tutor_e, by=market.employer_user, org=market.employer)
    db.session.add(
        TutorAssessment(
            immersion=past,
            tutor_id=running.tutor_e.id,
            presence=Presence.FULL,
            would_hire=WouldHire.YES,
        )
    )
    db.session.flush()
    with pytest.raises(RuleError, match="le tutorat ne change plus"):
        tutoring.designate_tutor(
            past, running.tutor_e2, by=market.employer_user, org=market.employer
        )
    with pytest.raises(RuleError, match="ne changent plus"):
        tutoring.suggest_tutor(past, running.tutor_e2, **running.carrier)


# --- What a tutor sees ---------------------------------------------------------------------------


def test_the_tutor_lists_only_the_immersions_designated_to_them_at_their_employer(running, alice):
    market = running.market
    bob = make_trainee(running, "Bob", "Petit", employer=market.employer)
    immersion = coming_immersion(running, alice)
    today = rules.today()

    def listed(user, employer, hosts=False):
        return {
            i.trainee_id
            for i in queries.tutor_immersions(user.id, employer.id, hosts=hosts, today=today)
        }

    tutoring.suggest_tutor(immersion, running.tutor_e, **running.carrier)
    assert listed(running.tutor_e, market.employer) == set()  # suggested is not designated
    tutoring.designate_tutor(
        immersion, running.tutor_e, by=market.employer_user, org=market.employer
    )
    assert listed(running.tutor_e, market.employer) == {alice.id}
    assert listed(running.tutor_e, market.employer2) == set()  # acting for another employer
    assert listed(market.employer_user, market.employer, hosts=True) == {alice.id, bob.id}
    tutoring.designate_tutor(
        immersion, running.tutor_e2, by=market.employer_user, org=market.employer
    )
    assert listed(running.tutor_e, market.employer) == set()  # replaced: gone


def test_the_agenda_lists_the_coming_evaluations_the_tutor_is_invited_to(running, alice):
    market = running.market
    now = utcnow()
    for days in (-3, 10):
        evaluations.create_evaluation(
            running.operation,
            {
                "kind": EvaluationKind.JURY,
                "held_at": now + timedelta(days=days),
                "place": "Centre d'examen",
                "notes": "",
                "invitee_ids": [running.tutor_e.id],
            },
            **running.carrier,
        )
    agenda = queries.tutor_agenda(running.tutor_e.id, market.employer.id, now=now)
    assert [i.evaluation.held_at.date() for i in agenda] == [(now + timedelta(days=10)).date()]
    assert queries.tutor_agenda(running.tutor_e.id, market.employer2.id, now=now) == []


def test_a_new_member_invited_as_tutor_can_be_designated(running, alice):
    market = running.market
    newcomer = make_user(market.employer, email="nouvelle.tutrice@example.fr")
    immersion = coming_immersion(running, alice)
    with pytest.raises(RuleError):
        tutoring.designate_tutor(immersion, newcomer, by=market.employer_user, org=market.employer)
    tutoring.set_tutor_role(membership_of(newcomer, market.employer), True, by=market.employer_user)
    tutoring.designate_tutor(immersion, newcomer, by=market.employer_user, org=market.employer)
    assert immersion.tutor_id == newcomer.id
    assert immersion.starts_on == NEXT[0] and immersion.starts_on > TODAY
