"""Celery: the workers that drain the outbox when a broker is configured.

``celery -A wsgi.celery worker`` (any number, on any machine) runs ``drain`` tasks; each takes
due outbox rows one at a time until none is left or it has done a batch. After a commit the app
enqueues enough ``drain`` tasks for the rows it wrote; ``sweep`` (Celery beat, or the worker's
embedded beat with ``-B``) enqueues them for rows whose enqueue was lost (the broker was down)
and for retries that fell due. The broker carries no data: the rows are the truth.
"""

import logging
import math
from urllib.parse import urlsplit, urlunsplit

from celery import Celery, Task, shared_task
from flask import Flask, current_app

from lms.core import outbox

log = logging.getLogger(__name__)

# The most drain tasks one commit or sweep enqueues: enough to keep every worker busy.
MAX_TASKS_PER_ENQUEUE = 32


def init_celery(app: Flask) -> Celery:
    """A Celery app whose tasks run inside this Flask app's context."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    broker = app.config.get("CELERY_BROKER_URL")
    celery = Celery(app.import_name, task_cls=FlaskTask, set_as_current=False)
    celery.conf.update(
        broker_url=broker or "memory://",
        task_ignore_result=True,
        # A task is acknowledged only once it ran: a killed worker's task is delivered again.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # Enqueueing happens after a request committed: never hang it on a broker that is down.
        broker_connection_timeout=app.config["CELERY_BROKER_TIMEOUT"],
        broker_connection_retry_on_startup=True,
        task_publish_retry=False,
        broker_transport_options={
            "socket_connect_timeout": app.config["CELERY_BROKER_TIMEOUT"],
            "socket_timeout": app.config["CELERY_BROKER_TIMEOUT"],
        },
        beat_schedule={
            "outbox-sweep": {
                "task": "lms.outbox.sweep",
                "schedule": app.config["OUTBOX_SWEEP_SECONDS"],
            }
        },
    )
    celery.conf.update(app.config.get("CELERY_OPTIONS") or {})
    app.extensions["celery"] = celery
    return celery


@shared_task(name="lms.outbox.drain")
def drain_task() -> int:
    return outbox.drain(limit=current_app.config["OUTBOX_BATCH"])


@shared_task(name="lms.outbox.sweep")
def sweep_task() -> int:
    due = outbox.count_due()
    if due:
        enqueue_drain(due)
    return due


def enqueue_drain(rows: int) -> None:
    """Enqueue drain tasks for ``rows`` due rows. A broker that cannot be reached is logged,
    never raised: the rows are committed, and the sweep enqueues them later."""
    celery = current_app.extensions["celery"]
    batch = current_app.config["OUTBOX_BATCH"]
    tasks = min(MAX_TASKS_PER_ENQUEUE, max(1, math.ceil(rows / batch)))
    try:
        with celery.connection_for_write() as connection:
            # Fail fast when the broker is down: sending alone would retry for seconds.
            connection.ensure_connection(max_retries=0)
            for _ in range(tasks):
                celery.send_task("lms.outbox.drain", connection=connection, retry=False)
    except Exception as exc:  # noqa: BLE001 (kombu raises many kinds; all mean "not now")
        log.error(
            "could not reach the Celery broker at %s (%s: %s); %s outbox rows wait for the sweep",
            redacted(current_app.config["CELERY_BROKER_URL"]),
            type(exc).__name__,
            exc,
            rows,
        )


def redacted(url: str) -> str:
    """A broker URL without its password, for logs."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url
