"""Password hashing (Argon2id) and the password policy."""

import contextlib
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from flask_babel import gettext as _

MIN_LENGTH = 12
MAX_LENGTH = 256


def hasher() -> PasswordHasher:
    """The Argon2id hasher with the application's configured cost."""
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg["ARGON2_TIME_COST"],
        memory_cost=cfg["ARGON2_MEMORY_COST"],
        parallelism=cfg["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    """Hash ``password`` with Argon2id."""
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> tuple[bool, str | None]:
    """Check ``password``; return (ok, new_hash) where new_hash is set when parameters changed."""
    ph = hasher()
    try:
        ph.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    if ph.check_needs_rehash(password_hash):
        return True, ph.hash(password)
    return True, None


_DUMMY_HASHES: dict[tuple, str] = {}


def burn_verification_time(password: str) -> None:
    """Spend the time of a real verification so unknown e-mails are not told apart by timing."""
    ph = hasher()
    key = (ph.time_cost, ph.memory_cost, ph.parallelism)
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = ph.hash("not-a-real-password-for-timing")
    with contextlib.suppress(VerificationError):
        ph.verify(_DUMMY_HASHES[key], password)


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (lower-cased, 12+ characters)."""
    text = resources.files("portal.accounts").joinpath("data/common_passwords.txt").read_text()
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def password_problems(password: str, email: str = "") -> list[str]:
    """French reasons why ``password`` is refused; empty when it is acceptable."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(_("Le mot de passe doit contenir au moins %(n)d caractères.", n=MIN_LENGTH))
    elif len(password) > MAX_LENGTH:
        problems.append(_("Le mot de passe ne peut dépasser %(n)d caractères.", n=MAX_LENGTH))
    elif password.lower() in common_passwords():
        problems.append(
            _("Ce mot de passe est trop courant et facile à deviner : choisissez-en un autre.")
        )
    elif email and password.lower() == email.lower():
        problems.append(_("Le mot de passe ne doit pas être votre adresse électronique."))
    return problems
