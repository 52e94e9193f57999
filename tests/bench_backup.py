"""Benchmark (issue #17): ``backup`` and ``restore`` timed on the demo and on a larger data
set — the demo plus 100,000 chained audit events, 20,000 accounts and 200 generated
documents of 256 kB (50 MB) — the figures behind the README's RPO/RTO.

Run with ``make drill`` (or ``python -m tests.bench_backup``). Uses a throw-away SQLite
file, or the PostgreSQL server given by ``BENCH_DATABASE_URL`` (a database is created and
dropped). The restore's time includes its checks (row counts, the whole audit chain).
"""

import os
import tempfile
import time
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import insert, select, update

from portal import create_app
from portal.accounts.models import Membership, Organisation, OrgKind, User
from portal.accounts.passwords import hash_password
from portal.audit.chain import canonical_event, event_hash
from portal.audit.models import AuditChainHead, AuditEvent
from portal.backups import archive
from portal.core import storage
from portal.core.time import utcnow
from portal.demo import load_demo
from portal.extensions import db
from tests.support import PASSWORD, app_config, temporary_database

EVENTS, ACCOUNTS, DOCUMENTS, DOCUMENT_BYTES = 100_000, 20_000, 200, 256 * 1024


def grow() -> None:
    """Add the larger data set to the demo (committed), the audit chain kept valid."""
    organisation = Organisation(kind=OrgKind.EMPLOYER, name="Grande entreprise (volume)")
    db.session.add(organisation)
    db.session.flush()
    password = hash_password(PASSWORD)
    users = [
        {"email": f"volume{n:05d}@example.fr", "first_name": "Volume", "last_name": f"{n:05d}",
         "password_hash": password}
        for n in range(ACCOUNTS)
    ]  # fmt: skip
    db.session.execute(insert(User), users)
    ids = db.session.scalars(select(User.id).where(User.email.like("volume%"))).all()
    db.session.execute(
        insert(Membership), [{"user_id": i, "organisation_id": organisation.id} for i in ids]
    )
    head = db.session.get(AuditChainHead, 1)
    seq, previous, rows = head.seq, head.hash, []
    for n in range(EVENTS):
        seq += 1
        fields = {
            "at": utcnow(), "actor_id": None, "organisation_id": organisation.id,
            "action": "bench.volume", "object_type": "Organisation",
            "object_id": organisation.id, "detail": {"n": n}, "ip": "", "user_agent": "",
        }  # fmt: skip
        digest = event_hash(previous, canonical_event(seq=seq, **fields))
        rows.append({"seq": seq, "prev_hash": previous, "hash": digest, **fields})
        previous = digest
    db.session.execute(insert(AuditEvent), rows)
    db.session.execute(update(AuditChainHead).values(seq=seq, hash=previous))
    db.session.commit()
    for n in range(DOCUMENTS):
        storage.write(f"volume/{n:03d}.pdf", os.urandom(DOCUMENT_BYTES))


def measure(label: str, folder: Path) -> str:
    """Back up then restore the current database; one line of figures."""
    target = folder / f"{label}.tar"
    backup = archive.create_backup(target)
    restore = archive.restore_backup(target)
    assert restore.problems == [], restore.problems
    rows = sum(backup.manifest["tables"].values())
    return (
        f"{label:<18} {rows:>8} lignes {len(backup.manifest['files']) - 1:>4} documents "
        f"{backup.size / 1e6:>8.1f} Mo   sauvegarde {backup.seconds:>6.2f} s   "
        f"restauration {restore.seconds:>6.2f} s"
    )


def main() -> None:
    base = os.environ.get("BENCH_DATABASE_URL")
    if base:
        os.environ["TEST_DATABASE_URL"] = base  # temporary_database creates it there
    lines = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        temporary_database("bench_backup", Path(tmp)) as url,
    ):
        app = create_app(app_config(url, TESTING=False, DOCUMENTS_DIR=str(Path(tmp) / "documents")))
        with app.test_request_context(base_url="http://portail.test"):
            upgrade()
            load_demo()
            db.session.commit()
            lines.append(measure("démo", Path(tmp)))
            started = time.perf_counter()
            grow()
            print(f"(données volumineuses créées en {time.perf_counter() - started:.0f} s)")  # noqa: T201
            lines.append(measure("démo + volume", Path(tmp)))
            db.session.remove()
            db.engine.dispose()
    dialect = "PostgreSQL" if base else "SQLite"
    print(f"\nSauvegarde et restauration ({dialect})")  # noqa: T201
    for line in lines:
        print(line)  # noqa: T201


if __name__ == "__main__":
    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)
    main()
