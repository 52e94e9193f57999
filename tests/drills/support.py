"""Support of the drills (issue #17): a convention with many signing parties, the portal's
gunicorn workers found and killed, and the integrity checks run after a drill.

The integrity checks read the database as the drills left it:

- SQLite's ``PRAGMA integrity_check`` and ``foreign_key_check``;
- on both databases, every foreign key resolved (no orphan row) and every unique key of
  the models unique, built from the SQLAlchemy metadata so a new table is checked too;
- no half-written record: each design section's versions numbered 1..N without a gap,
  the last one being the section's current version; each signature with its audit
  event, each version's status agreeing with its signatures;
- the audit chain verified (``portal/audit/services.verify_chain``).
"""

import os
import signal
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Index, UniqueConstraint, func, select, text

from portal.accounts.models import OrgKind
from portal.audit.models import AuditEvent
from portal.audit.services import verify_chain
from portal.conventions import services as conventions
from portal.conventions.models import ConventionVersion, Signature, VersionStatus
from portal.conventions.state import signing_parties, snapshot_of
from portal.design.models import DesignSection, SectionKey, SectionRevision
from portal.design.queries import load_design
from portal.extensions import db
from portal.operations import services as operations
from portal.operations.models import ParticipantRole
from tests.conventions.factories import CAPACITIES, make_convention_ready
from tests.design.concurrency_helpers import Editors
from tests.design.factories import to_co_design
from tests.factories import make_org, make_user

BASE_URL = "http://portail.test"


# --- A convention with many parties ------------------------------------------------------


@dataclass
class Signer:
    email: str
    consent: str


@dataclass
class ToSign:
    """A submitted version, its page, and who signs it."""

    operation_id: int
    number: int
    version_id: int
    signers: list[Signer]

    @property
    def page_path(self) -> str:
        return f"/operations/{self.operation_id}/convention/versions/{self.number}"

    @property
    def sign_path(self) -> str:
        return self.page_path + "/signature"

    def form(self, signer: Signer, password: str) -> dict:
        """What the signature form posts (the CSRF token is added by the browser)."""
        return {
            "sign-consent": "y",
            "sign-consent_text": signer.consent,
            "sign-password": password,
            "sign-code": "",
        }


def make_to_sign(app, parties: int, *, editors: int = 0) -> tuple[ToSign, Editors | None]:
    """Commit a version submitted for signature by ``parties`` signing organisations: the
    porteur, Entreprise E, Partenaire P and as many more employers as needed, each with
    its admin designated (confirmed) as signer; with ``editors``, a second operation of
    the same market in co-design, whose skills section that many members of Entreprise E
    edit."""
    with app.test_request_context(base_url=BASE_URL):
        ready = make_convention_ready()
        market = ready.market
        editing = None
        if editors:
            operation = to_co_design(market)
            emails = [
                make_user(market.employer, email=f"editor{n:02d}@example.fr").email
                for n in range(editors)
            ]
            section = load_design(operation.id).section(SectionKey.SKILLS)
            editing = Editors(operation.id, section.version, list(section.content["items"]), emails)
        for n in range(parties - len(ready.signers)):
            employer = make_org(OrgKind.EMPLOYER, f"Employeur {n:02d}")
            boss = make_user(employer, admin=True, email=f"signataire{n:02d}@example.fr")
            operations.add_participant(
                ready.operation, employer, ParticipantRole.EMPLOYER,
                by=market.a_user, org=market.of_a,
            )  # fmt: skip
            conventions.designate_signer(
                ready.convention, employer, boss, CAPACITIES["employer"], by=boss, by_org=employer
            )
            ready.signers.append((boss, employer))
        version = ready.submit()
        signers = [
            Signer(
                user.email,
                conventions.consent_text(
                    version, org, conventions.signer_for(ready.convention, org.id).capacity
                ),
            )
            for user, org in ready.signers
        ]
        assert len(signing_parties(snapshot_of(version))) == parties
        to_sign = ToSign(ready.operation.id, version.number, version.id, signers)
        db.session.commit()
        db.session.remove()
    return to_sign, editing


# --- gunicorn workers --------------------------------------------------------------------


