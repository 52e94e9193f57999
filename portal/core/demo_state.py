"""Whether this database holds the demo data (banner, demo outbox, production refusal)."""

from sqlalchemy import exists, select

from portal.accounts.models import User
from portal.extensions import db

DEMO_DOMAIN = "demo.defi.test"


def has_demo_data() -> bool:
    """True when any account of the demo domain exists."""
    return bool(db.session.scalar(select(exists().where(User.email.like(f"%@{DEMO_DOMAIN}")))))


def demo_mode() -> bool:
    """Demo data is present (the banner shows and the outbox page opens)."""
    return has_demo_data()
