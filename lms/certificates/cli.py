"""``flask lms certificates render [--missing|--all] [--workers N]``: PDFs in bulk.

Each worker is a process of its own (WeasyPrint is CPU-bound Python: threads would share one
GIL) with its own renderer, database connection and session; it renders the certificates it is
given one at a time and commits each PDF as it goes, so an interrupted run keeps what it did
and ``--missing`` picks up the rest.
"""

import multiprocessing
from collections.abc import Iterator

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from lms.certificates import pdfs
from lms.certificates.models import Certificate
from lms.core.extensions import db

CHUNK = 20  # certificates a worker takes at a time: small enough for a smooth progress bar


def register(group: AppGroup) -> None:
    certificates = AppGroup("certificates", help="Certificate PDFs.")
    group.add_command(certificates)

    @certificates.command("render")
    @click.option(
        "--missing/--all",
        default=True,
        help="Only certificates without a PDF (default), or every certificate again.",
    )
    @click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True)
    def render_command(missing: bool, workers: int) -> None:
        """Render certificate PDFs (after a template change: --all)."""
        query = sa.select(Certificate.id).order_by(Certificate.id)
        if missing:
            query = query.where(Certificate.pdf_rendered_at.is_(None))
        ids = list(db.session.scalars(query))
        db.session.commit()  # end the read (on SQLite a CLI transaction holds the write lock)
        if not ids:
            click.echo("Nothing to render.")
            return
        chunks = [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]
        rendered = 0
        with click.progressbar(length=len(ids), label="Rendering certificates") as bar:
            for count in _run(chunks, workers, force=not missing):
                rendered += count
                bar.update(count)
        click.echo(f"Rendered {rendered} certificate(s).")


def _run(chunks: list[list[int]], workers: int, *, force: bool) -> Iterator[int]:
    if workers == 1:
        for chunk in chunks:
            yield render_chunk(chunk, force)
        return
    app = current_app._get_current_object()
    db.engine.dispose()  # the children must not share this process's connections
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_start_worker, initargs=(app,)) as pool:
        yield from pool.imap_unordered(_render_chunk_in_worker, [(c, force) for c in chunks])


def render_chunk(ids: list[int], force: bool) -> int:
    """Render these certificates, committing each PDF. How many were rendered."""
    done = 0
    # Like the outbox's sessions: joining with savepoints keeps the test suite's outer
    # transaction (on an Engine, as in production, the mode changes nothing).
    with Session(bind=db.engine, join_transaction_mode="create_savepoint") as session:
        for certificate_id in ids:
            if pdfs.render_missing(session, certificate_id, force=force):
                done += 1
            session.commit()
    return done


_worker_app: Flask | None = None


def _start_worker(app: Flask) -> None:
    global _worker_app
    _worker_app = app
    with app.app_context():
        db.engine.dispose(close=False)  # connections inherited through fork stay the parent's


def _render_chunk_in_worker(task: tuple[list[int], bool]) -> int:
    ids, force = task
    with _worker_app.app_context():
        return render_chunk(ids, force)
