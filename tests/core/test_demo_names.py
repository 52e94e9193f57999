"""The demo gives every person a name of their own (issue #15): two people sharing a full
name, or a family name (« le même nom »), read as one person or as relatives, and a
mission locale adviser proposing a candidate of the same name looks like a conflict."""

import unicodedata
from collections import Counter

from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db
from portal.recruitment.models import Trainee
from tests.support import load_demo_copy


def plain(name: str) -> str:
    """``name`` compared as people read it: case and accents aside."""
    decomposed = unicodedata.normalize("NFD", name.casefold().strip())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def shared(names) -> list[str]:
    return sorted(name for name, n in Counter(plain(name) for name in names).items() if n > 1)


def test_no_two_people_of_the_demo_share_a_name(app):
    load_demo_copy(app)
    with app.app_context():
        people = [
            *db.session.execute(select(User.first_name, User.last_name)).all(),
            *db.session.execute(select(Trainee.first_name, Trainee.last_name)).all(),
        ]
    assert len(people) > 50  # users, candidates and trainees of every operation
    assert shared(f"{first} {last}" for first, last in people) == []
    assert shared(last for _first, last in people) == []
