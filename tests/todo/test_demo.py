"""What each demo account finds in « À faire » (the demo must show every role a duty)."""

import re

import pytest

from portal.demo import DEMO_LOGINS
from tests.support import HTMX, load_demo_copy, login_as, text

# For each account, duties it must see (a part of each label), from the demo's story
# (portal/demo/), issue #15. Every role has something to do.
EXPECTED = {
    "region": ["Accuser réception du besoin signalé.", "Approuver la co-conception"],
    "referent.orleans": ["Accuser réception du besoin signalé.", "Approuver la co-conception"],
    "of": ["Tenir 3 retour(s) d'expérience après immersion", "suivi(s) dans l'emploi"],
    "of2": ["Compléter l'analyse des besoins et la transmettre à la Région."],
    "employeur": [
        "Signer la version 2 de la convention.",  # the amendment, before the Région's
        "commentaire(s) vous mentionnent",
        "attendent l'évaluation du ou de la tuteur·rice",
        "Désigner le ou la tuteur·rice",
        "Action du comité de pilotage",
        "suivi(s) dans l'emploi",
    ],
    "tuteur": [
        "La version 2 de la convention attend la signature de Nathalie Girard",
        "attendent l'évaluation du ou de la tuteur·rice",
    ],
    "boulangerie": ["Signer la version 2 de la convention."],
    "entrepot": ["Signer la version 2 de la convention."],
    "partenaire": ["suivi(s) dans l'emploi", "Action du comité de pilotage"],
    "mission.locale": ["suivi(s) dans l'emploi"],
}
# The Tours referent's only open operation waits for the organisme's needs analysis.
NOTHING_TO_DO = {"referente.tours"}


@pytest.fixture
def demo(app):
    load_demo_copy(app)


def duty_labels(client) -> list[str]:
    page = text(client.get("/a-faire"))
    return re.findall(r'<li class="duty duty--[a-z_]+"><a href="[^"]*">([^<]*)</a>', page)


@pytest.mark.parametrize("email", [email for email, _role in DEMO_LOGINS])
def test_what_each_demo_account_has_to_do(app, client, demo, email):
    login_as(client, email)
    labels = duty_labels(client)
    account = email.split("@")[0]
    if account in NOTHING_TO_DO:
        assert labels == []
        return
    for expected in EXPECTED[account]:
        assert any(expected in label for label in labels), (expected, labels)


def test_the_employer_is_told_where_its_signature_is_awaited(app, client, demo):
    login_as(client, "employeur@demo.defi.test")
    home = text(client.get("/"))
    card = home.split('id="todo-title"', 1)[1].split("</section>", 1)[0]
    assert "Signer la version 2 de la convention." in card
    assert "Préparateur·rice de commandes — session de Saran" in card


def header_count(client) -> int:
    fragment = text(client.get("/a-faire/compte", headers=HTMX))
    found = re.search(r'id="todo-count">(\d+)<', fragment)
    return int(found.group(1)) if found else 0


@pytest.mark.parametrize("email", [email for email, _role in DEMO_LOGINS])
def test_the_header_count_is_the_number_of_duties_listed(app, client, demo, email):
    """The count is computed for every page: it stays exactly the length of the list."""
    login_as(client, email)
    assert header_count(client) == len(duty_labels(client))
