"""The ``flask lms`` command group; each package adds its commands to it."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

lms_cli = AppGroup("lms", help="lms administration commands.")


def register(group: AppGroup) -> None:
    group.add_command(outbox_cli)
    group.add_command(backup_command)
    group.add_command(restore_command)
    group.add_command(migrations_cli)


@click.command("backup")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def backup_command(folder: Path):
    """Back up the database and the instance folder into FOLDER (new or empty)."""
    from lms.core import backup

    try:
        manifest = backup.backup(folder)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Backed up the {manifest.database} database (revision {manifest.revision}, "
        f"{sum(manifest.rows.values())} rows in {len(manifest.rows)} tables) and "
        f"{current_app.instance_path} into {folder}"
    )


@click.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(folder: Path, yes: bool):
    """Replace the database's contents and the instance folder's files by FOLDER's backup."""
    from lms.core import backup

    if not yes:
        click.confirm(
            f"Replace the database and the files of {current_app.instance_path} "
            f"with the backup in {folder}?",
            abort=True,
        )
    try:
        manifest = backup.restore(folder)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Restored the backup of {manifest.created_at} (revision {manifest.revision}); "
        f"row counts match in all {len(manifest.rows)} tables."
    )


@click.group("outbox", invoke_without_command=True)
@click.pass_context
def outbox_cli(ctx):
    """Background work: pending, failed and done counts, and the last errors."""
    if ctx.invoked_subcommand is not None:
        return
    from lms.core import outbox_admin

    stats = outbox_admin.stats()
    click.echo(
        f"pending: {stats.pending} (waiting for a retry: {stats.waiting})  "
        f"failed: {stats.failed}  done: {stats.done}"
    )
    for item_id, kind, attempts, error in stats.last_errors:
        click.echo(f"  #{item_id} {kind}, {attempts} attempt(s): {error}")


@outbox_cli.command("retry")
def outbox_retry():
    """Make failed and waiting rows due now (without a broker: do them now)."""
    from lms.core import jobs, outbox, outbox_admin

    changed = outbox_admin.retry_now()
    if current_app.config.get("CELERY_BROKER_URL"):
        jobs.enqueue_drain(max(changed, 1))
        click.echo(f"{changed} row(s) due now; enqueued for the workers.")
    else:
        processed = outbox.drain()
        stats = outbox_admin.stats()
        click.echo(
            f"{changed} row(s) due now; processed {processed}. "
            f"pending: {stats.pending}, failed: {stats.failed}"
        )


@click.group("migrations")
def migrations_cli():
    """Checks on the Alembic migrations."""


@migrations_cli.command("check")
@click.option(
    "--directory",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The migrations folder (default: the app's).",
)
def migrations_check(directory: Path | None):
    """List the migrations that would lock a large table for long on PostgreSQL; fail (exit 1)
    if one of them has no ``lock_review`` note."""
    from lms.core.migration_check import LARGE_TABLES, check

    folder = directory or Path(current_app.extensions["migrate"].directory)
    findings = check(folder)
    unreviewed = 0
    for revision in dict.fromkeys(f.revision for f in findings):
        mine = [f for f in findings if f.revision == revision]
        reviewed = mine[0].reviewed
        state = f"reviewed: {reviewed}" if reviewed else "NOT REVIEWED"
        click.echo(f"{revision} {mine[0].title.splitlines()[0]}  [{state}]")
        for finding in mine:
            where = f"{finding.table}: " if finding.table else ""
            click.echo(f"    {where}{finding.problem}")
            if finding.statement:
                click.echo(f"        {finding.statement}")
        unreviewed += 0 if reviewed else 1
    click.echo(
        f"{len(findings)} finding(s) on the large tables ({', '.join(LARGE_TABLES)}); "
        f"{unreviewed} revision(s) not reviewed."
    )
    if unreviewed:
        raise SystemExit(1)
