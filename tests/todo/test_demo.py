"""What each demo account finds in « À faire » (the demo must show every role a duty)."""

import re

import pytest

from portal.demo import DEMO_LOGINS
from tests.support import load_demo_copy, login_as, text

# For each account, duties it must see (a part of the label each), issue #15.
EXPECTED = {}


@pytest.fixture
def demo(app):
    load_demo_copy(app)


def duty_labels(client) -> list[str]:
    page = text(client.get("/a-faire"))
    return re.findall(r'<li class="duty duty--[a-z_]+"><a href="[^"]*">([^<]*)</a>', page)


@pytest.mark.parametrize("email", [email for email, _role in DEMO_LOGINS])
def test_every_demo_account_has_something_to_do(app, client, demo, email):
    login_as(client, email)
    labels = duty_labels(client)
    print(f"\n{email}:", *labels, sep="\n  ")
    assert labels, f"{email} has nothing to do in the demo"
    for expected in EXPECTED.get(email.split("@")[0], []):
        assert any(expected in label for label in labels), (expected, labels)
