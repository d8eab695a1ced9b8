"""Which migrations would lock a large table for long on PostgreSQL (``flask lms migrations
check``).

Each revision's ``upgrade()`` is run by Alembic in offline mode for PostgreSQL, which writes the
SQL it would execute instead of executing it; the statements on the large tables are then
matched against the operations that hold a lock for as long as the table takes to scan,
rewrite or index:

* ``ALTER COLUMN ... TYPE``: rewrites the table (and its indexes) under an ACCESS EXCLUSIVE lock;
* ``ADD COLUMN ... NOT NULL`` without a ``DEFAULT``: fails on rows, or needs a rewrite;
* ``ALTER COLUMN ... SET NOT NULL``: scans the table under ACCESS EXCLUSIVE;
* ``CREATE INDEX`` without ``CONCURRENTLY``: blocks every write until the index is built;
* ``ADD CONSTRAINT`` (foreign key, check, unique) without ``NOT VALID``: scans under lock;
* ``UPDATE`` / ``DELETE`` of a large table: one long transaction holding row locks;
* a revision that reads data (``op.get_bind()``) cannot be run offline: it is listed so that
  somebody reads it.

Statements on a table the same revision creates are not flagged (it is empty). A revision
whose module sets ``lock_review = "why this is acceptable"`` is listed as reviewed and does
not fail the check.
"""

import io
import re
from dataclasses import dataclass
from pathlib import Path

from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory

# The tables that grow with the number of learners (or of requests): a lock held while one of
# them is scanned or rewritten stops the product.
LARGE_TABLES = ("users", "enrollments", "lesson_progress", "outbox")

_T = r'"?(?P<table>\w+)"?'
RULES = (
    ("changes a column's type (rewrites the table)", rf"^ALTER TABLE {_T} ALTER COLUMN .* TYPE "),
    (
        "adds a NOT NULL column without a default",
        rf"^ALTER TABLE {_T} ADD COLUMN (?!.*\bDEFAULT\b).*\bNOT NULL\b",
    ),
    (
        "sets NOT NULL (scans the table under lock)",
        rf"^ALTER TABLE {_T} ALTER COLUMN .* SET NOT NULL",
    ),
    (
        "creates an index without CONCURRENTLY (blocks writes)",
        rf"^CREATE (?:UNIQUE )?INDEX (?!CONCURRENTLY)(?:IF NOT EXISTS )?\S+ ON {_T}",
    ),
    (
        "adds a constraint without NOT VALID (scans under lock)",
        rf"^ALTER TABLE {_T} ADD (?:CONSTRAINT \S+ )?(?:FOREIGN KEY|CHECK|UNIQUE)(?!.*NOT VALID)",
    ),
    ("updates or deletes rows in one transaction", rf"^(?:UPDATE|DELETE FROM) {_T}"),
)
_CREATE_TABLE = re.compile(rf"^CREATE TABLE {_T}", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    revision: str
    title: str
    table: str | None
    problem: str
    statement: str
    reviewed: str | None  # the revision's lock_review, if any


def _statements(sql: str) -> list[str]:
    return [" ".join(part.split()) for part in sql.split(";\n") if part.strip()]


def scan_sql(sql: str, large_tables=LARGE_TABLES) -> list[tuple[str, str, str]]:
    """(table, problem, statement) for each risky statement of one revision's SQL."""
    statements = _statements(sql)
    created = {m.group("table") for s in statements if (m := _CREATE_TABLE.match(s))}
    found = []
    for statement in statements:
        for problem, pattern in RULES:
            match = re.match(pattern, statement, re.IGNORECASE)
            if match:
                table = match.group("table")
                if table in large_tables and table not in created:
                    found.append((table, problem, statement))
    return found


def check(migrations: Path, large_tables=LARGE_TABLES) -> list[Finding]:
    """Every finding of every revision in the ``migrations`` folder, oldest first."""
    config = Config()
    config.set_main_option("script_location", str(migrations))
    script = ScriptDirectory.from_config(config)
    buffer = io.StringIO()
    context = MigrationContext.configure(
        dialect_name="postgresql",
        opts={"as_sql": True, "output_buffer": buffer, "literal_binds": True},
    )
    findings = []
    with Operations.context(context):
        for revision in reversed(list(script.walk_revisions("base", "heads"))):
            module = revision.module
            title = (revision.doc or "").strip()
            reviewed = getattr(module, "lock_review", None)
            start = buffer.tell()
            try:
                module.upgrade()
                unscanned = None
            except Exception as exc:  # noqa: BLE001 (offline mode has no data to read)
                unscanned = f"reads data, so it cannot be checked offline ({type(exc).__name__})"
            for table, problem, statement in scan_sql(buffer.getvalue()[start:], large_tables):
                findings.append(
                    Finding(revision.revision, title, table, problem, statement[:200], reviewed)
                )
            if unscanned:
                findings.append(Finding(revision.revision, title, None, unscanned, "", reviewed))
            buffer.seek(0, io.SEEK_END)
    return findings
