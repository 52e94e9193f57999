"""Who opens a trainee's record, and the access log each opening writes.

The record is open to the organisme porteur, the Région, the prescriber and the admins of
the employer the trainee is placed with; that employer's tutors see it only while
designated on one of the trainee's immersions there. Another employer of the operation is
refused (403), an organisation outside the operation learns nothing (404).
"""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.accounts.models import Membership, User
from portal.extensions import db
from portal.immersions.models import Immersion
from portal.operations.models import Operation
from portal.recruitment.models import TraineeAccess
from tests.operations.factories import (
    EMPLOYER,
    EMPLOYER2,
    OF_A,
    OF_B,
    PARTNER,
    REFERENT,
    REGION_ADMIN,
)
from tests.recruitment.factories import EMPLOYER3, TUTOR
from tests.support import HTMX, client_as, login_as, text


def accesses(app, trainee_id: int) -> list[tuple[str, int | None, str]]:
    with app.app_context():
        rows = db.session.execute(
            select(User.email, TraineeAccess.organisation_id, TraineeAccess.action)
            .join(User, User.id == TraineeAccess.user_id)
            .where(TraineeAccess.trainee_id == trainee_id)
            .order_by(TraineeAccess.id)
        ).all()
    return [tuple(r) for r in rows]


def record_url(rec, trainee_id: int) -> str:
    return f"/operations/{rec.op}/recrutement/stagiaires/{trainee_id}"


ALLOWED = {
    OF_A: "of_a",  # the organisme porteur
    REGION_ADMIN: "region",
    REFERENT: "region",  # the Région's referent of the bassin
    PARTNER: "partner",  # the prescriber
    EMPLOYER: "employer",  # the placing employer's admin (its promise)
}


@pytest.mark.parametrize("email", list(ALLOWED))
def test_allowed_roles_open_the_record_and_each_view_is_logged(app, client, rec, email):
    login_as(client, email)
    for _view in range(2):
        response = client.get(record_url(rec, rec.placed))
        assert response.status_code == 200
        # Contact details are for the organisme, the Région and the prescriber (M8).
        assert ("ines.moreau@example.fr" in text(response)) is (ALLOWED[email] != "employer")
    org_id = getattr(rec, ALLOWED[email])
    assert accesses(app, rec.placed) == [(email, org_id, "view")] * 2


@pytest.mark.parametrize("email", [EMPLOYER, TUTOR])
def test_the_host_employer_sees_the_name_but_no_personal_details(app, client, rec, email):
    """Issue #11 M8: the host employer and its tutors see the trainee's name and placement,
    not the public category, contact details, birth year nor prescriber; the list too.
    Since issue #12 a tutor sees the trainee only once designated on one of its immersions."""
    if email == TUTOR:
        with app.app_context():
            db.session.add(
                Immersion(
                    operation_id=rec.op,
                    trainee_id=rec.placed,
                    employer_id=rec.employer,
                    tutor_id=rec.tutor,
                    starts_on=date.today(),
                    ends_on=date.today() + timedelta(days=5),
                )
            )
            db.session.commit()
    login_as(client, email)
    record = text(client.get(record_url(rec, rec.placed)))
    assert "Moreau" in record
    for hidden in ("ines.moreau@example.fr", "Adresse électronique", "Téléphone",
                   "Année de naissance", "Prescripteur", "Public"):  # fmt: skip
        assert hidden not in record.split('id="trainee-record"')[1], hidden
    listing = text(client.get(f"/operations/{rec.op}/recrutement"))
    assert "réservé à l'organisme, à la Région et au prescripteur" in listing


def test_another_employer_of_the_operation_is_refused_and_nothing_is_logged(app, client, rec):
    login_as(client, EMPLOYER3)
    assert client.get(f"/operations/{rec.op}").status_code == 200  # it sees the operation
    assert client.get(record_url(rec, rec.placed)).status_code == 403
    employer2 = client_as(app, EMPLOYER2)  # its placed trainee: yes; E's trainee: no
    assert employer2.get(record_url(rec, rec.at_f)).status_code == 200
    assert employer2.get(record_url(rec, rec.placed)).status_code == 403
    assert accesses(app, rec.placed) == []
    assert accesses(app, rec.at_f) == [(EMPLOYER2, rec.employer2, "view")]


def test_the_prescriber_sees_only_the_trainees_it_oriented(app, client, rec):
    login_as(client, PARTNER)
    assert client.get(record_url(rec, rec.candidate)).status_code == 403


def test_an_outsider_gets_404(app, client, rec):
    login_as(client, OF_B)
    assert client.get(record_url(rec, rec.placed)).status_code == 404
    assert client.get(f"/operations/{rec.op}/recrutement").status_code == 404
    assert accesses(app, rec.placed) == []


def test_an_unknown_record_or_one_of_another_operation_is_404(app, client, rec):
    login_as(client, OF_A)
    assert client.get(record_url(rec, 999999)).status_code == 404
    other = f"/operations/{rec.op + 1000}/recrutement/stagiaires/{rec.placed}"
    assert client.get(other).status_code == 404


