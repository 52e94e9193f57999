"""One archive (.tar) holds a consistent copy of the database, the generated documents
(``DOCUMENTS_DIR``) and a manifest: each member's SHA-256, the row count of every table and
the audit chain's head, all read from the same snapshot as the copy.

- SQLite: the online backup API of ``sqlite3`` copies the live file page by page while the
  portal keeps serving; the counts and the head are read from the copy itself.
- PostgreSQL: ``pg_dump -Fc`` run on a snapshot exported by a REPEATABLE READ transaction
  (``pg_export_snapshot``), the transaction in which the counts and the head are read.

A restore checks every member against the manifest before touching anything, then writes
the database back (SQLite: the backup API into the live file; PostgreSQL: ``pg_restore
--clean --if-exists --single-transaction``, all or nothing), replaces the documents, and
checks the result: counts and chain head as in the manifest, the audit chain verified.
The exports (``EXPORTS_DIR``) are not kept: they live a day and can be asked for again.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

from portal.audit.services import verify_chain
from portal.core.errors import RuleError
from portal.core.time import utcnow
from portal.extensions import db

FORMAT = "portail-defi-sauvegarde/1"
MANIFEST = "manifest.json"
DOCUMENTS = "documents"
DATABASE_MEMBER = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
TABLES_SQL = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    "postgresql": "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()",
}
CHUNK = 1024 * 1024


@dataclass
class Outcome:
    """What a backup or a restore did: the archive, its size, the time taken, the manifest
    and, after a restore, the problems its checks found (empty when everything matches)."""

    path: Path
    size: int
    seconds: float
    manifest: dict
    problems: list[str] = field(default_factory=list)


def _dialect() -> str:
    name = db.engine.dialect.name
    if name not in DATABASE_MEMBER:
        raise RuleError(f"Base de données non prise en charge : {name}.")
    return name


def _sqlite_path(*, existing: bool = True) -> Path:
    """The SQLite file: it must exist to be backed up (``sqlite3.connect`` would create an
    empty one); a restore may create it (a new machine)."""
    path = Path(db.engine.url.database or "")
    if existing and not path.is_file():
        raise RuleError(f"La base SQLite {path} n'existe pas.")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def database_facts(execute, dialect: str) -> dict:
    """Row counts of every table and the audit chain's head, through ``execute(sql)``."""
    tables = sorted(row[0] for row in execute(TABLES_SQL[dialect]))
    counts = {name: execute(f'SELECT count(*) FROM "{name}"')[0][0] for name in tables}  # noqa: S608 - names from the catalogue
    head = execute("SELECT seq, hash FROM audit_chain_head") if "audit_chain_head" in tables else []
    revision = (
        execute("SELECT version_num FROM alembic_version") if "alembic_version" in tables else []
    )
    return {
        "tables": counts,
        "audit_chain_head": {"seq": head[0][0], "hash": head[0][1]} if head else None,
        "alembic_revision": revision[0][0] if revision else None,
    }


def _libpq(url) -> tuple[str, dict]:
    """The database's libpq URI (no password) and the environment carrying the password."""
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = url.password
    uri = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _run(command: list[str], env: dict) -> None:
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603 - fixed programs, our own arguments
    except FileNotFoundError as exc:
        raise RuleError(
            f"{command[0]} est introuvable : installez le client PostgreSQL "
            "(paquet postgresql-client, de la version du serveur)."
        ) from exc
    if result.returncode != 0:
        raise RuleError(f"{command[0]} a échoué : {result.stderr.strip()[-800:]}")


def _dump_sqlite(target: Path) -> dict:
    source = sqlite3.connect(_sqlite_path())
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        return database_facts(lambda sql: copy.execute(sql).fetchall(), "sqlite")
    finally:
        copy.close()
        source.close()


def _dump_postgresql(target: Path) -> dict:
    uri, env = _libpq(db.engine.url)
    engine = db.engine.execution_options(isolation_level="REPEATABLE READ")
    with engine.connect() as connection, connection.begin():
        snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
        facts = database_facts(lambda sql: connection.exec_driver_sql(sql).fetchall(), "postgresql")
        # pg_dump sees exactly what this transaction sees while it stays open.
        _run(
            ["pg_dump", "-Fc", "--no-owner", f"--snapshot={snapshot}", "-f", str(target), uri],
            env,
        )
    return facts


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def documents_dir() -> Path:
    """The generated documents' folder (``DOCUMENTS_DIR``)."""
    return Path(current_app.config["DOCUMENTS_DIR"])


def _document_files() -> list[Path]:
    folder = documents_dir()
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and not path.name.startswith(".tmp-")  # a document being written (core/storage.py)
        and not any(part.startswith(".restauration-") for part in path.parts)
    )


def default_destination() -> Path:
    """``BACKUPS_DIR/portail-YYYYMMDD-HHMMSS.tar`` (UTC)."""
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    return Path(current_app.config["BACKUPS_DIR"]) / f"portail-{stamp}.tar"


