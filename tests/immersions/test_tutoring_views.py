"""Tutors over HTTP (issue #12): the members page marks tutors and invites one as such; the
host employer's admin designates tutors from « Immersions et tutorat » (an htmx widget per
immersion, plain forms without JS); the tutor's home lists what is due, with dates and
place. Refused to non-admins (403), to other organisations (403, or 404 when the
operation is hidden), without a CSRF token (400)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.accounts.models import Invitation, Membership, Organisation, User
from portal.core.time import utcnow
from portal.extensions import db
from portal.immersions.models import Evaluation, EvaluationInvitation, EvaluationKind, Immersion
from tests.immersions.factories import EMPLOYER_MEMBER, OUTSIDER, TUTOR_E, TUTOR_E2, TUTOR_F
from tests.operations.factories import EMPLOYER, EMPLOYER2, OF_A, REGION_ADMIN
from tests.support import HTMX, count, flashes, load, login_as, text


def members_url(site) -> str:
    return f"/organisations/{site.employer}/membres"


def membership_id(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(Membership.id)
            .join(User, User.id == Membership.user_id)
            .where(User.email == email)
        )


def designate_url(immersion_id: int) -> str:
    return f"/tutorat/immersions/{immersion_id}/tuteur"


# --- The members page ----------------------------------------------------------------------------


def test_an_admin_marks_a_member_as_tutor_in_place(app, client, site):
    login_as(client, EMPLOYER)
    page = text(client.get(members_url(site)))
    assert "Nommer tuteur·rice" in page and "Retirer le rôle de tuteur·rice" in page
    url = f"{members_url(site)}/{membership_id(app, EMPLOYER_MEMBER)}/tutorat"
    response = client.post(url, data={"is_tutor": "1"}, headers=HTMX)
    assert response.status_code == 200
    fragment = text(response)
    assert fragment.lstrip().startswith('<div id="members"')
    assert "est désormais tuteur·rice." in fragment
    assert load(app, Membership, membership_id(app, EMPLOYER_MEMBER)).is_tutor
    # Without JS: the same form redirects (PRG) with the notice.
    response = client.post(url, data={"is_tutor": "0"})
    assert response.status_code == 303
    assert ("success", "Camille Martin n'est plus tuteur·rice.") in flashes(client)
    assert not load(app, Membership, membership_id(app, EMPLOYER_MEMBER)).is_tutor


def test_withdrawing_a_designated_tutor_is_refused_in_french(app, client, site):
    login_as(client, EMPLOYER)
    url = f"{members_url(site)}/{membership_id(app, TUTOR_E)}/tutorat"
    response = client.post(url, data={"is_tutor": "0"}, headers=HTMX)
    assert response.status_code == 422
    assert "désignez d'abord un·e autre tuteur·rice" in text(response)
    assert load(app, Membership, membership_id(app, TUTOR_E)).is_tutor


@pytest.mark.parametrize("email", [TUTOR_E, EMPLOYER_MEMBER, EMPLOYER2])
def test_non_admins_and_other_organisations_cannot_mark_tutors(app, client, site, email):
    login_as(client, email)
    url = f"{members_url(site)}/{membership_id(app, EMPLOYER_MEMBER)}/tutorat"
    assert client.post(url, data={"is_tutor": "1"}).status_code == 403
    assert not load(app, Membership, membership_id(app, EMPLOYER_MEMBER)).is_tutor


def test_the_regions_admin_manages_members_but_does_not_make_an_employers_tutors(app, client, site):
    """DOMAIN: an organisation's admins decide who among their members is a tutor. The
    Région's admin may manage any organisation's members (roles, invitations) but neither
    marks an employer's tutor nor invites one as tutor."""
    login_as(client, REGION_ADMIN)
    page = text(client.get(members_url(site)))
    assert "Nommer administrateur·rice" in page or "Retirer l'administration" in page
    assert "Nommer tuteur·rice" not in page and "Retirer le rôle de tuteur·rice" not in page
    assert "Tuteur·rice (accompagne" not in page
    url = f"{members_url(site)}/{membership_id(app, EMPLOYER_MEMBER)}/tutorat"
    assert client.post(url, data={"is_tutor": "1"}, headers=HTMX).status_code == 403
    assert not load(app, Membership, membership_id(app, EMPLOYER_MEMBER)).is_tutor
    response = client.post(
        f"/organisations/{site.employer}/invitations",
        data={"email": "tuteur.force@example.fr", "is_tutor": "y"},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "Seul·es les administrateur·rices de l'entreprise désignent ses tuteur·rices." in text(
        response
    )
    assert count(app, Invitation) == 0
    # Without the box, the same invitation goes out (as a plain member).
    response = client.post(
        f"/organisations/{site.employer}/invitations",
        data={"email": "tuteur.force@example.fr"},
        headers=HTMX,
    )
    assert response.status_code == 200
    with app.app_context():
        assert not db.session.scalar(select(Invitation)).is_tutor


def test_marking_a_tutor_needs_the_csrf_token(app, client, site):
    login_as(client, EMPLOYER)
    url = f"{members_url(site)}/{membership_id(app, EMPLOYER_MEMBER)}/tutorat"
    assert client.post(url, data={"is_tutor": "1"}, csrf=False).status_code == 400
    assert not load(app, Membership, membership_id(app, EMPLOYER_MEMBER)).is_tutor


def test_an_employer_invites_someone_directly_as_tutor(app, client, site):
    login_as(client, EMPLOYER)
    page = text(client.get(members_url(site)))
    assert "Tuteur·rice (accompagne les stagiaires en immersion)" in page
    response = client.post(
        f"/organisations/{site.employer}/invitations",
        data={"email": "nouveau.tuteur@example.fr", "is_tutor": "y"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "nouveau.tuteur@example.fr (tuteur·rice)" in text(response)
    with app.app_context():
        invitation = db.session.scalar(select(Invitation))
        assert invitation.is_tutor and not invitation.is_admin
    # An organisme has no tutors: no such box, and a forged one is ignored.
    login_as(client, OF_A)
    with app.app_context():
        of_a = db.session.scalar(select(Organisation.id).where(Organisation.name == "Organisme A"))
    assert "Tuteur·rice (accompagne" not in text(client.get(f"/organisations/{of_a}/membres"))
    response = client.post(
        f"/organisations/{of_a}/invitations",
        data={"email": "formateur@example.fr", "is_tutor": "y"},
    )
    assert response.status_code == 303
    with app.app_context():
        assert not db.session.scalar(
            select(Invitation).where(Invitation.email == "formateur@example.fr")
        ).is_tutor


# --- Designation by the host employer ------------------------------------------------------------


def test_the_admin_of_the_host_sees_a_designation_widget_per_immersion(client, site):
    login_as(client, EMPLOYER)
    page = text(client.get("/tutorat"))
    assert "<h1>Immersions et tutorat</h1>" in page
    assert f'id="designation-{site.bob_past}"' in page
    assert "Tuteur·rice de Bob Petit, du " in page  # the select's label names trainee, period
    assert "attendent la désignation de leur tuteur·rice" in page  # Bob's coming immersion
    assert f'id="designation-{site.chloe_past}"' not in page  # hosted by Entreprise F


def test_designating_in_place_with_htmx(app, client, site):
    login_as(client, EMPLOYER)
    field = f"tutor{site.bob_past}-tutor_id"
    response = client.post(
        designate_url(site.bob_past), data={field: str(site.tutor_e2)}, headers=HTMX
    )
    assert response.status_code == 200
    fragment = text(response)
    assert fragment.lstrip().startswith(f'<div id="designation-{site.bob_past}"')
    assert "Inès Martin est désigné·e tuteur·rice de Bob Petit" in fragment
    assert load(app, Immersion, site.bob_past).tutor_id == site.tutor_e2
    # The tutor now sees Bob, with the place of the immersion.
    login_as(client, TUTOR_E2)
    page = text(client.get("/tutorat"))
    assert "Bob Petit" in page and "Entreprise E" in page


def test_designating_without_js_redirects_with_a_notice(app, client, site):
    login_as(client, EMPLOYER)
    field = f"tutor{site.bob_past}-tutor_id"
    response = client.post(designate_url(site.bob_past), data={field: str(site.tutor_e)})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/tutorat#designation-{site.bob_past}")
    assert load(app, Immersion, site.bob_past).tutor_id == site.tutor_e


def test_a_wrong_choice_is_answered_in_french(app, client, site):
    login_as(client, EMPLOYER)
    field = f"tutor{site.bob_past}-tutor_id"
    response = client.post(
        designate_url(site.bob_past), data={field: str(site.tutor_f)}, headers=HTMX
    )
    assert response.status_code == 422
    assert "Choisissez une valeur de la liste." in text(response)
    response = client.post(
        designate_url(site.alice_past), data={f"tutor{site.alice_past}-tutor_id": str(site.tutor_e)}
    )
    assert response.status_code == 303  # already hers: said in a flash, nothing changes
    assert any("déjà tuteur·rice" in message for _kind, message in flashes(client))
    assert load(app, Immersion, site.bob_past).tutor_id is None


@pytest.mark.parametrize(
    ("email", "status"),
    [
        (TUTOR_E, 403),  # a tutor of the host, not an admin
        (EMPLOYER_MEMBER, 403),
        (OF_A, 403),  # the organisme suggests, it does not designate
        (EMPLOYER2, 403),  # another employer of the operation
        (TUTOR_F, 403),
        (OUTSIDER, 404),  # not in the operation: its immersion does not exist for them
    ],
)
def test_only_the_admin_of_the_host_designates(app, client, site, email, status):
    login_as(client, email)
    field = f"tutor{site.bob_past}-tutor_id"
    response = client.post(designate_url(site.bob_past), data={field: str(site.tutor_e)})
    assert response.status_code == status
    assert load(app, Immersion, site.bob_past).tutor_id is None


def test_designation_needs_the_csrf_token_and_a_known_immersion(app, client, site):
    login_as(client, EMPLOYER)
    field = f"tutor{site.bob_past}-tutor_id"
    response = client.post(
        designate_url(site.bob_past), data={field: str(site.tutor_e)}, csrf=False
    )
    assert response.status_code == 400
    assert load(app, Immersion, site.bob_past).tutor_id is None
    assert client.post(designate_url(999999), data={}).status_code == 404


def test_confirming_the_suggestion_of_the_organisme(app, client, site):
    with app.app_context():
        db.session.get(Immersion, site.bob_past).suggested_tutor_id = site.tutor_e
        db.session.commit()
    login_as(client, EMPLOYER)
    page = text(client.get("/tutorat"))
    assert "Paul Martin (suggestion à confirmer par l'entreprise)" in page
    assert "Confirmer la suggestion : Paul Martin" in page
    field = f"tutor{site.bob_past}-tutor_id"
    response = client.post(
        designate_url(site.bob_past), data={field: str(site.tutor_e)}, headers=HTMX
    )
    assert response.status_code == 200
    bob = load(app, Immersion, site.bob_past)
    assert (bob.tutor_id, bob.suggested_tutor_id) == (site.tutor_e, None)


# --- The tutor's home ----------------------------------------------------------------------------


def test_the_tutor_home_lists_what_is_due_with_dates_and_place(app, client, site):
    with app.app_context():
        evaluation = Evaluation(
            operation_id=site.operation,
            kind=EvaluationKind.JURY,
            held_at=utcnow().replace(microsecond=0) + timedelta(days=20),
            place="Centre d'examen d'Olivet",
        )
        evaluation.invitations.append(
            EvaluationInvitation(user_id=site.tutor_e, organisation_id=site.employer)
        )
        db.session.add(evaluation)
        immersion = db.session.get(Immersion, site.alice_past)
        immersion.practical_details = "Accueil 8 h, quai n° 3."
        db.session.commit()
    login_as(client, TUTOR_E)
    page = text(client.get("/tutorat"))
    todo = page.split('id="tutor-todo"', 1)[1].split("</section>", 1)[0]
    assert "Évaluer l'immersion d'Alice Durand" in todo
    assert "Jury de certification" in todo and "Centre d'examen d'Olivet" in todo
    assert "Accueil 8 h, quai n° 3." in page
    assert count(app, Immersion) == 6


def test_fuzz_a_refused_designation_without_js_flashes_its_french_error(app, client, site):
    """Issue #17 fuzz: an invalid tutor posted without htmx made a 500 (the validators' lazy
    messages joined as text); the flash now says what was wrong, nothing changes."""
    login_as(client, EMPLOYER)
    before = load(app, Immersion, site.bob_past).tutor_id
    response = client.post(
        designate_url(site.bob_past), data={f"tutor{site.bob_past}-tutor_id": "0"}
    )
    assert response.status_code == 303
    [(category, message)] = flashes(client)
    assert category == "error" and message
    assert load(app, Immersion, site.bob_past).tutor_id == before
