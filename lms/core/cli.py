"""The ``flask lms`` command group; each package adds its commands to it."""

import click
from flask import current_app
from flask.cli import AppGroup

lms_cli = AppGroup("lms", help="lms administration commands.")


def register(group: AppGroup) -> None:
    group.add_command(outbox_cli)


@click.group("outbox", invoke_without_command=True)
@click.pass_context
def outbox_cli(ctx):
    """Background work: pending, failed and done counts, and the last errors."""
    if ctx.invoked_subcommand is not None:
        return
    from lms.core import outbox

    stats = outbox.stats()
    click.echo(
        f"pending: {stats.pending} (waiting for a retry: {stats.waiting})  "
        f"failed: {stats.failed}  done: {stats.done}"
    )
    for item_id, kind, attempts, error in stats.last_errors:
        click.echo(f"  #{item_id} {kind}, {attempts} attempt(s): {error}")


@outbox_cli.command("retry")
def outbox_retry():
    """Make failed and waiting rows due now (without a broker: do them now)."""
    from lms.core import jobs, outbox

    changed = outbox.retry_now()
    if current_app.config.get("CELERY_BROKER_URL"):
        jobs.enqueue_drain(max(changed, 1))
        click.echo(f"{changed} row(s) due now; enqueued for the workers.")
    else:
        processed = outbox.drain()
        stats = outbox.stats()
        click.echo(
            f"{changed} row(s) due now; processed {processed}. "
            f"pending: {stats.pending}, failed: {stats.failed}"
        )
