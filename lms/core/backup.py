"""Backup and restore of the database and the instance folder (``flask lms backup|restore``).

A backup is a folder:

* ``database.dump``: PostgreSQL, ``pg_dump --format=custom`` (one consistent snapshot), or
  ``database.sqlite3``: SQLite, a copy made by SQLite's online backup API (consistent too,
  even while the app writes);
* ``instance.tar.gz``: the instance folder (issuer keys, secret key, course imports, mail,
  config.py), without the SQLite database files, which the first item holds;
* ``manifest.json``: when, which database kind, the schema revision, and the row count of each
  table (``restore`` checks them).

The database is copied first, then the files: a file written in between (a new certificate
PDF) is extra, never missing, and PDFs are rendered again on demand anyway.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from lms.core.extensions import db

MANIFEST = "manifest.json"
PG_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite3"
INSTANCE_ARCHIVE = "instance.tar.gz"


class BackupError(RuntimeError):
    """A backup or restore cannot go on; the message says why."""


@dataclass(frozen=True)
class Manifest:
    created_at: str
    database: str  # "postgresql" | "sqlite"
    revision: str | None
    rows: dict[str, int]


def _engine() -> sa.Engine:
    return db.engine


def _kind(engine: sa.Engine) -> str:
    name = engine.url.get_backend_name()
    if name not in ("postgresql", "sqlite"):
        raise BackupError(f"backups support PostgreSQL and SQLite, not {name}")
    return name


def row_counts(engine: sa.Engine) -> dict[str, int]:
    """Rows per table (every table of the schema, alembic_version included)."""
    tables = sorted(sa.inspect(engine).get_table_names())
    with engine.connect() as connection:
        return {
            table: connection.scalar(sa.select(sa.func.count()).select_from(sa.table(table)))
            for table in tables
        }


def _revision(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        try:
            return connection.scalar(sa.text("SELECT version_num FROM alembic_version"))
        except sa.exc.DatabaseError:
            return None


def _pg_tool(name: str) -> str:
    folder = current_app.config.get("POSTGRES_BIN_DIR")
    path = str(Path(folder) / name) if folder else shutil.which(name)
    if not path or not Path(path).exists():
        raise BackupError(
            f"{name} not found: install the PostgreSQL client or set POSTGRES_BIN_DIR"
        )
    return path


def _pg_command(engine: sa.Engine, tool: str, *args: str) -> None:
    """Run a PostgreSQL client tool on the app's database; the password travels in the
    environment (PGPASSWORD), never on the command line."""
    url = engine.url
    target = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    done = subprocess.run(  # noqa: S603 (a PostgreSQL tool with our arguments, no shell)
        [_pg_tool(tool), "--dbname", target, *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"{tool} failed: {done.stderr.strip()}")


def _sqlite_path(engine: sa.Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy, page by page, of a database in use."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def _skipped_files(instance: Path, engine: sa.Engine, folder: Path) -> set[Path]:
    skip = {folder.resolve()}
    if _kind(engine) == "sqlite":
        database = _sqlite_path(engine).resolve()
        skip |= {
            database,
            Path(f"{database}-wal"),
            Path(f"{database}-shm"),
            Path(f"{database}-journal"),
        }
    return skip


def backup(folder: Path) -> Manifest:
    """Write a backup of the database and the instance folder into ``folder`` (new or empty)."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: back up into a new folder")
    folder.mkdir(parents=True, exist_ok=True)
    engine = _engine()
    kind = _kind(engine)
    db.session.remove()
    rows = row_counts(engine)
    if kind == "postgresql":
        _pg_command(
            engine, "pg_dump", "--format=custom", "--no-owner", "--file", str(folder / PG_DUMP)
        )
    else:
        _sqlite_copy(_sqlite_path(engine), folder / SQLITE_COPY)

    instance = Path(current_app.instance_path)
    skipped = _skipped_files(instance, engine, folder)
    with tarfile.open(folder / INSTANCE_ARCHIVE, "w:gz") as archive:
        for path in sorted(instance.rglob("*")) if instance.exists() else []:
            if path.resolve() in skipped or any(p in skipped for p in path.resolve().parents):
                continue
            if path.is_file() and not path.is_symlink():
                archive.add(path, arcname=str(path.relative_to(instance)), recursive=False)
    manifest = Manifest(
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        database=kind,
        revision=_revision(engine),
        rows=rows,
    )
    (folder / MANIFEST).write_text(json.dumps(manifest.__dict__, indent=2) + "\n")
    return manifest


def read_manifest(folder: Path) -> Manifest:
    try:
        return Manifest(**json.loads((Path(folder) / MANIFEST).read_text()))
    except (OSError, ValueError, TypeError) as exc:
        raise BackupError(f"{folder} holds no readable {MANIFEST}: {exc}") from exc


def restore(folder: Path) -> Manifest:
    """Replace the database's contents and the instance folder's files by the backup's, then
    check every table's row count against the manifest."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    engine = _engine()
    kind = _kind(engine)
    if kind != manifest.database:
        raise BackupError(f"the backup is of a {manifest.database} database, this one is {kind}")
    db.session.remove()
    if kind == "postgresql":
        engine.dispose()
        _pg_command(
            engine, "pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
            str(folder / PG_DUMP),
        )  # fmt: skip
    else:
        engine.dispose()
        target = _sqlite_path(engine)
        target.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(folder / SQLITE_COPY, target)

    instance = Path(current_app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    with tarfile.open(folder / INSTANCE_ARCHIVE, "r:gz") as archive:
        # The "data" filter refuses absolute paths, "..", links out and device files.
        archive.extractall(instance, filter="data")

    restored = row_counts(engine)
    if restored != manifest.rows:
        differ = sorted(
            t
            for t in manifest.rows.keys() | restored.keys()
            if manifest.rows.get(t) != restored.get(t)
        )
        raise BackupError(f"restored row counts differ from the backup's in: {', '.join(differ)}")
    return manifest
