"""Who designates the signer of a party (issue #11 M5): the party's own admins; the
organisme porteur and the Région only propose, and the party's admins confirm; the signer
is an active member of the party, and one person never signs for two parties."""

import pytest
from sqlalchemy import select

from portal.accounts import services as accounts
from portal.conventions import services
from portal.core.errors import RuleError
from portal.extensions import db
from portal.notifications.models import Notification
from tests.conventions.factories import make_convention_ready, sign_as
from tests.conventions.helpers_views import (
    EMPLOYER_MEMBER,
    build,
    designate_data,
    designation,
    url,
)
from tests.factories import make_user
from tests.operations.factories import EMPLOYER, OF_A
from tests.support import login_as, text


@pytest.fixture
def ready(ctx):
    return make_convention_ready()


def test_the_porteur_only_proposes_and_the_party_admin_confirms(ready):
    """Issue #11 M5: a signer designated by the organisme porteur for another party is a
    proposal: the party's admins are told, its signer cannot sign nor the convention be
    submitted until an admin of the party confirms."""
    market = ready.market
    colleague = make_user(market.employer, email="e.colleague@example.fr", first_name="Inès")
    proposal = services.designate_signer(
        ready.convention, market.employer, colleague, "directrice",
        by=market.a_user, by_org=market.of_a,
    )  # fmt: skip
    assert not proposal.is_confirmed
    told = db.session.scalars(
        select(Notification.user_id).where(Notification.kind == "signer_proposed")
    ).all()
    assert told == [market.employer_user.id]
    assert "Signataire à confirmer par les administrateurs de : Entreprise E." in (
        services.submission_problems(ready.convention)
    )
    with pytest.raises(RuleError, match="administrateurs d'Entreprise E confirment"):
        services.confirm_signer(
            ready.convention, market.employer, by=market.a_user, by_org=market.of_a
        )
    services.confirm_signer(
        ready.convention, market.employer, by=market.employer_user, by_org=market.employer
    )
    assert proposal.is_confirmed and proposal.confirmed_by_id == market.employer_user.id
    version = ready.submit()
    sign_as(version, colleague, market.employer)


def test_an_unconfirmed_signer_cannot_sign(ready):
    """Issue #11 M5: a signer proposed by the Région after submission is refused at signing
    time until an admin of the party confirms."""
    market = ready.market
    version = ready.submit()
    colleague = make_user(market.partner, email="p.colleague@example.fr")
    services.designate_signer(
        ready.convention, market.partner, colleague, "directeur",
        by=market.referent, by_org=market.region,
    )  # fmt: skip
    assert services.signing_problems(version, colleague, market.partner) == [
        "Votre désignation attend la confirmation des administrateurs de Partenaire P."
    ]
    services.confirm_signer(
        ready.convention, market.partner, by=market.partner_user, by_org=market.partner
    )
    assert services.signing_problems(version, colleague, market.partner) == []


def test_another_participant_cannot_designate_a_party_signer(ready):
    """Issue #11 M5: an employer (not the porteur, not the Région) may not pick the signer
    of another party, and a non-admin member may not designate their own party's."""
    market = ready.market
    with pytest.raises(RuleError, match="administrateurs de Partenaire P désignent"):
        services.designate_signer(
            ready.convention, market.partner, market.partner_user, "directeur",
            by=market.employer_user, by_org=market.employer,
        )  # fmt: skip
    member = make_user(market.employer, email="e.member2@example.fr")
    with pytest.raises(RuleError, match="administrateurs d'Entreprise E désignent"):
        services.designate_signer(
            ready.convention, market.employer, member, "gérant",
            by=member, by_org=market.employer,
        )  # fmt: skip


def test_one_person_never_signs_for_two_parties(ready):
    """Issue #11 M5: a member of two parties is refused as the second party's signer."""
    market = ready.market
    accounts.add_membership(market.employer_user, market.partner, is_admin=True)
    with pytest.raises(RuleError, match="une personne ne signe que pour une partie") as error:
        services.designate_signer(
            ready.convention, market.partner, market.employer_user, "directeur",
            by=market.employer_user, by_org=market.partner,
        )  # fmt: skip
    assert error.value.field == "user_id"


def test_the_party_admin_confirms_on_the_page(app, client, other_client):
    """Issue #11 M5: the porteur's choice shows « à confirmer »; a plain member of the
    party may not confirm (403); its admin confirms."""
    op = build(app, designate=False)
    login_as(client, OF_A)
    response = client.post(
        url(op, f"/signataires/{op.employer}"),
        data=designate_data(op.employer, op.employer_user, "gérant"),
    )
    assert response.status_code == 303
    assert not designation(app, op, op.employer).is_confirmed
    login_as(other_client, EMPLOYER_MEMBER)
    confirm = url(op, f"/signataires/{op.employer}/confirmation")
    assert other_client.post(confirm).status_code == 403
    other_client.post("/deconnexion")
    login_as(other_client, EMPLOYER)
    page = text(other_client.get(url(op)))
    assert "à confirmer par les administrateurs" in page and "Confirmer ce signataire" in page
    assert other_client.post(confirm).status_code == 303
    assert designation(app, op, op.employer).is_confirmed
