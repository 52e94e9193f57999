"""Factories of the accounts area used by every other: territories, organisations, users."""

import uuid

import pyotp
from flask import current_app

from portal.accounts import mfa, services
from portal.accounts.models import Organisation, OrgKind, Territory, User
from portal.accounts.passwords import hash_password
from portal.core.time import utcnow
from portal.extensions import db
from tests.support import PASSWORD, is_empty, read_rows, write_rows

_PASSWORD_HASHES: dict[tuple, str] = {}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def make_territory(name: str | None = None, code: str | None = None) -> Territory:
    territory = Territory(code=code or unique("T").upper(), name=name or unique("Bassin"))
    db.session.add(territory)
    db.session.flush()
    return territory


def make_org(kind: OrgKind = OrgKind.PROVIDER, name: str | None = None, **fields) -> Organisation:
    organisation = Organisation(kind=kind, name=name or unique(kind.value), **fields)
    db.session.add(organisation)
    db.session.flush()
    return organisation


def _shared_password_hash() -> str:
    """The hash of ``PASSWORD`` at the app's Argon2 cost, computed once per cost.

    Argon2 is slow on purpose and tests create thousands of users; the real hashing path
    (``services.create_user``) is tested in tests/accounts and used for any other password.
    """
    cfg = current_app.config
    cost = (cfg["ARGON2_TIME_COST"], cfg["ARGON2_MEMORY_COST"], cfg["ARGON2_PARALLELISM"])
    if cost not in _PASSWORD_HASHES:
        _PASSWORD_HASHES[cost] = hash_password(PASSWORD)
    return _PASSWORD_HASHES[cost]


def make_user(
    org: Organisation | None = None,
    *,
    email: str | None = None,
    admin: bool = False,
    tutor: bool = False,
    password: str = PASSWORD,
    first_name: str = "Camille",
    last_name: str = "Martin",
) -> User:
    """A user (member of ``org`` if given) who logs in with ``password``."""
    email = email or f"{unique('user')}@example.fr"
    if password == PASSWORD:
        user = User(
            email=services.normalize_email(email),
            first_name=first_name,
            last_name=last_name,
            phone="",
            password_hash=_shared_password_hash(),
        )
        db.session.add(user)
        db.session.flush()
    else:
        user = services.create_user(email, first_name, last_name, password)
    if org is not None:
        services.add_membership(user, org, is_admin=admin, is_tutor=tutor)
    return user


def enrol_totp(user: User) -> list[str]:
    """Give ``user`` a confirmed second factor; returns the ten recovery codes (the secret
    is ``user.totp_secret``, for ``pyotp.TOTP(secret).now()``)."""
    user.totp_secret = pyotp.random_base32()
    user.totp_enabled_at = utcnow()
    return mfa.issue_recovery_codes(user)


# Per database: the rows the first world wrote into an empty one, and its ids.
_WORLD_COPIES: dict[str, dict] = {}


def make_world(app):
    """A small committed world: the Région, two OF, an employer, a partner, with admins.

    Built through the factories the first time in a process; after that, in an empty
    database, its rows are copied back (same identifiers), as ``Market`` does: some four
    hundred tests start from it, and its seven accounts cost ~100 ms to build on
    PostgreSQL against a few to copy (tests/core/test_world_copy.py checks a copy)."""
    with app.app_context(), db.engine.begin() as conn:
        empty = is_empty(conn)
        copy = _WORLD_COPIES.get(str(db.engine.url))
        if empty and copy:
            write_rows(conn, copy["rows"])
            return _world(copy["ids"], copy["emails"])
    with app.app_context():
        ids, emails = _build_world()
        if empty:
            with db.engine.connect() as conn:
                rows = read_rows(conn)
            _WORLD_COPIES[str(db.engine.url)] = {"rows": rows, "ids": ids, "emails": emails}
    return _world(ids, emails)


def _world(ids: dict, emails: dict):
    return type("World", (), {"ids": dict(ids), "emails": dict(emails), **ids})


def _build_world() -> tuple[dict, dict]:
    region = make_org(OrgKind.REGION, "Région Centre-Val de Loire")
    of_a = make_org(OrgKind.PROVIDER, "Organisme A")
    of_b = make_org(OrgKind.PROVIDER, "Organisme B")
    employer = make_org(OrgKind.EMPLOYER, "Entreprise E")
    partner = make_org(OrgKind.PARTNER, "Partenaire P")
    people = {
        "region_admin": make_user(region, admin=True, email="region.admin@example.fr"),
        "region_member": make_user(region, email="region.member@example.fr"),
        "a_admin": make_user(of_a, admin=True, email="a.admin@example.fr"),
        "a_member": make_user(of_a, email="a.member@example.fr"),
        "b_admin": make_user(of_b, admin=True, email="b.admin@example.fr"),
        "employer_admin": make_user(employer, admin=True, email="e.admin@example.fr"),
        "partner_admin": make_user(partner, admin=True, email="p.admin@example.fr"),
    }
    db.session.commit()
    ids = {
        "region": region.id,
        "of_a": of_a.id,
        "of_b": of_b.id,
        "employer": employer.id,
        "partner": partner.id,
    }
    ids.update({key: user.id for key, user in people.items()})
    emails = {key: user.email for key, user in people.items()}
    return ids, emails
