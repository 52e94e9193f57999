"""Argon2id hashing, rehash on a cost change, and the French password policy."""

import pytest

from portal.accounts import services
from portal.accounts.models import OrgKind
from portal.accounts.passwords import (
    common_passwords,
    hash_password,
    password_problems,
    verify_password,
)
from portal.core.errors import RuleError
from portal.extensions import db
from tests.factories import make_org, make_user
from tests.support import PASSWORD


def test_hash_is_argon2id_with_the_configured_cost(ctx):
    password_hash = hash_password(PASSWORD)
    assert password_hash.startswith("$argon2id$")
    assert "m=8192,t=1,p=1" in password_hash
    assert PASSWORD not in password_hash
    assert hash_password(PASSWORD) != password_hash  # salted


def test_verify_accepts_the_right_password_only(ctx):
    password_hash = hash_password(PASSWORD)
    assert verify_password(password_hash, PASSWORD) == (True, None)
    assert verify_password(password_hash, PASSWORD.upper()) == (False, None)
    assert verify_password(password_hash, "") == (False, None)
    assert verify_password("not-an-argon2-hash", PASSWORD) == (False, None)


def test_changed_cost_returns_a_new_hash(app, ctx, monkeypatch):
    old_hash = hash_password(PASSWORD)  # time_cost=1, the test configuration
    monkeypatch.setitem(app.config, "ARGON2_TIME_COST", 2)
    ok, new_hash = verify_password(old_hash, PASSWORD)
    assert ok
    assert new_hash is not None and new_hash != old_hash
    assert "t=2" in new_hash
    assert verify_password(new_hash, PASSWORD) == (True, None)
    # A wrong password never yields a new hash.
    assert verify_password(old_hash, "wrong password here") == (False, None)


def test_login_stores_the_rehashed_password(app, ctx, monkeypatch):
    user = make_user(make_org(OrgKind.PROVIDER))
    old_hash = user.password_hash
    assert "t=1" in old_hash
    monkeypatch.setitem(app.config, "ARGON2_TIME_COST", 2)
    services.authenticate(user.email, PASSWORD)
    db.session.flush()
    db.session.expire(user)
    assert user.password_hash != old_hash
    assert "t=2" in user.password_hash
    assert verify_password(user.password_hash, PASSWORD) == (True, None)


def test_short_password_is_refused_in_french(ctx):
    assert password_problems("court-11car") == [
        "Le mot de passe doit contenir au moins 12 caractères."
    ]
    assert password_problems("douze-carac!") == []


def test_overlong_password_is_refused(ctx):
    assert password_problems("a" * 257) == ["Le mot de passe ne peut dépasser 256 caractères."]


@pytest.mark.parametrize("password", ["azertyuiop123", "AZERTYUIOP123", "AzErTyUiOp123"])
def test_common_password_is_refused_case_insensitively(ctx, password):
    assert "azertyuiop123" in common_passwords()
    assert password_problems(password) == [
        "Ce mot de passe est trop courant et facile à deviner : choisissez-en un autre."
    ]


def test_shipped_list_only_holds_lower_cased_long_entries():
    passwords = common_passwords()
    assert len(passwords) > 1000
    assert all(len(p) >= 12 and p == p.lower() for p in passwords)


@pytest.mark.parametrize("password", ["camille.martin@example.fr", "Camille.Martin@EXAMPLE.fr"])
def test_password_equal_to_email_is_refused(ctx, password):
    assert password_problems(password, "camille.martin@example.fr") == [
        "Le mot de passe ne doit pas être votre adresse électronique."
    ]


def test_long_passphrase_is_accepted(ctx):
    passphrase = "des girafes mangent des clémentines au petit matin"
    assert password_problems(passphrase, "camille.martin@example.fr") == []


def test_create_user_applies_the_policy(ctx):
    with pytest.raises(RuleError) as excinfo:
        services.create_user("nina@example.fr", "Nina", "Simon", "azertyuiop123")
    assert excinfo.value.field == "password"
    assert "trop courant" in excinfo.value.message
