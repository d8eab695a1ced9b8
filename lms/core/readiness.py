"""Readiness: can this process serve requests now? (``GET /readyz``)

``/healthz`` only says the process answers (liveness: restart it if not). ``/readyz`` checks
what a request needs: the database always, the Celery broker when one is configured. A load
balancer takes an instance that is not ready out of rotation instead of restarting it.
"""

import logging

import sqlalchemy as sa
from flask import current_app

from lms.core.extensions import db
from lms.core.jobs import redacted

log = logging.getLogger(__name__)


def check_database() -> str:
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        db.session.rollback()
        log.error("readiness: database unreachable (%s)", type(exc).__name__)
        return "unreachable"
    return "ok"


def check_broker() -> str:
    """Connect to the broker once, failing within CELERY_BROKER_TIMEOUT seconds."""
    celery = current_app.extensions["celery"]
    try:
        with celery.connection_for_write() as connection:
            connection.ensure_connection(max_retries=0)
    except Exception as exc:  # noqa: BLE001 (kombu raises many kinds; all mean "down")
        log.error(
            "readiness: Celery broker at %s unreachable (%s)",
            redacted(current_app.config["CELERY_BROKER_URL"]),
            type(exc).__name__,
        )
        return "unreachable"
    return "ok"


def readiness() -> tuple[bool, dict[str, str]]:
    """(ready, {check: "ok" | "unreachable"})"""
    checks = {"database": check_database()}
    if current_app.config.get("CELERY_BROKER_URL"):
        checks["broker"] = check_broker()
    return all(value == "ok" for value in checks.values()), checks
