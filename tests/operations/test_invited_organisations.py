"""Organisations invited by an organisme de formation (issue #11 M6): « à vérifier » until
the Région confirms them, they cannot sign meanwhile, and whoever invites one never
becomes its member."""

import pytest
from sqlalchemy import select

from portal.accounts import invitations
from portal.accounts import services as accounts
from portal.conventions import services as conventions
from portal.core.errors import RuleError
from portal.extensions import db
from portal.notifications.models import Notification
from portal.operations import services
from portal.operations.models import ParticipantRole
from tests.conventions.factories import make_convention_ready
from tests.operations.factories import REGION_ADMIN, Market
from tests.support import committed, login_as, org_named, text


@pytest.fixture
def market(ctx):
    return Market()


def test_an_invited_organisation_is_to_verify_and_the_region_is_told(market):
    """Issue #11 M6: the organisation created by an OF's invitation is « à vérifier »."""
    operation = market.report()
    participant = services.invite_new_organisation(
        operation, "Boulangerie Neuve", "gerant@boulangerie.example.fr",
        ParticipantRole.EMPLOYER, by=market.a_user, org=market.of_a, siret="90000000008012",
    )  # fmt: skip
    organisation = participant.organisation
    assert not organisation.is_verified
    told = db.session.scalars(
        select(Notification.user_id).where(Notification.kind == "organisation_to_verify")
    ).all()
    assert told == [market.region_admin.id]
    accounts.verify_organisation(organisation, by=market.region_admin)
    assert organisation.is_verified and organisation.verified_by_id == market.region_admin.id


@pytest.mark.parametrize(
    ("siret", "message"),
    [("", "Indiquez le SIRET"), ("90000000008013", "SIRET n'est pas valide")],
)
def test_an_invited_employer_needs_a_valid_siret(market, siret, message):
    """Issue #11 M6: an employer invited by an OF has a SIRET, checked (Luhn key)."""
    operation = market.report()
    with pytest.raises(RuleError, match=message) as error:
        services.invite_new_organisation(
            operation, "Boulangerie Neuve", "gerant@boulangerie.example.fr",
            ParticipantRole.EMPLOYER, by=market.a_user, org=market.of_a, siret=siret,
        )  # fmt: skip
    assert error.value.field == "siret"


def test_the_inviter_never_becomes_a_member_of_the_invited_organisation(market):
    """Issue #11 M6: an OF cannot invite itself as admin of a new employer (to sign twice),
    nor accept an invitation it sent."""
    operation = market.report()
    with pytest.raises(RuleError, match="jamais membre") as error:
        services.invite_new_organisation(
            operation, "Entreprise Fantôme", market.a_user.email.upper(),
            ParticipantRole.EMPLOYER, by=market.a_user, org=market.of_a, siret="90000000008012",
        )  # fmt: skip
    assert error.value.field == "email"
    # Nor through any other invitation it sent (here one to its own address).
    invitation, _token = invitations.invite(market.a_user.email, market.employer2, by=market.a_user)
    with pytest.raises(RuleError, match="propre invitation"):
        invitations.accept_invitation(invitation, password="irrelevant")
    assert invitation.accepted_at is None


def test_an_organisation_to_verify_cannot_sign(ctx):
    """Issue #11 M6: it may take part meanwhile, but signs only once the Région confirms."""
    ready = make_convention_ready()
    market = ready.market
    market.employer.verified_at = None
    version = ready.submit()
    assert conventions.signing_problems(version, market.employer_user, market.employer) == [
        "Entreprise E est à vérifier par la Région : elle signe une fois confirmée."
    ]
    accounts.verify_organisation(market.employer, by=market.region_admin)
    assert conventions.signing_problems(version, market.employer_user, market.employer) == []


def test_the_region_admin_confirms_it_from_the_organisations_page(app, client):
    """Issue #11 M6: the Région's admin page lists it « à vérifier » with a confirm button."""
    with committed(app):
        market = Market()
        market.employer.verified_at = None
        employer_id = market.employer.id
    login_as(client, REGION_ADMIN)
    page = text(client.get("/administration/organisations"))
    assert "à vérifier" in page and "Confirmer l'organisation" in page
    response = client.post(f"/administration/organisations/{employer_id}/verification")
    assert response.status_code == 303
    with app.app_context():
        assert org_named("Entreprise E").is_verified