@pytest.mark.parametrize(
    ("email", "shown", "hidden"),
    [
        (OF_A, {"Moreau", "Garnier", "Petit"}, set()),
        (REGION_ADMIN, {"Moreau", "Garnier", "Petit"}, set()),
        (PARTNER, {"Moreau"}, {"Garnier", "Petit"}),
        (EMPLOYER, {"Moreau"}, {"Garnier", "Petit"}),
        (TUTOR, set(), {"Moreau", "Garnier", "Petit"}),  # designated on no immersion
        (EMPLOYER2, {"Garnier"}, {"Moreau", "Petit"}),
        (EMPLOYER3, set(), {"Moreau", "Garnier", "Petit"}),
    ],
)
def test_the_list_shows_only_the_trainees_one_may_see(client, rec, email, shown, hidden):
    login_as(client, email)
    page = text(client.get(f"/operations/{rec.op}/recrutement"))
    results = page.split('id="trainee-results"', 1)[1]
    assert all(name in results for name in shown)
    assert not any(name in results for name in hidden)
    fragment = text(client.get(f"/operations/{rec.op}/recrutement", headers=HTMX))
    assert not any(name in fragment for name in hidden)


def test_the_promises_table_names_only_visible_trainees(client, rec):
    login_as(client, EMPLOYER3)
    page = text(client.get(f"/operations/{rec.op}/recrutement"))
    assert "Moreau" not in page and "Garnier" not in page
    assert page.count("Pourvue") == 2


@pytest.mark.parametrize("email", [REGION_ADMIN, PARTNER, EMPLOYER, TUTOR])
def test_only_the_carrier_changes_a_record(app, client, rec, email):
    login_as(client, email)
    base = record_url(rec, rec.placed)
    page = text(client.get(base))
    assert "Changer le statut" not in page and "Modifier la fiche" not in page
    assert client.get(f"{base}/modification").status_code == 403
    for path, data in [
        ("/modification", {"last_name": "X", "first_name": "Y"}),
        ("/statut", {"status": "not_retained"}),
        ("/promesse", {"promise_id": str(rec.promises[1])}),
        ("/retrait-promesse", {}),
    ]:
        assert client.post(base + path, data=data).status_code == 403, path
    assert client.get(f"/operations/{rec.op}/recrutement/candidats").status_code == 403
    assert client.get(f"/operations/{rec.op}/recrutement/import").status_code == 403


def test_a_tutor_sees_a_trainee_only_while_designated_and_a_member(app, client, rec):
    login_as(client, TUTOR)
    assert client.get(record_url(rec, rec.placed)).status_code == 403
    with app.app_context():
        operation = db.session.get(Operation, rec.op)
        immersion = Immersion(
            operation_id=operation.id,
            trainee_id=rec.placed,
            employer_id=rec.employer,
            suggested_tutor_id=rec.tutor,
            starts_on=date.today(),
            ends_on=date.today() + timedelta(days=5),
        )
        db.session.add(immersion)
        db.session.commit()
        immersion_id = immersion.id
    # Suggested by the organisme is not designated by the employer: still refused.
    assert client.get(record_url(rec, rec.placed)).status_code == 403
    with app.app_context():
        db.session.get(Immersion, immersion_id).tutor_id = rec.tutor
        db.session.commit()
    assert client.get(record_url(rec, rec.placed)).status_code == 200
    assert client.get(record_url(rec, rec.at_f)).status_code == 403  # not hers
    with app.app_context():
        db.session.get(Immersion, immersion_id).tutor_id = None  # another tutor, or none
        db.session.commit()
    assert client.get(record_url(rec, rec.placed)).status_code == 403
    with app.app_context():
        db.session.get(Immersion, immersion_id).tutor_id = rec.tutor
        membership = db.session.scalar(select(Membership).where(Membership.user_id == rec.tutor))
        membership.active = False  # she left Entreprise E
        db.session.commit()
    assert client.get(record_url(rec, rec.placed)).status_code != 200
    assert [email for email, _org, _action in accesses(app, rec.placed)] == [TUTOR]


def test_a_member_whose_tutor_role_ended_no_longer_sees_the_trainees_she_tutored(app, client, rec):
    """Review of #11 (``participant_visibility``): a member of the host who is neither its
    admin nor one of its tutors any more still opened the record of the trainee of a past
    immersion she had tutored (the tutor space and the assessments already checked the
    role). She sees only what the employer's admins see of the placement: nothing of it."""
    with app.app_context():
        db.session.add(
            Immersion(
                operation_id=rec.op,
                trainee_id=rec.placed,
                employer_id=rec.employer,
                tutor_id=rec.tutor,
                starts_on=date.today() - timedelta(days=30),
                ends_on=date.today() - timedelta(days=20),
            )
        )
        db.session.commit()
    login_as(client, TUTOR)
    assert client.get(record_url(rec, rec.placed)).status_code == 200
    with app.app_context():
        membership = db.session.scalar(select(Membership).where(Membership.user_id == rec.tutor))
        membership.is_tutor = False  # her immersions over, E's admin withdrew the role
        db.session.commit()
    assert client.get(record_url(rec, rec.placed)).status_code == 403
    listed = text(client.get(f"/operations/{rec.op}/recrutement"))
    assert "Moreau" not in listed.split('id="trainee-results"', 1)[1]