def _parent_of(pid: str) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (read from /proc)."""
    return sorted(int(p) for p in os.listdir("/proc") if p.isdigit() and _parent_of(p) == pid)


def gunicorn_master() -> int:
    """The gunicorn master this test process started."""
    for pid in children(os.getpid()):
        if b"gunicorn" in Path(f"/proc/{pid}/cmdline").read_bytes():
            return pid
    raise RuntimeError("no gunicorn master started by this process")


def kill_9(pid: int) -> bool:
    """SIGKILL ``pid``; False when it was already gone."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True


# --- Integrity ---------------------------------------------------------------------------


def _foreign_key_orphans(connection) -> list[str]:
    problems = []
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            column, target = fk.parent, fk.column
            orphans = connection.execute(
                select(func.count())
                .select_from(table)
                .where(
                    column.is_not(None),
                    ~select(target).where(target == column).exists(),
                )
            ).scalar()
            if orphans:
                problems.append(f"{table.name}.{column.name}: {orphans} orphan row(s)")
    return problems


def _partial(index: Index):
    """The WHERE of a partial unique index (only the rows it covers must be unique)."""
    for dialect in ("postgresql", "sqlite"):
        where = index.dialect_options[dialect].get("where")
        if where is not None:
            return where
    return None


def _unique_keys(connection) -> list[str]:
    problems = []
    for table in db.metadata.sorted_tables:
        keys = [
            (list(c.columns), None) for c in table.constraints if isinstance(c, UniqueConstraint)
        ]
        keys += [([col], None) for col in table.columns if col.unique]
        keys += [
            (list(index.columns), _partial(index))
            for index in table.indexes
            if isinstance(index, Index) and index.unique and len(index.columns)
        ]
        for columns, partial in keys:
            duplicates = connection.execute(
                select(func.count()).select_from(
                    select(*columns)
                    .where(
                        *(c.is_not(None) for c in columns),
                        *([partial] if partial is not None else []),
                    )
                    .group_by(*columns)
                    .having(func.count() > 1)
                    .subquery()
                )
            ).scalar()
            if duplicates:
                names = ", ".join(c.name for c in columns)
                problems.append(f"{table.name} ({names}): {duplicates} duplicated key(s)")
    return problems


def _sections_without_gaps() -> list[str]:
    problems = []
    versions: dict[int, list[int]] = {}
    for section_id, version in db.session.execute(
        select(SectionRevision.section_id, SectionRevision.version)
        .where(SectionRevision.version.is_not(None))
        .order_by(SectionRevision.section_id, SectionRevision.version)
    ):
        versions.setdefault(section_id, []).append(version)
    for section_id, current in db.session.execute(select(DesignSection.id, DesignSection.version)):
        found = versions.get(section_id, [])
        if found != list(range(1, current + 1)):
            problems.append(f"section {section_id}: version {current}, revisions {found}")
    return problems


def _signatures_with_evidence() -> list[str]:
    problems = []
    audited = set()
    for detail in db.session.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == "convention.signed")
    ):
        audited.add(detail.get("signature"))
    for signature_id in db.session.scalars(select(Signature.id)):
        if signature_id not in audited:
            problems.append(f"signature {signature_id} without its audit event")
    for version in db.session.scalars(
        select(ConventionVersion).where(
            ConventionVersion.status.in_([VersionStatus.PARTIALLY_SIGNED, VersionStatus.SIGNED])
        )
    ):
        signed = sum(1 for s in version.signatures if s.voided_at is None)
        everyone = len(signing_parties(snapshot_of(version)))
        expected = VersionStatus.SIGNED if signed >= everyone else VersionStatus.PARTIALLY_SIGNED
        if signed == 0 or version.status != expected:
            problems.append(f"version {version.id}: {version.status} with {signed} signature(s)")
    return problems


def integrity_problems(app) -> list[str]:
    """Everything wrong with the database as it stands (empty when it is consistent)."""
    problems: list[str] = []
    with app.app_context():
        with db.engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                check = connection.execute(text("PRAGMA integrity_check")).scalars().all()
                if check != ["ok"]:
                    problems += [f"integrity_check: {line}" for line in check]
                problems += [
                    f"foreign_key_check: {row}"
                    for row in connection.execute(text("PRAGMA foreign_key_check"))
                ]
            problems += _foreign_key_orphans(connection)
            problems += _unique_keys(connection)
        problems += _sections_without_gaps()
        problems += _signatures_with_evidence()
        problems += [f"audit chain: {problem}" for problem in verify_chain()]
        db.session.remove()
    return problems