def create_backup(destination: Path) -> Outcome:
    """Write the archive to ``destination`` (atomically: a temporary name, then renamed)."""
    started = time.perf_counter()
    dialect = _dialect()
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=destination.parent, prefix=".sauvegarde-") as work:
        dump = Path(work) / DATABASE_MEMBER[dialect]
        facts = (_dump_sqlite if dialect == "sqlite" else _dump_postgresql)(dump)
        members = {DATABASE_MEMBER[dialect]: dump}
        folder = documents_dir()
        for path in _document_files():
            members[f"{DOCUMENTS}/{path.relative_to(folder).as_posix()}"] = path
        manifest = {
            "format": FORMAT,
            "created_at": utcnow().isoformat(timespec="seconds"),
            "dialect": dialect,
            "database": DATABASE_MEMBER[dialect],
            **facts,
            "files": {name: _sha256(path) for name, path in members.items()},
        }
        manifest_path = Path(work) / MANIFEST
        manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), "utf-8")
        partial = Path(work) / "archive.tar"
        with tarfile.open(partial, "w") as archive:
            archive.add(manifest_path, MANIFEST)
            for name, path in members.items():
                archive.add(path, name)
        os.replace(partial, destination)
    return Outcome(destination, destination.stat().st_size, time.perf_counter() - started, manifest)


def read_manifest(archive: tarfile.TarFile) -> dict:
    """The archive's manifest; a French ``RuleError`` when it is not one of ours."""
    try:
        manifest = json.load(archive.extractfile(MANIFEST))
    except (KeyError, AttributeError, ValueError) as exc:
        raise RuleError(
            "Ce fichier n'est pas une sauvegarde du portail (manifeste absent)."
        ) from exc
    if manifest.get("format") != FORMAT:
        raise RuleError(f"Format de sauvegarde inconnu : {manifest.get('format')!r}.")
    return manifest


def _unpack_checked(archive: tarfile.TarFile, manifest: dict, into: Path) -> None:
    """Extract the members the manifest lists, refusing any whose SHA-256 differs."""
    names = set(archive.getnames()) - {MANIFEST}
    if names != set(manifest["files"]):
        raise RuleError("La sauvegarde est incomplète ou contient des fichiers inattendus.")
    archive.extractall(into, members=[archive.getmember(n) for n in names], filter="data")
    for name, expected in manifest["files"].items():
        if _sha256(into / name) != expected:
            raise RuleError(f"Empreinte SHA-256 incorrecte pour {name} : sauvegarde altérée.")


def _restore_sqlite(dump: Path) -> None:
    source = sqlite3.connect(dump)
    live = sqlite3.connect(_sqlite_path(existing=False))
    try:
        source.backup(live)
    finally:
        live.close()
        source.close()


def _restore_postgresql(dump: Path) -> None:
    uri, env = _libpq(db.engine.url)
    _run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--dbname",
            uri,
            str(dump),
        ],
        env,
    )


def _replace_documents(unpacked: Path) -> None:
    """Empty ``DOCUMENTS_DIR`` and move the archived documents in (the folder itself may be
    a mount point: it is kept, only its contents change)."""
    folder = documents_dir()
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder, prefix=".restauration-"))
    source = unpacked / DOCUMENTS
    if source.is_dir():
        for entry in source.iterdir():
            shutil.move(str(entry), staging / entry.name)
    for entry in folder.iterdir():
        if entry != staging:
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    for entry in staging.iterdir():
        os.replace(entry, folder / entry.name)
    staging.rmdir()


def check_against(manifest: dict) -> list[str]:
    """How the live database differs from ``manifest`` (French), and the chain's problems."""
    with db.engine.connect() as connection:
        facts = database_facts(
            lambda sql: connection.exec_driver_sql(sql).fetchall(), manifest["dialect"]
        )
    problems = [
        f"Table {name} : {facts['tables'].get(name)} ligne(s) au lieu de {count}."
        for name, count in manifest["tables"].items()
        if facts["tables"].get(name) != count
    ]
    if facts["audit_chain_head"] != manifest["audit_chain_head"]:
        problems.append("La tête de la chaîne d'audit diffère de celle de la sauvegarde.")
    problems += [f"Chaîne d'audit : {problem}" for problem in verify_chain()]
    db.session.remove()
    return problems


def restore_backup(path: Path) -> Outcome:
    """Put the database and the documents back as ``path`` holds them, then check them."""
    started = time.perf_counter()
    dialect = _dialect()
    try:
        archive = tarfile.open(path, "r")  # noqa: SIM115 - closed by the with below
    except (OSError, tarfile.TarError) as exc:
        raise RuleError(f"Impossible de lire la sauvegarde {path} : {exc}") from exc
    with archive, tempfile.TemporaryDirectory(prefix="restauration-") as work:
        manifest = read_manifest(archive)
        if manifest["dialect"] != dialect:
            raise RuleError(
                f"Cette sauvegarde vient d'une base {manifest['dialect']} : "
                f"elle ne se restaure pas dans une base {dialect}."
            )
        _unpack_checked(archive, manifest, Path(work))
        # No connection of ours may hold a transaction while the database is replaced.
        db.session.remove()
        db.engine.dispose()
        dump = Path(work) / manifest["database"]
        (_restore_sqlite if dialect == "sqlite" else _restore_postgresql)(dump)
        _replace_documents(Path(work))
    db.engine.dispose()
    problems = check_against(manifest)
    return Outcome(path, path.stat().st_size, time.perf_counter() - started, manifest, problems)
